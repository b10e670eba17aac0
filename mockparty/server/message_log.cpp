#include "mockparty/server/message_log.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

namespace wibwob::mockparty {

MessageLog::~MessageLog() {
  if (owned_ && out_) std::fclose(out_);
}

protocol::Result<void> MessageLog::open(const std::string& path) {
  if (path.empty()) return {};
  if (path == "-") {
    out_ = stdout;
    return {};
  }
  out_ = std::fopen(path.c_str(), "a");
  if (!out_) return protocol::make_error(protocol::Errc::io_failed, "cannot open log file " + path);
  owned_ = true;
  return {};
}

void MessageLog::write(std::string_view room, std::string_view conn, std::string_view dir, std::string_view type,
                       std::optional<std::int64_t> version, std::string_view note) {
  if (!out_) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  nlohmann::json j;
  j["time"] = static_cast<double>(us) / 1e6;
  j["room"] = room;
  j["conn"] = conn;
  j["dir"] = dir;
  j["type"] = type;
  if (version) j["version"] = *version;
  if (!note.empty()) j["note"] = note;
  // Room names and types come from peers: never let bad UTF-8 break a line.
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace wibwob::mockparty
