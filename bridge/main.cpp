// wibwob-bridge: the sidecar beside one WibWob-DOS instance. A drop-in
// replacement for the earlier Python bridge: the same environment variables
// (flags override them).
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "bridge/io/runtime.hpp"
#include "wibwob/version.hpp"

namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

bool env_flag(const char* name) {
  auto v = env(name);
  return v && (*v == "1" || *v == "true" || *v == "yes" || *v == "TRUE" || *v == "YES" || *v == "True");
}

std::string random_origin() {
  std::random_device rd;
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 8; ++i) s += alphabet[std::uniform_int_distribution<int>(0, 35)(rd)];
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wibwob::bridge;
  CLI::App cli{
      "wibwob-bridge: keeps this WibWob-DOS instance's window layout in sync with a PartyKit room.\n"
      "Environment (as the earlier Python bridge): WIBWOB_INSTANCE, WIBWOB_AUTH_SECRET, WIBWOB_PARTYKIT_URL,\n"
      "WIBWOB_PARTYKIT_ROOM, WIBWOB_NO_STATE_SYNC, WIBWOB_LEGACY_CHAT, WIBWOB_AI_RELAY. Flags override them."};
  cli.set_version_flag("--version", std::string("wibwob-bridge ") + wibwob::version);
  std::string socket, url = env("WIBWOB_PARTYKIT_URL").value_or(""), room = env("WIBWOB_PARTYKIT_ROOM").value_or("");
  std::string origin, ca_file, log_level = "info";
  std::int64_t poll_ms = 250, status_ms = 10000;
  std::vector<std::string> allowed_paths;
  bool no_state_sync = env_flag("WIBWOB_NO_STATE_SYNC");
  bool no_chat = false;
  cli.add_option("--socket", socket, "IPC socket path (default: /tmp/wibwob_$WIBWOB_INSTANCE.sock, else /tmp/wwdos.sock)");
  cli.add_option("--url", url, "room server: http(s):// or ws(s):// URL (WIBWOB_PARTYKIT_URL)");
  cli.add_option("--room", room, "room name (WIBWOB_PARTYKIT_ROOM)");
  cli.add_option("--poll-ms", poll_ms, "get_state poll interval in ms")->capture_default_str()->check(CLI::Range(10, 60000));
  cli.add_option("--origin", origin, "room-id prefix for this bridge's windows (default: random)");
  cli.add_option("--ca-file", ca_file, "extra CA certificate (PEM) to trust for wss://");
  cli.add_option("--allow-path", allowed_paths, "only create path windows under this prefix (repeatable; default: any absolute path)");
  cli.add_option("--status-ms", status_ms, "status line interval in ms (0: none)")->capture_default_str();
  cli.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cli.add_flag("--no-state-sync", no_state_sync, "chat and presence only (WIBWOB_NO_STATE_SYNC)");
  cli.add_flag("--no-chat", no_chat, "do not relay room chat and presence");
  CLI11_PARSE(cli, argc, argv);

  auto logger = spdlog::stderr_color_mt("bridge");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ bridge: %v");
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (url.empty() || room.empty()) {
    spdlog::error("no room configured: set WIBWOB_PARTYKIT_URL and WIBWOB_PARTYKIT_ROOM (or --url and --room)");
    return 2;
  }
  auto endpoint = parse_room_endpoint(url, room);
  if (!endpoint) {
    spdlog::error("bad room configuration: {}", wibwob::protocol::to_string(endpoint.error()));
    return 2;
  }
  if (env_flag("WIBWOB_LEGACY_CHAT"))
    spdlog::info("WIBWOB_LEGACY_CHAT is set: accepted for compatibility; chat uses room_chat_receive as before");
  if (env_flag("WIBWOB_AI_RELAY"))
    spdlog::warn("WIBWOB_AI_RELAY is set: the AI relay is not part of this bridge and is ignored");

  BridgeConfig c;
  c.ipc.socket_path = socket.empty() ? default_socket_path(env("WIBWOB_INSTANCE")) : socket;
  c.ipc.secret = env("WIBWOB_AUTH_SECRET");
  c.engine.origin = origin.empty() ? random_origin() : origin;
  c.engine.poll_interval = Ms(poll_ms);
  c.engine.sync_layout = !no_state_sync;
  c.engine.relay_chat = !no_chat;
  c.engine.allowed_path_prefixes = allowed_paths;
  c.engine.seed = std::random_device{}();
  c.room.endpoint = *endpoint;
  if (!ca_file.empty()) c.room.ca_file = ca_file;
  c.status_interval = Ms(status_ms);

  boost::asio::io_context io;
  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(io, c);
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return 2;
  }
  // Shutdown is cancellation: the signal cancels the runtime's scope, every
  // loop ends at its next await, the room connection sends its close frame
  // (bounded by its close timeout) and run() returns when nothing is left.
  boost::asio::cancellation_signal stop;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    stop.emit(boost::asio::cancellation_type::terminal);
  });
  boost::asio::co_spawn(io, runtime->run(), boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
    signals.cancel();
    if (e) std::rethrow_exception(e);
  }));
  try {
    io.run();
  } catch (const std::exception& e) {
    spdlog::critical("internal error, exiting: {}", e.what());
    return 70;  // EX_SOFTWARE
  }
  return 0;
}
