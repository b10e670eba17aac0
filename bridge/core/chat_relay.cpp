#include "bridge/core/chat_relay.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "protocol/ipc.hpp"

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
namespace room = protocol::room;

ChatRelay::Counts ChatRelay::on_chat(room::ChatMsg m, Ms now) {
  Counts c;
  if (!rate_.try_take(now)) {
    ++c.dropped;
    c.rate_limited = true;
    return c;
  }
  if (inbox_.size() >= max_inbox_) {
    inbox_.pop_front();
    ++c.dropped;
    c.overflowed = true;
  }
  inbox_.push_back(std::move(m));
  return c;
}

void ChatRelay::on_rename(const room::Rename& r) {
  if (r.name.size() > 64 || !presence_.count(r.conn_id)) return;
  names_[r.conn_id] = r.name;
  presence_dirty_ = true;
}

ChatRelay::Counts ChatRelay::on_presence(const room::Presence& p) {
  Counts c;
  // Bounded: a hostile room cannot make us hold or show an unbounded
  // participant list; participants beyond the bound are skipped.
  auto add = [&](const std::string& id) {
    if (presence_.count(id)) return;
    if (presence_.size() >= max_presence_) {
      ++c.presence_skipped;
      return;
    }
    presence_.insert(id);
  };
  if (p.event == "sync") {
    presence_.clear();
    if (p.self) self_conn_ = *p.self;
    if (p.self) add(*p.self);
    for (const auto& id : p.connections) add(id);
  } else if (p.event == "join" && p.id) {
    add(*p.id);
  } else if (p.event == "leave" && p.id) {
    presence_.erase(*p.id);
    names_.erase(*p.id);
  } else {
    return c;
  }
  presence_dirty_ = true;
  return c;
}

std::optional<std::string> ChatRelay::presence_line() const {
  protocol::Json list = protocol::Json::array();
  for (const auto& c : presence_) {
    protocol::Json e = {{"id", c == self_conn_ ? c + " (me)" : c}};
    if (auto n = names_.find(c); n != names_.end()) e["name"] = n->second;
    list.push_back(std::move(e));
  }
  auto line = ipc::build_request("room_presence", {{"participants", list.dump()}});
  if (!line) return std::nullopt;
  return std::move(*line);
}

std::optional<ChatRelay::Request> ChatRelay::take_request(bool synced, bool window_open, Counts& counts) {
  if (display_name_wanted_) {
    display_name_wanted_ = false;
    if (auto line = ipc::build_request("room_chat_display_name", {})) return Request{Kind::display_name, std::move(*line)};
  }
  if (!window_open) return std::nullopt;
  while (!inbox_.empty()) {
    const auto& m = inbox_.front();
    ipc::Params p{{"sender", m.sender.substr(0, 64)}, {"text", m.text}};
    if (m.ts) p.emplace_back("ts", std::to_string(*m.ts / 1000));
    if (auto line = ipc::build_request("room_chat_receive", p)) return Request{Kind::receive, std::move(*line)};
    inbox_.pop_front();
    ++counts.dropped;
    counts.too_long = true;
  }
  if (presence_dirty_) {
    presence_dirty_ = false;
    if (auto line = presence_line()) return Request{Kind::presence, std::move(*line)};
  }
  if (pending_wanted_ && synced) {
    pending_wanted_ = false;
    if (auto line = ipc::build_request("room_chat_pending", {})) return Request{Kind::pending, std::move(*line)};
  }
  return std::nullopt;
}

namespace {

bool valid_display_name(const std::string& name) {
  return !name.empty() && name.size() <= 20 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

}  // namespace

ChatRelay::Digest ChatRelay::on_reply(Kind kind, const protocol::IpcOutcome& o, const std::string& fallback_sender) {
  Digest d;
  const auto r = ipc::classify_reply(o.text);
  switch (kind) {
    case Kind::pending:
      if (r.kind == ipc::ReplyKind::data && r.data.is_array()) {
        for (const auto& t : r.data) {
          if (!t.is_string() || t.get_ref<const std::string&>().empty()) continue;
          room::ChatMsg m;
          m.sender = display_name_.value_or("");
          if (m.sender.empty()) m.sender = fallback_sender;
          m.text = t.get<std::string>();
          d.to_room.push_back(std::move(m));
        }
      } else if (r.kind != ipc::ReplyKind::err) {
        d.bad_reply = true;
      }
      break;
    case Kind::receive:
      if (!inbox_.empty()) inbox_.pop_front();
      d.delivered = r.kind == ipc::ReplyKind::ok;
      if (!d.delivered) d.refused = r.message;
      break;
    case Kind::presence:
      if (r.kind != ipc::ReplyKind::ok) d.refused = r.message;
      break;
    case Kind::display_name: {
      std::string name = r.kind == ipc::ReplyKind::text ? r.message : std::string();
      display_name_ = valid_display_name(name) ? name : std::string();
      break;
    }
  }
  return d;
}

}  // namespace wibwob::bridge
