#include "mockparty/core/party_core.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "protocol/ipc.hpp"

namespace wibwob::mockparty {

namespace room = protocol::room;

namespace {

// Frames the server sends are not limited by the server (clients may refuse
// them); encode with no ceiling.
constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

std::string encode_out(const room::Message& m) {
  auto r = room::encode(m, no_limit);
  // Everything we encode comes from parsed (hence valid UTF-8) input or our
  // own ids; a failure would be a bug, so send nothing rather than junk.
  return r ? std::move(r).value() : std::string{};
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Log event(const SocketInfo& info, std::string type, std::string note = {},
          std::optional<std::int64_t> version = std::nullopt) {
  return Log{info.room, info.conn, "event", std::move(type), version, std::move(note)};
}

}  // namespace

PartyCore::PartyCore(Options options) : options_(std::move(options)) {}

bool PartyCore::has_room(std::string_view name) const { return rooms_.find(name) != rooms_.end(); }

bool PartyCore::load_room(const std::string& name, protocol::RoomState state) {
  if (has_room(name)) return false;
  rooms_[name].state = std::move(state);
  return true;
}

PartyCore::Room& PartyCore::room(const std::string& name) { return rooms_[name]; }

const protocol::RoomState* PartyCore::state(std::string_view name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second.state;
}

std::vector<std::string> PartyCore::rooms() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : rooms_) out.push_back(k);
  return out;
}

const SocketInfo* PartyCore::socket(SocketId s) const {
  auto it = sockets_.find(s);
  return it == sockets_.end() ? nullptr : &it->second;
}

std::vector<SocketId> PartyCore::sockets(std::string_view name) const {
  auto it = rooms_.find(name);
  if (it == rooms_.end()) return {};
  auto out = it->second.members;
  out.insert(out.end(), it->second.ghosts.begin(), it->second.ghosts.end());
  return out;
}

std::int64_t PartyCore::member_count(const Room& r) const { return static_cast<std::int64_t>(r.members.size()); }

std::vector<SocketId> PartyCore::others(const Room& r, SocketId sender) const {
  std::vector<SocketId> out;
  const auto& sender_conn = sockets_.at(sender).conn;
  for (SocketId m : r.members) {
    if (m == sender) continue;
    // The real server excludes the sender's id, which also skips an older
    // socket holding the same id.
    if (options_.defects.duplicate_pk_ghost && sockets_.at(m).conn == sender_conn) continue;
    out.push_back(m);
  }
  return out;
}

void PartyCore::broadcast(Effects& out, const Room& r, SocketId sender, const std::string& text,
                          const std::string& type, std::optional<std::int64_t> version) const {
  for (SocketId to : others(r, sender)) out.push_back(Send{to, text, type, version});
}

Effects PartyCore::on_open(SocketId s, const std::string& name, const std::string& conn) {
  Effects out;
  if (sockets_.count(s)) return out;  // caller bug; never double-register
  Room& r = room(name);
  bool ghost = false;
  if (options_.defects.duplicate_pk_ghost) {
    ghost = std::any_of(r.members.begin(), r.members.end(), [&](SocketId m) { return sockets_.at(m).conn == conn; });
  }
  sockets_[s] = SocketInfo{name, conn, ghost};
  if (ghost) {
    r.ghosts.push_back(s);
  } else {
    r.members.push_back(s);
  }
  const SocketInfo& info = sockets_[s];
  out.push_back(event(info, "open", ghost ? "ghost: duplicate _pk of an open socket" : ""));

  out.push_back(Send{s, encode_out(room::StateSync{r.state, name}), "state_sync", r.state.version});
  room::Presence sync;
  sync.event = "sync";
  for (SocketId m : r.members) sync.connections.push_back(sockets_.at(m).conn);
  sync.count = member_count(r);
  sync.self = conn;
  out.push_back(Send{s, encode_out(sync), "presence", std::nullopt});

  room::Presence join;
  join.event = "join";
  join.id = conn;
  join.count = member_count(r);
  broadcast(out, r, s, encode_out(join), "presence", std::nullopt);
  return out;
}

Effects PartyCore::on_close(SocketId s) {
  Effects out;
  auto it = sockets_.find(s);
  if (it == sockets_.end()) return out;
  const SocketInfo info = it->second;
  Room& r = room(info.room);
  std::erase(r.members, s);
  std::erase(r.ghosts, s);
  out.push_back(event(info, "close"));

  room::Presence leave;
  leave.event = "leave";
  leave.id = info.conn;
  leave.count = member_count(r) - (options_.defects.leave_count_off_by_one ? 1 : 0);
  // Sent before the socket is forgotten, so `others` can still look it up.
  broadcast(out, r, s, encode_out(leave), "presence", std::nullopt);
  sockets_.erase(it);
  return out;
}

Effects PartyCore::on_binary(SocketId s, std::size_t bytes) {
  Effects out;
  auto it = sockets_.find(s);
  if (it == sockets_.end()) return out;
  ++stats_.messages_in;
  ++stats_.ignored;
  out.push_back(Log{it->second.room, it->second.conn, "in", "binary", std::nullopt,
                    "ignored: binary frame of " + std::to_string(bytes) + " bytes"});
  return out;
}

Effects PartyCore::on_text(SocketId s, std::string_view text, std::int64_t now_ms) {
  Effects out;
  auto it = sockets_.find(s);
  if (it == sockets_.end()) return out;
  const SocketInfo info = it->second;
  ++stats_.messages_in;

  if (text.size() > options_.max_frame_bytes) {
    out.push_back(Log{info.room, info.conn, "in", "oversized", std::nullopt,
                      "frame of " + std::to_string(text.size()) + " bytes: closing with 1009"});
    out.push_back(Close{s, 1009, "message too big"});
    return out;
  }

  auto parsed = protocol::ipc::parse_json(text);
  if (!parsed || !parsed->is_object()) {
    ++stats_.ignored;
    out.push_back(Log{info.room, info.conn, "in", "invalid", std::nullopt,
                      parsed ? "ignored: not a JSON object" : "ignored: " + parsed.error().message});
    return out;
  }
  Json msg = std::move(parsed).value();
  auto t = msg.find("type");
  if (t == msg.end() || !t->is_string()) {
    ++stats_.ignored;
    out.push_back(Log{info.room, info.conn, "in", "invalid", std::nullopt, "ignored: no string type"});
    return out;
  }
  const std::string type = t->get<std::string>();
  out.push_back(Log{info.room, info.conn, "in", type, std::nullopt, {}});

  if (type == "state_delta") {
    handle_delta(out, s, info, msg);
  } else if (type == "ping") {
    out.push_back(Send{s, encode_out(room::Pong{now_ms}), "pong", std::nullopt});
  } else if (type == "chat_msg" || type == "cursor_pos" || type == "rename") {
    relay(out, s, info, std::move(msg), now_ms);
  } else {
    ++stats_.ignored;
    out.back() = Log{info.room, info.conn, "in", type, std::nullopt, "ignored: unknown type"};
  }
  return out;
}

void PartyCore::handle_delta(Effects& out, SocketId s, const SocketInfo& info, const Json& msg) {
  Room& r = room(info.room);
  auto d = msg.find("delta");
  const Json* delta = d == msg.end() ? nullptr : &*d;
  switch (protocol::apply_room_delta(r.state, delta)) {
    case protocol::ApplyOutcome::no_delta:
      ++stats_.deltas_rejected;
      out.push_back(event(info, "delta_rejected", "no delta: server threw before touching state"));
      return;
    case protocol::ApplyOutcome::threw_partway:
      ++stats_.deltas_rejected;
      out.push_back(event(info, "delta_rejected", "threw part way: memory changed, nothing saved or broadcast"));
      return;
    case protocol::ApplyOutcome::applied: break;
  }
  ++stats_.deltas_applied;
  const std::int64_t version = r.state.version;
  // Patch the version of the "in" entry logged just before.
  for (auto e = out.rbegin(); e != out.rend(); ++e) {
    if (auto* l = std::get_if<Log>(&*e); l && l->dir == "in") {
      l->version = version;
      break;
    }
  }
  std::string saved = dump(r.state.to_json());
  if (options_.defects.state_limit_silent && saved.size() > options_.max_state_bytes) {
    ++stats_.over_limit;
    out.push_back(event(info, "state_limit",
                        "state of " + std::to_string(saved.size()) + " bytes exceeds " +
                            std::to_string(options_.max_state_bytes) + ": memory changed, not saved or broadcast",
                        version));
    return;
  }
  out.push_back(Persist{info.room, std::move(saved)});
  room::StateDelta b;
  b.delta = *delta;
  b.version = version;
  b.from = info.conn;
  broadcast(out, r, s, encode_out(b), "state_delta", version);
}

void PartyCore::relay(Effects& out, SocketId s, const SocketInfo& info, Json msg, std::int64_t now_ms) {
  // `{...msg, from}`; chat_msg also gets `ts ?? Date.now()`.
  if (msg["type"] == "chat_msg") {
    auto ts = msg.find("ts");
    if (ts == msg.end() || ts->is_null()) msg["ts"] = now_ms;
  }
  msg["from"] = info.conn;
  const std::string type = msg["type"].get<std::string>();
  broadcast(out, room(info.room), s, dump(msg), type, std::nullopt);
}

Effects PartyCore::drop_room(std::string_view name, std::uint16_t code) const {
  Effects out;
  for (SocketId s : sockets(name)) out.push_back(Close{s, code, "dropped by fault injection"});
  return out;
}

}  // namespace wibwob::mockparty
