// wibwob-bridge: the sidecar beside one WibWob-DOS instance. A drop-in
// replacement for the earlier Python bridge: the same environment variables
// (flags override them), plus safe defaults against a hostile room
// (docs/security.md).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "bridge/core/status.hpp"
#include "bridge/io/local_paths.hpp"
#include "bridge/io/runtime.hpp"
#include "bridge/io/tls_module.hpp"
#include "common/logging.hpp"
#include "protocol/socket_paths.hpp"
#include "wibwob/version.hpp"

namespace {

using namespace wibwob::bridge;

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

// --status PATH: one JSON line from a running bridge, shown for a person.
int print_status(const std::string& path) {
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket s(io);
  boost::system::error_code ec;
  s.connect(path, ec);
  if (ec) {
    std::fprintf(stderr, "wibwob-bridge: no bridge answers on %s (%s)\n", path.c_str(), ec.message().c_str());
    return 1;
  }
  std::string line;
  boost::asio::async_read_until(s, boost::asio::dynamic_buffer(line, 1 << 20), '\n',
                                [](boost::system::error_code, std::size_t) {});
  io.run_for(std::chrono::seconds(2));  // a hung bridge does not hang this
  auto st = wibwob::protocol::Json::parse(line, nullptr, false);
  if (!st.is_object()) {
    std::fprintf(stderr, "wibwob-bridge: %s did not answer with a status object\n", path.c_str());
    return 1;
  }
  std::fputs(describe_status(st).c_str(), stdout);
  return st.value("synced", false) ? 0 : 1;
}

// WIBWOB_ALLOW_PATHS: folders separated by ':' (as PATH).
std::vector<std::string> split_path_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ':');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Options {
  std::string socket, url = env("WIBWOB_PARTYKIT_URL").value_or("");
  std::string room = env("WIBWOB_PARTYKIT_ROOM").value_or("");
  std::string origin, ca_file, secret_file, log_level = "info", log_format = "text";
  std::string status_socket;  // default: derived from the IPC socket
  std::string handover_file;  // default: derived from the IPC socket
  std::string query_status;   // --status PATH: print a running bridge's status
  std::int64_t poll_ms = 250, status_ms = 10000;
  std::vector<std::string> allowed_paths;  // --allow-path: each must exist
  std::vector<std::string> env_paths = split_path_list(env("WIBWOB_ALLOW_PATHS").value_or(""));
  bool no_state_sync = env_flag("WIBWOB_NO_STATE_SYNC");
  bool no_chat = false;
  EngineConfig limits;  // only the bounds are read from it
};

void add_options(CLI::App& cli, Options& o) {
  cli.add_option("--socket", o.socket, "IPC socket path (default: /tmp/wibwob_$WIBWOB_INSTANCE.sock, else /tmp/wwdos.sock)");
  cli.add_option("--url", o.url, "room server: http(s):// or ws(s):// URL (WIBWOB_PARTYKIT_URL)");
  cli.add_option("--room", o.room, "room name (WIBWOB_PARTYKIT_ROOM)");
  cli.add_option("--secret-file", o.secret_file,
                 "read the IPC auth secret from this file (mode 0600, owned by you) instead of WIBWOB_AUTH_SECRET");
  cli.add_option("--poll-ms", o.poll_ms, "get_state poll interval in ms")->capture_default_str()->check(CLI::Range(10, 60000));
  cli.add_option("--origin", o.origin, "room-id prefix for this bridge's windows (default: random)");
  cli.add_option("--ca-file", o.ca_file, "extra CA certificate (PEM) to trust for wss:// (certificates and host names are always verified)");
  cli.add_option("--allow-path", o.allowed_paths,
                 "a folder whose files windows from the room may open (repeatable; also WIBWOB_ALLOW_PATHS=dir:dir). "
                 "Default: none, so remote text_view/frame_player windows are not opened");
  cli.add_option("--max-room-windows", o.limits.max_room_windows, "windows from the room shown at once")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  cli.add_option("--max-ipc-per-second", o.limits.max_ipc_per_second,
                 "IPC requests to the app per second (it serves 50; 0: unbounded)")->capture_default_str()->check(CLI::Range(0.0, 1000.0));
  cli.add_option("--max-chat-per-second", o.limits.max_chat_per_second, "room chat lines shown per second (0: unbounded)")
      ->capture_default_str()->check(CLI::Range(0.0, 1000.0));
  cli.add_option("--max-presence", o.limits.max_presence, "participants shown in the presence list")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cli.add_option("--status-socket", o.status_socket,
                 "answer each connection with one JSON status object (default: the IPC socket's path with "
                 "'.sock' -> '.bridge.sock'; 'none': no status socket)");
  cli.add_option("--handover-file", o.handover_file,
                 "where this bridge keeps its window mapping for the next bridge run beside the same app, so a "
                 "restart neither duplicates nor loses windows (default: the IPC socket's path with '.sock' -> "
                 "'.bridge.handover'; 'none': match by content after a restart)");
  cli.add_option("--status", o.query_status, "print the status of the bridge whose status socket is PATH, then exit");
  cli.add_option("--status-ms", o.status_ms, "status line interval in ms (0: none)")->capture_default_str();
  cli.add_option("--log-level", o.log_level, "debug, info, warn or error")->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cli.add_option("--log-format", o.log_format, "text, or json: one object per line (docs/architecture.md, Logging)")
      ->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  cli.add_flag("--no-state-sync", o.no_state_sync, "chat and presence only (WIBWOB_NO_STATE_SYNC)");
  cli.add_flag("--no-chat", o.no_chat, "do not relay room chat and presence");
}

// The engine's view of the flags; errors are for the operator, verbatim.
wibwob::protocol::Result<BridgeConfig> make_config(const Options& o) {
  using wibwob::protocol::Errc;
  using wibwob::protocol::make_error;
  if (o.url.empty() || o.room.empty())
    return make_error(Errc::missing_field, "no room configured: set WIBWOB_PARTYKIT_URL and WIBWOB_PARTYKIT_ROOM (or --url and --room)");
  auto endpoint = parse_room_endpoint(o.url, o.room);
  if (!endpoint) return make_error(Errc::bad_value, "bad room configuration: " + wibwob::protocol::to_string(endpoint.error()));
  BridgeConfig c;
  c.engine = o.limits;
  std::vector<std::string> folders;
  for (const auto& dir : o.allowed_paths) {
    auto canonical = canonical_folder(dir);
    if (!canonical) return canonical.error();
    folders.push_back(std::move(*canonical));
  }
  // The orchestrator's content folders: one that is missing allows nothing
  // and is worth a warning, not a bridge that cannot start.
  for (const auto& dir : o.env_paths) {
    if (auto canonical = canonical_folder(dir))
      folders.push_back(std::move(*canonical));
    else
      spdlog::warn("WIBWOB_ALLOW_PATHS: {}; ignored", canonical.error().message);
  }
  c.engine.paths = PathPolicy(std::move(folders), filesystem_resolver());
  c.ipc.socket_path = o.socket.empty() ? wibwob::protocol::default_socket_path(env("WIBWOB_INSTANCE")) : o.socket;
  c.ipc.secret = env("WIBWOB_AUTH_SECRET");
  if (!o.secret_file.empty()) {
    auto secret = read_secret_file(o.secret_file);
    if (!secret) return secret.error();
    c.ipc.secret = std::move(*secret);
  }
  c.engine.origin = o.origin.empty() ? random_origin() : o.origin;
  c.engine.poll_interval = Ms(o.poll_ms);
  c.engine.sync_layout = !o.no_state_sync;
  c.engine.relay_chat = !o.no_chat;
  c.engine.seed = std::random_device{}();
  c.room.endpoint = *endpoint;
  if (!o.ca_file.empty()) c.room.ca_file = o.ca_file;
  c.status_interval = Ms(o.status_ms);
  c.status_socket = o.status_socket == "none" ? std::string() : o.status_socket.empty() ? wibwob::protocol::bridge_status_path(c.ipc.socket_path)
                                                                                         : o.status_socket;
  c.handover_file = o.handover_file == "none"  ? std::string()
                    : o.handover_file.empty() ? wibwob::protocol::bridge_handover_path(c.ipc.socket_path)
                                              : o.handover_file;
  if (!c.handover_file.empty()) {
    auto text = read_handover_file(c.handover_file);
    auto handover = text ? decode_handover(*text, c.engine.limits) : wibwob::protocol::Result<Handover>(text.error());
    if (handover)
      c.engine.handover = std::move(*handover);
    else if (!text || !text->empty())
      spdlog::warn("ignoring the last bridge run's handover '{}' ({}); matching the app's windows to the room's by content",
                   c.handover_file, wibwob::protocol::to_string(handover.error()));
  }
  c.engine.app_key = socket_identity(c.ipc.socket_path);
  c.engine.room_key = endpoint->url_for_logs;
  return c;
}

void log_start(const BridgeConfig& c) {
  if (env_flag("WIBWOB_LEGACY_CHAT"))
    spdlog::info("WIBWOB_LEGACY_CHAT is set: accepted for compatibility; chat uses room_chat_receive as before");
  if (env_flag("WIBWOB_AI_RELAY"))
    spdlog::warn("WIBWOB_AI_RELAY is set: the AI relay is not part of this bridge and is ignored");
  const auto& allowed = c.engine.paths.allowed();
  std::string folders;
  for (const auto& f : allowed) folders += (folders.empty() ? "" : ", ") + f;
  spdlog::info("path windows from the room: {}", allowed.empty() ? "none opened (no --allow-path)" : "only under " + folders);
  spdlog::info("bounds: {} windows from the room, {}/s IPC requests, {}/s chat lines, {} participants; auth {}",
               c.engine.max_room_windows, c.engine.max_ipc_per_second, c.engine.max_chat_per_second,
               c.engine.max_presence, c.ipc.secret ? "on" : "off");
}

// Runs until SIGINT/SIGTERM. Shutdown is cancellation: the signal cancels the
// runtime's scope, every loop ends at its next await, the room connection
// sends its close frame (bounded by its close timeout) and run() returns when
// nothing is left. An exception from any loop is a bug: exit 70.
int run(BridgeConfig c) {
  boost::asio::io_context io;
  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(io, std::move(c));
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return 2;
  }
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "wibwob-bridge: keeps this WibWob-DOS instance's window layout in sync with a PartyKit room.\n"
      "Environment (as the earlier Python bridge): WIBWOB_INSTANCE, WIBWOB_AUTH_SECRET, WIBWOB_PARTYKIT_URL,\n"
      "WIBWOB_PARTYKIT_ROOM, WIBWOB_NO_STATE_SYNC, WIBWOB_LEGACY_CHAT, WIBWOB_AI_RELAY; and WIBWOB_ALLOW_PATHS.\n"
      "Flags override them. Exit status: 0 after SIGINT/SIGTERM, 2 on bad configuration, 70 on an internal error."};
  // The second line says whether wss:// rooms can work here (the TLS module,
  // bridge/io/tls_module.hpp); only --version loads it for a ws:// bridge.
  cli.set_version_flag("--version",
                       [] { return std::string("wibwob-bridge ") + wibwob::version + "\n" + wibwob::bridge::tls_support(); });
  Options options;
  add_options(cli, options);
  CLI11_PARSE(cli, argc, argv);
  if (!options.query_status.empty()) return print_status(options.query_status);

  wibwob::logging::configure_logging("bridge", *wibwob::logging::parse_format(options.log_format),
                                     spdlog::level::from_str(options.log_level),
                                     "%Y-%m-%dT%H:%M:%S.%e %^%l%$ bridge: %v");

  auto config = make_config(options);
  if (!config) {
    spdlog::error("{}", config.error().message);
    return 2;
  }
  log_start(*config);
  return run(std::move(*config));
}
