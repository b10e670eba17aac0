// fakewibwob: a fake WibWob-DOS IPC server for tests, the simulator's
// real-process twin and local sessions (docs/fakewibwob.md).
//
// Prints exactly `READY unix:<path>` on stdout once it accepts connections;
// logs go to stderr. Exits 0 on SIGTERM/SIGINT or a control-plane "exit".
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "fakewibwob/server/server.hpp"
#include "fixture/serve.hpp"
#include "protocol/socket_paths.hpp"
#include "wibwob/version.hpp"

namespace fw = wibwob::fakewibwob;

namespace {

// "COLSxROWS" within the sizes a terminal can sensibly have (a desktop
// needs room for one minimum-size window).
std::optional<fw::TerminalSize> parse_terminal_size(const std::string& text) {
  const auto x = text.find('x');
  if (x == std::string::npos || x == 0 || x + 1 == text.size()) return std::nullopt;
  const std::string cols = text.substr(0, x), rows = text.substr(x + 1);
  const auto digits = [](const std::string& s) { return s.size() <= 4 && s.find_first_not_of("0123456789") == std::string::npos; };
  if (!digits(cols) || !digits(rows)) return std::nullopt;
  fw::TerminalSize t{std::stoi(cols), std::stoi(rows)};
  if (t.cols < 16 || t.cols > 4096 || t.rows < 8 || t.rows > 4096) return std::nullopt;
  return t;
}

// The command line, as given.
struct Options {
  std::string socket_path;
  std::optional<int> instance;
  std::string secret;
  int ui_tick_ms = 20;
  int auth_timeout_ms = 1000;
  std::string layout_file;
  std::string control_path;
  std::string display_name;
  bool remove_socket = false;
  std::string log_level = "info";
  std::string log_format = "text";
  std::string terminal = "200x60";
  std::string app_dir = ".";
  std::uint64_t reuse_seed = 1;
  std::uint32_t reuse_percent = 50;
  bool no_id_reuse = false;
};

void add_options(CLI::App& cli, Options& o) {
  auto* sock_opt = cli.add_option("--socket", o.socket_path, "Unix socket path to listen on");
  cli.add_option("--instance", o.instance, "Listen on /tmp/wibwob_<N>.sock (like WIBWOB_INSTANCE)")
      ->excludes(sock_opt);
  cli.add_option("--secret", o.secret, "Require the auth handshake with this secret (default: env WIBWOB_AUTH_SECRET)");
  cli.add_option("--ui-tick-ms", o.ui_tick_ms, "Accept at most one connection per tick (the app: 20; 0 = fast tests)")
      ->check(CLI::Range(0, 10000));
  cli.add_option("--auth-timeout-ms", o.auth_timeout_ms, "Time per auth step (the app: 1000)")
      ->check(CLI::Range(1, 600000));
  cli.add_option("--layout", o.layout_file, "Open these windows at start and on restart (get_state JSON)");
  cli.add_option("--control", o.control_path, "Control-plane socket (JSON lines)");
  cli.add_option("--display-name", o.display_name, "Reply to room_chat_display_name");
  cli.add_flag("--remove-socket-on-exit", o.remove_socket, "Remove the socket file on exit (the app leaves it behind)");
  cli.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, off");
  cli.add_option("--log-format", o.log_format, "text, or json: one object per line (docs/architecture.md, Logging)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cli.add_option("--terminal", o.terminal,
                 "Terminal size COLSxROWS (default 200x60: canvas 200x59, windows arranged over 200x58)");
  cli.add_option("--app-dir", o.app_dir, "The app's folder: export_state's default path and save_workspace's target");
  cli.add_option("--id-reuse-seed", o.reuse_seed, "Seed of the id-reuse quirk (which freed ids come back)");
  cli.add_option("--id-reuse-percent", o.reuse_percent, "Chance that a freed id of the same type is reused")
      ->check(CLI::Range(0, 100));
  cli.add_flag("--no-id-reuse", o.no_id_reuse, "Never reuse an id within a process (the app does, after close_all)");
}

// The server's configuration from the options and the environment, or why
// not (exit status 2).
wibwob::protocol::Result<fw::ServerConfig> make_config(Options o) {
  using wibwob::protocol::Errc;
  using wibwob::protocol::make_error;
  fw::ServerConfig cfg;
  const auto size = parse_terminal_size(o.terminal);
  if (!size)
    return make_error(Errc::bad_value, "--terminal: expected COLSxROWS with 16 <= COLS <= 4096 and 8 <= ROWS <= 4096, got '" +
                                           o.terminal + "'");
  if (o.socket_path.empty()) {
    std::optional<std::string> instance;
    if (o.instance)
      instance = std::to_string(*o.instance);
    else if (const char* env = std::getenv("WIBWOB_INSTANCE"))
      instance = env;
    o.socket_path = wibwob::protocol::default_socket_path(instance);
  }
  cfg.socket_path = o.socket_path;
  cfg.control_path = o.control_path;
  if (o.secret.empty())
    if (const char* env = std::getenv("WIBWOB_AUTH_SECRET"); env && *env) o.secret = env;
  if (!o.secret.empty()) cfg.secret = o.secret;
  cfg.ui_tick = fw::Millis{o.ui_tick_ms};
  cfg.auth_step_timeout = fw::Millis{o.auth_timeout_ms};
  cfg.remove_socket_on_exit = o.remove_socket;
  cfg.core.display_name = o.display_name;
  cfg.core.terminal = *size;
  cfg.core.app_dir = o.app_dir;
  cfg.core.id_reuse = fw::IdReuse{!o.no_id_reuse, o.reuse_seed, o.reuse_percent};
  if (!o.layout_file.empty()) {
    auto layout = fw::load_layout_file(o.layout_file);
    if (!layout) return make_error(layout.error().code, "bad layout file " + o.layout_file + ": " + layout.error().message);
    cfg.layout = std::move(*layout);
  }
  return cfg;
}

// Runs the server until a signal or a control-plane exit; returns the exit status.
int serve(const fw::ServerConfig& cfg) {
  boost::asio::io_context io;
  fw::Server server(io, cfg);
  return wibwob::fixture::serve(io, server, [&] {
    spdlog::info("listening on {}{}{}", cfg.socket_path, cfg.secret ? " (auth on)" : "",
                 cfg.control_path.empty() ? "" : ", control on " + cfg.control_path);
    return "READY unix:" + cfg.socket_path;
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"fakewibwob: a faithful fake of the WibWob-DOS IPC server (see docs/fakewibwob.md)"};
  cli.set_version_flag("--version", std::string("fakewibwob ") + wibwob::version);
  Options options;
  add_options(cli, options);
  CLI11_PARSE(cli, argc, argv);

  wibwob::logging::configure_logging("fakewibwob", *wibwob::logging::parse_format(options.log_format),
                                     spdlog::level::from_str(options.log_level));
  // A client that vanishes must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  auto cfg = make_config(options);
  if (!cfg) {
    spdlog::error("{}", cfg.error().message);
    return 2;
  }
  return serve(*cfg);
}
