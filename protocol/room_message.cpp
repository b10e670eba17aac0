#include "protocol/room_message.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace wibwob::protocol::room {
namespace {

// Deepest bracket nesting in `text`, stopping early once past `limit`.
// Brackets inside JSON strings do not count; a backslash escapes the next
// byte. Malformed text is left to the parser to reject.
int bracket_depth_exceeds(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limit) return depth;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return 0;
}

// Walks a value without recursion (a Json built elsewhere may be
// arbitrarily deep): refuses nesting past `limit` (too_deep) and non-finite
// numbers (bad_value: JSON.parse turns 1e400 into Infinity, which
// JSON.stringify sends on as null, so such a value cannot survive a relay).
std::optional<Error> check_value(const Json& root, int limit) {
  std::vector<std::pair<const Json*, int>> stack;
  stack.emplace_back(&root, 0);
  while (!stack.empty()) {
    auto [j, d] = stack.back();
    stack.pop_back();
    if (j->is_number_float() && !std::isfinite(j->get<double>()))
      return make_error(Errc::bad_value, "number out of the range of a double");
    if (!j->is_structured()) continue;
    if (d + 1 > limit)
      return make_error(Errc::too_deep, "JSON nested deeper than " + std::to_string(limit));
    for (const auto& child : *j) stack.emplace_back(&child, d + 1);
  }
  return std::nullopt;
}

Error field_error(Errc code, std::string_view type, std::string_view field, std::string_view what) {
  std::string msg;
  msg.append(type).append(".").append(field).append(": ").append(what);
  return make_error(code, std::move(msg));
}

// Integral JSON number -> int64; integral doubles are accepted.
Result<std::int64_t> to_int64(const Json& v, std::string_view type, std::string_view field) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return field_error(Errc::bad_value, type, field, "integer out of range");
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d)
      return field_error(Errc::wrong_type, type, field, "not an integer");
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
      return field_error(Errc::bad_value, type, field, "integer out of range");
    return static_cast<std::int64_t>(d);
  }
  return field_error(Errc::wrong_type, type, field, "expected an integer");
}

// Lookup helpers. `obj` is known to be an object.
const Json* find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> req_string(const Json& obj, std::string_view type, const char* key) {
  const Json* v = find(obj, key);
  if (!v) return field_error(Errc::missing_field, type, key, "missing");
  if (!v->is_string()) return field_error(Errc::wrong_type, type, key, "expected a string");
  return v->get<std::string>();
}

Result<std::int64_t> req_int(const Json& obj, std::string_view type, const char* key) {
  const Json* v = find(obj, key);
  if (!v) return field_error(Errc::missing_field, type, key, "missing");
  return to_int64(*v, type, key);
}

// Optional fields: absent or null -> nullopt (see the header's field rules).
Result<std::optional<std::string>> opt_string(const Json& obj, std::string_view type, const char* key) {
  const Json* v = find(obj, key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return field_error(Errc::wrong_type, type, key, "expected a string");
  return std::optional<std::string>{v->get<std::string>()};
}

Result<std::optional<std::int64_t>> opt_int(const Json& obj, std::string_view type, const char* key) {
  const Json* v = find(obj, key);
  if (!v || v->is_null()) return std::optional<std::int64_t>{};
  auto r = to_int64(*v, type, key);
  if (!r) return r.error();
  return std::optional<std::int64_t>{*r};
}

// Propagates the Error of a Result expression out of a function returning
// Result<Message>.
#define WIBWOB_TRY(var, expr)            \
  auto var##_r = (expr);                 \
  if (!var##_r) return var##_r.error();  \
  auto var = std::move(var##_r).value()

Result<Message> decode_state_sync(const Json& j, const Limits& limits) {
  const Json* st = find(j, "state");
  if (!st) return field_error(Errc::missing_field, "state_sync", "state", "missing");
  if (!st->is_object()) return field_error(Errc::wrong_type, "state_sync", "state", "expected an object");
  WIBWOB_TRY(state, parse_room_state(*st, limits));
  WIBWOB_TRY(room_name, req_string(j, "state_sync", "room"));
  return Message{StateSync{std::move(state), std::move(room_name)}};
}

Result<Message> decode_presence(const Json& j, const Limits& limits) {
  Presence p;
  WIBWOB_TRY(event, req_string(j, "presence", "event"));
  p.event = std::move(event);
  WIBWOB_TRY(count, req_int(j, "presence", "count"));
  p.count = count;
  if (const Json* c = find(j, "connections"); c && !c->is_null()) {
    if (!c->is_array()) return field_error(Errc::wrong_type, "presence", "connections", "expected an array");
    if (c->size() > limits.max_windows)
      return field_error(Errc::too_large, "presence", "connections", "too many entries");
    p.connections.reserve(c->size());
    for (const auto& e : *c) {
      if (!e.is_string()) return field_error(Errc::wrong_type, "presence", "connections", "entry not a string");
      p.connections.push_back(e.get<std::string>());
    }
  }
  WIBWOB_TRY(self, opt_string(j, "presence", "self"));
  p.self = std::move(self);
  WIBWOB_TRY(id, opt_string(j, "presence", "id"));
  p.id = std::move(id);
  return Message{std::move(p)};
}

Result<Message> decode_state_delta(const Json& j) {
  StateDelta d;
  if (const Json* v = find(j, "delta")) d.delta = *v;  // raw, null included
  WIBWOB_TRY(version, opt_int(j, "state_delta", "version"));
  d.version = version;
  WIBWOB_TRY(from, opt_string(j, "state_delta", "from"));
  d.from = std::move(from);
  return Message{std::move(d)};
}

Result<Message> decode_chat(const Json& j) {
  ChatMsg m;
  WIBWOB_TRY(sender, req_string(j, "chat_msg", "sender"));
  m.sender = std::move(sender);
  WIBWOB_TRY(text, req_string(j, "chat_msg", "text"));
  m.text = std::move(text);
  WIBWOB_TRY(ts, opt_int(j, "chat_msg", "ts"));
  m.ts = ts;
  WIBWOB_TRY(from, opt_string(j, "chat_msg", "from"));
  m.from = std::move(from);
  return Message{std::move(m)};
}

Result<Message> decode_cursor(const Json& j) {
  CursorPos m;
  WIBWOB_TRY(sender, req_string(j, "cursor_pos", "sender"));
  m.sender = std::move(sender);
  WIBWOB_TRY(x, req_int(j, "cursor_pos", "x"));
  m.x = x;
  WIBWOB_TRY(y, req_int(j, "cursor_pos", "y"));
  m.y = y;
  WIBWOB_TRY(from, opt_string(j, "cursor_pos", "from"));
  m.from = std::move(from);
  return Message{std::move(m)};
}

Result<Message> decode_rename(const Json& j) {
  Rename m;
  WIBWOB_TRY(conn_id, req_string(j, "rename", "conn_id"));
  m.conn_id = std::move(conn_id);
  WIBWOB_TRY(name, req_string(j, "rename", "name"));
  m.name = std::move(name);
  WIBWOB_TRY(from, opt_string(j, "rename", "from"));
  m.from = std::move(from);
  return Message{std::move(m)};
}

Result<Message> decode_pong(const Json& j) {
  WIBWOB_TRY(ts, req_int(j, "pong", "ts"));
  return Message{Pong{ts}};
}

#undef WIBWOB_TRY

struct ToJson {
  Json operator()(const StateSync& m) const {
    return Json{{"type", "state_sync"}, {"state", m.state.to_json()}, {"room", m.room}};
  }
  Json operator()(const Presence& m) const {
    Json j{{"type", "presence"}, {"event", m.event}};
    if (!m.connections.empty() || m.event == "sync") j["connections"] = m.connections;
    j["count"] = m.count;
    if (m.self) j["self"] = *m.self;
    if (m.id) j["id"] = *m.id;
    return j;
  }
  Json operator()(const StateDelta& m) const {
    Json j{{"type", "state_delta"}};
    if (m.delta) j["delta"] = *m.delta;
    if (m.version) j["version"] = *m.version;
    if (m.from) j["from"] = *m.from;
    return j;
  }
  Json operator()(const ChatMsg& m) const {
    Json j{{"type", "chat_msg"}, {"sender", m.sender}, {"text", m.text}};
    if (m.ts) j["ts"] = *m.ts;
    if (m.from) j["from"] = *m.from;
    return j;
  }
  Json operator()(const CursorPos& m) const {
    Json j{{"type", "cursor_pos"}, {"sender", m.sender}, {"x", m.x}, {"y", m.y}};
    if (m.from) j["from"] = *m.from;
    return j;
  }
  Json operator()(const Rename& m) const {
    Json j{{"type", "rename"}, {"conn_id", m.conn_id}, {"name", m.name}};
    if (m.from) j["from"] = *m.from;
    return j;
  }
  Json operator()(const Ping&) const { return Json{{"type", "ping"}}; }
  Json operator()(const Pong& m) const { return Json{{"type", "pong"}, {"ts", m.ts}}; }
  Json operator()(const Unknown& m) const {
    Json j = m.raw.is_object() ? m.raw : Json::object();
    j["type"] = m.type;
    return j;
  }
};

struct TypeName {
  std::string_view operator()(const StateSync&) const { return "state_sync"; }
  std::string_view operator()(const Presence&) const { return "presence"; }
  std::string_view operator()(const StateDelta&) const { return "state_delta"; }
  std::string_view operator()(const ChatMsg&) const { return "chat_msg"; }
  std::string_view operator()(const CursorPos&) const { return "cursor_pos"; }
  std::string_view operator()(const Rename&) const { return "rename"; }
  std::string_view operator()(const Ping&) const { return "ping"; }
  std::string_view operator()(const Pong&) const { return "pong"; }
  std::string_view operator()(const Unknown& m) const { return m.type; }
};

}  // namespace

std::string_view type_name(const Message& m) { return std::visit(TypeName{}, m); }

Result<Message> decode(std::string_view text, const Limits& limits) {
  if (text.size() > max_frame_bytes)
    return make_error(Errc::too_large, "frame of " + std::to_string(text.size()) + " bytes exceeds " +
                                           std::to_string(max_frame_bytes));
  // The parser itself is iterative, but everything that walks the value
  // afterwards (dump, copies in user code) recurses: refuse deep input first.
  if (int d = bracket_depth_exceeds(text, max_message_depth); d > 0)
    return make_error(Errc::too_deep, "JSON nested deeper than " + std::to_string(max_message_depth));
  // nlohmann's lexer takes a NUL byte for the end of input and would accept
  // "{...}\0junk"; a raw NUL is never valid JSON, so refuse it here.
  if (text.find('\0') != std::string_view::npos)
    return make_error(Errc::not_json, "room message contains a NUL byte");
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(Errc::not_json, "room message is not valid JSON (or not UTF-8)");
  return decode(j, limits);
}

Result<Message> decode(const Json& j, const Limits& limits) {
  if (!j.is_object()) return make_error(Errc::wrong_type, "room message is not a JSON object");
  if (auto bad = check_value(j, max_message_depth)) return *bad;
  const Json* t = find(j, "type");
  if (!t) return make_error(Errc::missing_field, "room message has no type");
  if (!t->is_string()) return make_error(Errc::wrong_type, "room message type is not a string");
  const auto& type = t->get_ref<const std::string&>();
  if (type == "state_sync") return decode_state_sync(j, limits);
  if (type == "presence") return decode_presence(j, limits);
  if (type == "state_delta") return decode_state_delta(j);
  if (type == "chat_msg") return decode_chat(j);
  if (type == "cursor_pos") return decode_cursor(j);
  if (type == "rename") return decode_rename(j);
  if (type == "ping") return Message{Ping{}};
  if (type == "pong") return decode_pong(j);
  return Message{Unknown{type, j}};
}

Json to_json(const Message& m) { return std::visit(ToJson{}, m); }

Result<std::string> encode(const Message& m, std::size_t max_bytes) {
  std::string out;
  try {
    // strict: a non-UTF-8 string is refused rather than silently replaced,
    // so what we send is what the caller gave us.
    out = to_json(m).dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::type_error& e) {
    return make_error(Errc::bad_value, std::string("cannot encode ") + std::string(type_name(m)) + ": " + e.what());
  }
  if (out.size() > max_bytes)
    return make_error(Errc::too_large, std::string(type_name(m)) + " frame of " + std::to_string(out.size()) +
                                           " bytes exceeds " + std::to_string(max_bytes));
  return out;
}

}  // namespace wibwob::protocol::room
