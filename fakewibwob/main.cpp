// fakewibwob: a fake WibWob-DOS IPC server for tests, the simulator's
// real-process twin and local sessions (docs/fakewibwob.md).
//
// Prints exactly `READY unix:<path>` on stdout once it accepts connections;
// logs go to stderr. Exits 0 on SIGTERM/SIGINT or a control-plane "exit".
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "fakewibwob/server/server.hpp"
#include "wibwob/version.hpp"

namespace fw = wibwob::fakewibwob;

int main(int argc, char** argv) {
  CLI::App cli{"fakewibwob: a faithful fake of the WibWob-DOS IPC server (see docs/fakewibwob.md)"};
  cli.set_version_flag("--version", std::string("fakewibwob ") + wibwob::version);
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

  auto* sock_opt = cli.add_option("--socket", socket_path, "Unix socket path to listen on");
  cli.add_option("--instance", instance, "Listen on /tmp/wibwob_<N>.sock (like WIBWOB_INSTANCE)")
      ->excludes(sock_opt);
  cli.add_option("--secret", secret, "Require the auth handshake with this secret (default: env WIBWOB_AUTH_SECRET)");
  cli.add_option("--ui-tick-ms", ui_tick_ms, "Accept at most one connection per tick (the app: 20; 0 = fast tests)")
      ->check(CLI::Range(0, 10000));
  cli.add_option("--auth-timeout-ms", auth_timeout_ms, "Time per auth step (the app: 1000)")->check(CLI::Range(1, 600000));
  cli.add_option("--layout", layout_file, "Open these windows at start and on restart (get_state JSON)");
  cli.add_option("--control", control_path, "Control-plane socket (JSON lines)");
  cli.add_option("--display-name", display_name, "Reply to room_chat_display_name");
  cli.add_flag("--remove-socket-on-exit", remove_socket, "Remove the socket file on exit (the app leaves it behind)");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  CLI11_PARSE(cli, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("fakewibwob"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  // A client that vanishes must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  fw::ServerConfig cfg;
  if (socket_path.empty()) {
    if (!instance)
      if (const char* env = std::getenv("WIBWOB_INSTANCE"); env && *env) instance = std::atoi(env);
    socket_path = fw::default_socket_path(instance);
  }
  cfg.socket_path = socket_path;
  cfg.control_path = control_path;
  if (secret.empty())
    if (const char* env = std::getenv("WIBWOB_AUTH_SECRET"); env && *env) secret = env;
  if (!secret.empty()) cfg.secret = secret;
  cfg.ui_tick = fw::Millis{ui_tick_ms};
  cfg.auth_step_timeout = fw::Millis{auth_timeout_ms};
  cfg.remove_socket_on_exit = remove_socket;
  cfg.core.display_name = display_name;
  if (!layout_file.empty()) {
    auto layout = fw::load_layout_file(layout_file);
    if (!layout) {
      spdlog::error("bad layout file {}: {}", layout_file, layout.error().message);
      return 2;
    }
    cfg.layout = std::move(*layout);
  }

  boost::asio::io_context io;
  fw::Server server(io, cfg);
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  int exit_code = 0;
  server.on_exit = [&](int code) {
    exit_code = code;
    boost::system::error_code ec;
    signals.cancel(ec);
  };
  if (auto err = server.start()) {
    spdlog::error("{}", *err);
    return 1;
  }
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: exiting", sig);
    server.stop(0);
  });
  spdlog::info("listening on {}{}{}", cfg.socket_path, cfg.secret ? " (auth on)" : "",
               control_path.empty() ? "" : ", control on " + control_path);
  std::cout << "READY unix:" << cfg.socket_path << std::endl;  // endl: flushed for whoever waits on it
  io.run();
  return exit_code;
}
