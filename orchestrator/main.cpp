// wibwob-rooms: validates room files, prints the spawn plan, and runs one app
// per room plus a bridge per multiplayer room (docs/orchestrator.md).
//
//   wibwob-rooms check FILE...        validate room files
//   wibwob-rooms plan ROOMS_DIR       validate and print what start would run
//   wibwob-rooms start ROOMS_DIR      run and supervise until SIGTERM/SIGINT
//   wibwob-rooms status ROOMS_DIR     one line per room (or --json): app, bridge
//
// Exit status: 0 ok; 1 invalid room files or a bad option value; 2 a failure
// to run; `status`: 0 every room healthy, 1 not, 2 a usage error. Logs go to
// stderr; `plan`, `check` and `status` print their report on stdout.
// Each child's stdout and stderr go to its own file in --log-dir.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "orchestrator/core/plan.hpp"
#include "orchestrator/core/room_file.hpp"
#include "orchestrator/core/status.hpp"
#include "orchestrator/core/supervisor.hpp"
#include "orchestrator/io/process.hpp"
#include "orchestrator/io/runner.hpp"
#include "orchestrator/io/status_probe.hpp"
#include "wibwob/version.hpp"

namespace fs = std::filesystem;
using namespace wibwob::orchestrator;

namespace {

// Reads and validates the given files. Diagnostics go to stderr; returns
// the rooms, or nullopt when any file has an error.
std::optional<std::vector<Room>> load(const std::vector<std::string>& files) {
  std::vector<Room> rooms;
  bool failed = false;
  auto report = [&](const Diagnostic& d) {
    std::cerr << format(d) << "\n";
    failed = failed || d.is_error();
  };
  for (const auto& f : files) {
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) {
      report({Diagnostic::Severity::error, f, 0, "not a readable regular file"});
      continue;
    }
    const auto size = fs::file_size(f, ec);
    if (ec || size > max_room_file_bytes) {
      report({Diagnostic::Severity::error, f, 0,
              ec ? "cannot read: " + ec.message()
                 : "file is " + std::to_string(size) + " bytes; a room file may be at most " +
                       std::to_string(max_room_file_bytes)});
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) {
      report({Diagnostic::Severity::error, f, 0, "cannot read the file"});
      continue;
    }
    auto r = parse_room_file(f, text.str());
    for (const auto& d : r.diagnostics) report(d);
    if (r.room) rooms.push_back(std::move(*r.room));
  }
  for (const auto& d : check_room_set(rooms)) report(d);
  if (failed) return std::nullopt;
  return rooms;
}

std::optional<std::vector<std::string>> room_files(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    std::cerr << dir << ": error: cannot list the rooms directory: " << ec.message() << "\n";
    return std::nullopt;
  }
  for (const auto& e : it)
    if (e.path().extension() == ".md") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << dir << ": error: no room files (*.md) in this directory\n";
    return std::nullopt;
  }
  return files;
}

struct PlanFlags {
  std::string socket_dir = "/tmp";
  std::string app_cmd = "wibwob-dos";
  std::string bridge_cmd;
  std::string log_dir;
};

// --log-dir, or $STATE_DIRECTORY/logs under systemd (StateDirectory=; the
// first of its colon-separated list), or ROOMS_DIR/logs.
std::string default_log_dir(const std::string& rooms_dir) {
  if (const char* state = std::getenv("STATE_DIRECTORY"); state && *state) {
    const std::string first(state, std::strcspn(state, ":"));
    if (!first.empty()) return first + "/logs";
  }
  std::string dir = rooms_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/logs";
}

void add_plan_flags(CLI::App* cmd, PlanFlags& f) {
  cmd->add_option("--socket-dir", f.socket_dir,
                  "directory of the apps' IPC sockets wibwob_<instance_id>.sock (the app's is /tmp; tests use a "
                  "temp dir with an app command that listens on {socket})")
      ->capture_default_str();
  cmd->add_option("--app-cmd", f.app_cmd,
                  "app command template, split on whitespace, then placeholders substituted: {instance_id} "
                  "{room_id} {ttyd_port} {socket} {display_name} {layout_path} {partykit_room} {partykit_server}")
      ->capture_default_str();
  cmd->add_option("--bridge-cmd", f.bridge_cmd,
                  "bridge command template (same placeholders; default: the wibwob-bridge next to this binary, "
                  "with --socket {socket})");
  cmd->add_option("--log-dir", f.log_dir,
                  "directory of the children's output, DIR/<room_id>.app.log and DIR/<room_id>.bridge.log, "
                  "appended to, never rotated (default: $STATE_DIRECTORY/logs under systemd, else ROOMS_DIR/logs)");
}

std::optional<Plan> build_plan(const std::string& rooms_dir, const PlanFlags& f, bool warn_socket_dir = true) {
  auto app = parse_command_template(f.app_cmd);
  if (!app) {
    std::cerr << "error: --app-cmd: " << app.error().message << "\n";
    return std::nullopt;
  }
  std::string bridge_text = f.bridge_cmd;
  if (bridge_text.empty()) {
    const auto dir = executable_dir();
    bridge_text = (dir ? *dir + "/" : std::string()) + "wibwob-bridge --socket {socket}";
  }
  auto bridge = parse_command_template(bridge_text);
  if (!bridge) {
    std::cerr << "error: --bridge-cmd: " << bridge.error().message << "\n";
    return std::nullopt;
  }
  auto files = room_files(rooms_dir);
  if (!files) return std::nullopt;
  auto rooms = load(*files);
  if (!rooms) return std::nullopt;
  PlanOptions o;
  o.socket_dir = f.socket_dir;
  o.app_command = *app;
  o.bridge_command = *bridge;
  o.log_dir = f.log_dir.empty() ? default_log_dir(rooms_dir) : f.log_dir;
  if (warn_socket_dir && f.socket_dir != "/tmp" && f.app_cmd.find("{socket}") == std::string::npos)
    std::cerr << "warning: --socket-dir is " << f.socket_dir
              << " but the app command has no {socket}: the app will listen in /tmp and never answer the probe\n";
  return make_plan(std::move(*rooms), std::move(o));
}

// Creates the log directory when missing; an error when it is unusable.
wibwob::protocol::Result<void> prepare_log_dir(const std::string& dir) {
  using wibwob::protocol::Errc;
  using wibwob::protocol::make_error;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(Errc::io_failed, "cannot create the log directory " + dir + ": " + ec.message());
  if (!fs::is_directory(dir, ec)) return make_error(Errc::io_failed, "the log directory " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return make_error(Errc::io_failed, "cannot write to the log directory " + dir + ": " + std::strerror(errno));
  return {};
}

struct StatusFlags {
  std::string rooms_dir;
  PlanFlags plan;
  bool json = false;
};

CLI::App* add_status_cmd(CLI::App& cli, StatusFlags& f) {
  auto* cmd = cli.add_subcommand(
      "status", "one line per room: app up (its socket accepts a connection), bridge connected and synced, room "
                "version, windows, last error, uptime; exit 0 only if every room is healthy, 1 if not, 2 on a usage "
                "error");
  cmd->add_option("rooms_dir", f.rooms_dir, "directory of room files (as given to start)")->required();
  cmd->add_option("--socket-dir", f.plan.socket_dir,
                  "directory of the apps' IPC sockets (as given to start); each bridge's status socket is "
                  "wibwob_<instance_id>.bridge.sock there")
      ->capture_default_str();
  cmd->add_option("--log-dir", f.plan.log_dir, "the children's log directory (as given to start), named in the output");
  cmd->add_flag("--json", f.json, "one JSON document: an array of room objects (docs/orchestrator.md, \"status\")");
  return cmd;
}

int run_status(const StatusFlags& f) {
  auto plan = build_plan(f.rooms_dir, f.plan, /*warn_socket_dir=*/false);
  if (!plan) return 2;
  const auto rooms = collect_status(*plan);
  if (f.json) {
    std::cout << status_json(rooms);
  } else {
    for (const auto& r : rooms) std::cout << status_line(r) << "\n";
  }
  return std::all_of(rooms.begin(), rooms.end(), [](const RoomStatus& r) { return healthy(r); }) ? 0 : 1;
}

// --- check, plan, start: each command's flags and run -------------------------------

struct CheckFlags {
  std::vector<std::string> files;
};

CLI::App* add_check_cmd(CLI::App& cli, CheckFlags& f) {
  auto* cmd = cli.add_subcommand("check", "validate room files (every rule of the room-file spec)");
  cmd->add_option("files", f.files, "room files (*.md)")->required();
  return cmd;
}

int run_check(const CheckFlags& f) {
  auto rooms = load(f.files);
  if (!rooms) return 1;
  for (const auto& r : *rooms)
    std::cout << "ok: " << r.source << " (room " << r.room_id << ", instance " << r.instance_id
              << (r.multiplayer ? ", multiplayer: gets a bridge" : ", single-player: no bridge") << ")\n";
  return 0;
}

struct PlanCmdFlags {
  std::string rooms_dir;
  PlanFlags plan;
};

CLI::App* add_plan_cmd(CLI::App& cli, PlanCmdFlags& f) {
  auto* cmd = cli.add_subcommand("plan", "validate ROOMS_DIR/*.md and print what `start` would run");
  cmd->add_option("rooms_dir", f.rooms_dir, "directory of room files")->required();
  add_plan_flags(cmd, f.plan);
  return cmd;
}

int run_plan(const PlanCmdFlags& f) {
  auto plan = build_plan(f.rooms_dir, f.plan);
  if (!plan) return 1;
  std::cout << describe(*plan);
  return 0;
}

struct StartFlags {
  std::string rooms_dir;
  PlanFlags plan;
  std::int64_t grace_ms = 5000;
  std::int64_t ready_ms = 20000;
};

CLI::App* add_start_cmd(CLI::App& cli, StartFlags& f) {
  auto* cmd = cli.add_subcommand("start", "run every room's app (and bridge) until SIGTERM/SIGINT");
  cmd->add_option("rooms_dir", f.rooms_dir, "directory of room files")->required();
  add_plan_flags(cmd, f.plan);
  cmd->add_option("--stop-grace-ms", f.grace_ms, "SIGTERM -> SIGKILL grace when stopping")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  cmd->add_option("--app-ready-timeout-ms", f.ready_ms,
                  "restart an app that has not answered an authenticated get_state by then")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600000));
  return cmd;
}

int run_start(const StartFlags& f) {
  auto plan = build_plan(f.rooms_dir, f.plan);
  if (!plan) return 1;
  if (auto prepared = prepare_log_dir(plan->options.log_dir); !prepared) {
    spdlog::error("{} (choose another with --log-dir)", prepared.error().message);
    return 2;
  }
  SupervisorConfig config;
  config.stop_grace = Ms{f.grace_ms};
  config.app_ready_timeout = Ms{f.ready_ms};
  config.seed = std::random_device{}();
  try {
    boost::asio::io_context io;
    Runner runner(io, std::move(*plan), config);
    runner.run();
  } catch (const std::exception& e) {
    spdlog::error("cannot run: {}", e.what());
    return 2;
  }
  spdlog::info("bye");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"wibwob-rooms: one WibWob-DOS app per room file, plus a wibwob-bridge sidecar per multiplayer room "
               "(see docs/orchestrator.md)"};
  cli.set_version_flag("--version", std::string("wibwob-rooms ") + wibwob::version);
  cli.require_subcommand(1);
  std::string log_level = "info";
  cli.add_option("--log-level", log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  std::string log_format = "text";
  cli.add_option("--log-format", log_format, "text, or json: one object per line (docs/architecture.md, Logging)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  CheckFlags check_flags;
  auto* check = add_check_cmd(cli, check_flags);
  PlanCmdFlags plan_flags;
  auto* plan = add_plan_cmd(cli, plan_flags);
  StartFlags start_flags;
  add_start_cmd(cli, start_flags);
  StatusFlags status_flags;
  auto* status = add_status_cmd(cli, status_flags);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = cli.exit(e);
    return rc == 0 ? 0 : status->parsed() ? 2 : 1;
  }

  wibwob::logging::configure_logging("rooms", *wibwob::logging::parse_format(log_format),
                                     spdlog::level::from_str(log_level), "%Y-%m-%dT%H:%M:%S.%e %^%l%$ rooms: %v");
  if (*check) return run_check(check_flags);
  if (*status) return run_status(status_flags);
  if (*plan) return run_plan(plan_flags);
  return run_start(start_flags);
}
