// The spawn plan: which processes each room gets and with which environment
// (shared/spec/rooms.md, "What the orchestrator gives the bridge"). Pure.
//
// Every room gets an app; a multiplayer room also gets a bridge. The app and
// the bridge of a room share a fresh auth secret per app start. A
// single-player room gets no bridge and none of the PartyKit variables
// (inherited ones are removed from its app's environment too).
//
// Commands are templates split on whitespace BEFORE substitution (no shell):
// a substituted value stays one argument whatever it contains. Placeholders:
// {instance_id} {room_id} {ttyd_port} {socket} {display_name} {layout_path}
// {partykit_room} {partykit_server}; `{{` and `}}` are literal braces.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/core/room_file.hpp"
#include "protocol/result.hpp"

namespace wibwob::orchestrator {

using EnvVar = std::pair<std::string, std::string>;

// What to exec: argv[0] is the program (a path, or a name looked up in PATH),
// `set` is added to the orchestrator's environment, `unset` removed from it.
struct Launch {
  std::vector<std::string> argv;
  std::vector<EnvVar> set;
  std::vector<std::string> unset;
  friend bool operator==(const Launch&, const Launch&) = default;
};

// A parsed command template. Unknown placeholders and unbalanced braces are
// errors at parse time, so `plan` reports them before anything starts.
struct CommandTemplate {
  std::vector<std::string> words;  // unsubstituted, validated
};
protocol::Result<CommandTemplate> parse_command_template(std::string_view text);
std::vector<std::string> expand(const CommandTemplate& t, const Room& room, const std::string& socket_path);

struct PlanOptions {
  // Directory of the IPC sockets. The app's default is /tmp; tests pass a
  // temp dir (and an app command that listens there).
  std::string socket_dir = "/tmp";
  CommandTemplate app_command;
  CommandTemplate bridge_command;
  // Directory of the children's log files (log_path_for); empty: children
  // inherit wibwob-rooms' stdout and stderr.
  std::string log_dir;
};

struct RoomPlan {
  Room room;
  std::string socket_path;  // <socket_dir>/wibwob_<instance_id>.sock
  bool bridge = false;
};
struct Plan {
  std::vector<RoomPlan> rooms;
  PlanOptions options;
};

Plan make_plan(std::vector<Room> rooms, PlanOptions options);

// The variables this project sets; every other variable is inherited.
inline constexpr const char* env_instance = "WIBWOB_INSTANCE";
inline constexpr const char* env_secret = "WIBWOB_AUTH_SECRET";
inline constexpr const char* env_partykit_url = "WIBWOB_PARTYKIT_URL";
inline constexpr const char* env_partykit_room = "WIBWOB_PARTYKIT_ROOM";
// The room's content folders for the bridge's path policy ("dir:dir", as
// PATH): the folder of each `preload_files` entry (relative entries are
// relative to the room file's folder). Windows from the room may open files
// there and nowhere else (docs/security.md).
inline constexpr const char* env_allow_paths = "WIBWOB_ALLOW_PATHS";
std::string content_folders(const Room& room);

// The app's launch for one start: WIBWOB_INSTANCE and the secret; PartyKit
// variables removed.
Launch app_launch(const Plan& plan, std::size_t room, const std::string& secret);
// The bridge's launch (multiplayer rooms only): WIBWOB_INSTANCE, the app's
// current secret, WIBWOB_PARTYKIT_URL and WIBWOB_PARTYKIT_ROOM.
Launch bridge_launch(const Plan& plan, std::size_t room, const std::string& secret);

// Where a child's stdout and stderr go: <log_dir>/<room_id>.<role>.log
// (role "app" or "bridge"); empty when options.log_dir is empty.
std::string log_path_for(const Plan& plan, std::size_t room, std::string_view role);

// A human-readable plan (the `plan` subcommand): rooms, who gets a bridge and
// the environment, with the secret shown as <fresh per start>.
std::string describe(const Plan& plan);

// 32 random bytes as 64 lowercase hex characters. The bytes come from the
// caller (the shell reads the OS's CSPRNG); this only formats and checks.
protocol::Result<std::string> secret_from_bytes(std::string_view bytes);

}  // namespace wibwob::orchestrator
