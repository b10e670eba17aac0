// Room files (shared/spec/rooms.md): `rooms/*.md`, markdown with a YAML
// frontmatter that describes one room. Parsing and validation, pure: text in,
// a Room and diagnostics out. No file system, no exceptions escape.
//
// Every rule of the spec is checked here, and the mistakes the earlier tool let
// through are reported instead of guessed around: unknown keys (with the close
// match: `multiplayr` -> `multiplayer`), a YAML bool where an integer belongs,
// duplicate keys, rooms that share room_id / instance_id / ttyd_port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wibwob::orchestrator {

enum class ApiKeySource { env, host_config, visitor_dialog };
const char* to_string(ApiKeySource s) noexcept;

struct Room {
  std::string source;        // the file it came from (for messages)
  std::string room_id;
  std::string display_name;  // default: room_id
  std::int64_t instance_id = 0;
  int ttyd_port = 0;
  std::optional<std::string> layout_path;
  ApiKeySource api_key_source = ApiKeySource::env;
  int max_visitors = 1;
  std::vector<std::string> preload_files;
  bool multiplayer = false;
  std::optional<std::string> partykit_room;
  std::optional<std::string> partykit_server;
  int max_players = 2;
  std::string body;          // the markdown after the frontmatter, untouched
};

// One finding. line is 1-based in the file, 0 when unknown.
struct Diagnostic {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  std::string source;
  int line = 0;
  std::string message;
  bool is_error() const noexcept { return severity == Severity::error; }
};
// "rooms/a.md:3: error: instance_id: ..."
std::string format(const Diagnostic& d);

struct RoomFileResult {
  std::optional<Room> room;             // set only when there is no error
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in file order
  bool ok() const noexcept { return room.has_value(); }
};

// Input limits: a room file is a page of markdown; anything near these is not one.
inline constexpr std::size_t max_room_file_bytes = 1024 * 1024;
inline constexpr std::size_t max_frontmatter_bytes = 64 * 1024;

// The keys rooms.md defines.
const std::vector<std::string_view>& known_keys();

// Parses and validates one room file. `source` names it in diagnostics.
RoomFileResult parse_room_file(std::string_view source, std::string_view text);

// Rules across the rooms of one start: room_id, instance_id and ttyd_port are
// each unique. Returns one error per clash, naming both files.
std::vector<Diagnostic> check_room_set(const std::vector<Room>& rooms);

// The closest known key to `key` when it is a plausible typo, else nullopt.
std::optional<std::string> suggest_key(std::string_view key);

}  // namespace wibwob::orchestrator
