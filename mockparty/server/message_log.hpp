// MessageLog: every room message in and out, plus connection events, as JSON
// lines, one object per line, flushed per line so a reader (pytest) sees it
// at once:
//   {"time":1700000000.123456,"room":"lobby","conn":"c1","dir":"in",
//    "type":"state_delta","version":8}
// `time` is epoch seconds (microseconds); `dir` is "in", "out" or "event";
// `version` appears for state_sync/state_delta; `note` explains ignored
// input and events. Synchronous writes on the caller's thread (the server's
// io_context thread); a disabled log costs one branch.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace wibwob::mockparty {

class MessageLog {
 public:
  MessageLog() = default;
  ~MessageLog();
  MessageLog(const MessageLog&) = delete;
  MessageLog& operator=(const MessageLog&) = delete;

  // "" = disabled, "-" = stdout, else a file (appended). Error message on failure.
  protocol::Result<void> open(const std::string& path);
  bool enabled() const { return out_ != nullptr; }

  void write(std::string_view room, std::string_view conn, std::string_view dir, std::string_view type,
             std::optional<std::int64_t> version, std::string_view note = {});

 private:
  std::FILE* out_ = nullptr;
  bool owned_ = false;
};

}  // namespace wibwob::mockparty
