// mockparty: a faithful mock of the PartyKit room server, with fault
// injection, for tests, benchmarks and local sessions (docs/mockparty.md).
//
// Prints exactly `READY ws://<host>:<port>` (or wss://) on stdout, flushed,
// once it accepts connections; logs go to stderr; the message log (--log) to
// a file or, with "-", to stdout after the READY line. SIGTERM/SIGINT or a
// control "exit": clean exit.
#include <csignal>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "fixture/serve.hpp"
#include "mockparty/server/server.hpp"
#include "wibwob/version.hpp"

namespace mp = wibwob::mockparty;

int main(int argc, char** argv) {
  CLI::App cli{"mockparty: a faithful mock of the PartyKit room server (see docs/mockparty.md)"};
  cli.set_version_flag("--version", std::string("mockparty ") + wibwob::version);
  mp::ServerConfig cfg;
  std::string log_level = "warn";
  bool ideal = false;
  mp::Defects& d = cfg.core.defects;
  int handshake_ms = 10000;

  cli.add_option("--host", cfg.host, "Address to listen on")->capture_default_str();
  cli.add_option("--port", cfg.port, "Port to listen on; 0 = ephemeral (see the READY line)")->capture_default_str();
  cli.add_option("--tls-cert", cfg.tls_cert, "PEM certificate chain: serve wss://")->check(CLI::ExistingFile);
  cli.add_option("--tls-key", cfg.tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  cli.add_option("--state-dir", cfg.state_dir, "Keep each room's state in DIR across restarts (default: memory)");
  cli.add_option("--log", cfg.log_path, "Message log as JSON lines to FILE, or - for stdout");
  cli.add_option("--control", cfg.control_path, "Control socket (Unix, JSON lines) for faults and observation");
  cli.add_option("--handshake-timeout-ms", handshake_ms, "TLS + HTTP upgrade deadline")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  cli.add_option("--max-state-bytes", cfg.core.max_state_bytes, "The real server's state size limit")
      ->capture_default_str();
  // Each defect of the real server, on by default (faithful); =false turns one off.
  cli.add_option("--leave-count-off-by-one", d.leave_count_off_by_one,
                 "presence leave reports one connection too few")
      ->capture_default_str();
  cli.add_option("--no-close-reply", d.no_close_reply, "never answer a client's close frame")->capture_default_str();
  cli.add_option("--duplicate-pk-ghost", d.duplicate_pk_ghost,
                 "a reused _pk of an open socket makes the new socket a ghost (no broadcasts)")
      ->capture_default_str();
  cli.add_option("--state-limit-silent", d.state_limit_silent,
                 "over --max-state-bytes: memory changes, nothing saved or broadcast")
      ->capture_default_str();
  cli.add_flag("--ideal", ideal, "turn every defect off (an ideal server)");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  std::string log_format = "text";
  cli.add_option("--log-format", log_format, "text, or json: one object per line (docs/architecture.md, Logging)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(cli, argc, argv);

  if (ideal) d = mp::Defects::none();
  cfg.handshake_timeout = std::chrono::milliseconds(handshake_ms);
  wibwob::logging::configure_logging("mockparty", *wibwob::logging::parse_format(log_format),
                                     spdlog::level::from_str(log_level));
  std::signal(SIGPIPE, SIG_IGN);  // a vanished client must not kill us

  boost::asio::io_context io(1);
  mp::Server server(io, cfg);
  return wibwob::fixture::serve(io, server, [&] { return "READY " + server.url(); });
}
