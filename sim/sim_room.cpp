#include "sim/sim_room.hpp"

#include <algorithm>

#include "protocol/ipc.hpp"

namespace wibwob::sim {

using protocol::Json;

std::vector<Outgoing> SimRoom::on_connect(const std::string& conn) {
  std::vector<Outgoing> out;
  for (const auto& c : conns_)
    out.push_back({c, Json{{"type", "presence"}, {"event", "join"}, {"id", conn},
                           {"count", static_cast<std::int64_t>(conns_.size() + 1)}}.dump()});
  conns_.push_back(conn);
  out.push_back({conn, Json{{"type", "state_sync"}, {"state", state_.to_json()}, {"room", name_}}.dump()});
  out.push_back({conn, Json{{"type", "presence"}, {"event", "sync"}, {"connections", conns_},
                            {"count", static_cast<std::int64_t>(conns_.size())}, {"self", conn}}.dump()});
  return out;
}

std::vector<Outgoing> SimRoom::on_close(const std::string& conn) {
  std::vector<Outgoing> out;
  auto it = std::find(conns_.begin(), conns_.end(), conn);
  if (it == conns_.end()) return out;
  conns_.erase(it);
  for (const auto& c : conns_)
    out.push_back({c, Json{{"type", "presence"}, {"event", "leave"}, {"id", conn},
                           // the real server's count is one too low
                           {"count", static_cast<std::int64_t>(conns_.size()) - 1}}.dump()});
  return out;
}

std::vector<Outgoing> SimRoom::on_message(const std::string& conn, const std::string& text,
                                          std::chrono::milliseconds now) {
  std::vector<Outgoing> out;
  auto parsed = protocol::ipc::parse_json(text);
  if (!parsed || !parsed->is_object()) return out;
  Json msg = std::move(*parsed);
  const auto type = msg.value("type", std::string());
  auto others = [&](const Json& m) {
    const std::string s = m.dump();
    for (const auto& c : conns_)
      if (c != conn) out.push_back({c, s});
  };
  if (type == "state_delta") {
    const Json* delta = msg.contains("delta") ? &msg["delta"] : nullptr;
    if (protocol::apply_room_delta(state_, delta) != protocol::ApplyOutcome::applied) return out;
    msg["version"] = state_.version;
    msg["from"] = conn;
    others(msg);
  } else if (type == "ping") {
    out.push_back({conn, Json{{"type", "pong"}, {"ts", now.count()}}.dump()});
  } else if (type == "chat_msg" || type == "cursor_pos" || type == "rename") {
    if (type == "chat_msg" && !msg.contains("ts")) msg["ts"] = now.count();
    msg["from"] = conn;
    others(msg);
  }
  return out;
}

}  // namespace wibwob::sim
