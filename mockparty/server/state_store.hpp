// StateStore: one file per room under a directory, like the real server's
// one SQLite file per room. File name: the percent-encoded room name plus
// ".json"; content: {"windows":{...},"version":N}. Saves write a temp file
// and rename it over the old one, so a crash leaves the old or the new state,
// never half of one. Synchronous, on the caller's thread.
#pragma once

#include <optional>
#include <string>

#include "protocol/result.hpp"
#include "protocol/window.hpp"

namespace wibwob::mockparty {

class StateStore {
 public:
  // Creates the directory if needed; an error message when it cannot.
  static protocol::Result<StateStore> open(const std::string& dir);

  // nullopt: no file for this room. Error: unreadable or corrupt file.
  protocol::Result<std::optional<protocol::RoomState>> load(const std::string& room) const;
  // Error message on failure.
  protocol::Result<void> save(const std::string& room, const std::string& state_json) const;

  std::string path_for(const std::string& room) const;

 private:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace wibwob::mockparty
