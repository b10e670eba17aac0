// Implementation of the WibWob-DOS IPC codec (see ipc.hpp and
// spec/wibwob-ipc.md). Every parser here is total: hostile bytes become an
// Error value or a benign classification, never an exception.
#include "protocol/ipc.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include <nettle/hmac.h>
#include <nettle/memops.h>

namespace wibwob::protocol::ipc {

namespace {

// get_state with more windows than this is treated as hostile.
constexpr std::size_t max_windows = 4096;
constexpr std::size_t max_chat_entries = 4096;

constexpr char hex_upper[] = "0123456789ABCDEF";
constexpr char hex_lower[] = "0123456789abcdef";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The app tokenises with the C locale's isspace; so do we (locale-free).
bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view strip_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Nesting depth of the JSON-ish text, skipping string contents (with their
// escapes). A linear pre-scan: it never recurses, so it is safe on any input.
bool depth_exceeds(std::string_view s, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// Dump that cannot throw on invalid UTF-8 (nlohmann's default would).
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The app's string writer: quotes, escapes only '"' and '\' (quirk).
void append_app_string(std::string& out, std::string_view s) {
  out += '"';
  if (std::none_of(s.begin(), s.end(), [](char c) { return c == '"' || c == '\\'; })) {
    out.append(s);  // the common case, in one piece
    out += '"';
    return;
  }
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  std::array<char, 24> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  (void)ec;  // 24 bytes always suffice for int64
  out.append(buf.data(), end);
}

bool valid_name_byte(unsigned char c) { return c > 0x20 && c < 0x7f; }

const Json* find_member(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> get_string(const Json& obj, const char* key) {
  const Json* v = find_member(obj, key);
  if (!v) return make_error(Errc::missing_field, std::string("missing field '") + key + "'");
  if (!v->is_string()) return make_error(Errc::wrong_type, std::string("field '") + key + "' is not a string");
  return v->get<std::string>();
}

template <class Int>
Result<Int> get_int(const Json& obj, const char* key) {
  const Json* v = find_member(obj, key);
  if (!v) return make_error(Errc::missing_field, std::string("missing field '") + key + "'");
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
      return make_error(Errc::bad_value, std::string("field '") + key + "' out of range");
    return static_cast<Int>(u);
  }
  if (v->is_number_integer()) {
    const auto i = v->get<std::int64_t>();
    if (i < std::numeric_limits<Int>::min() || i > std::numeric_limits<Int>::max())
      return make_error(Errc::bad_value, std::string("field '") + key + "' out of range");
    return static_cast<Int>(i);
  }
  return make_error(Errc::wrong_type, std::string("field '") + key + "' is not an integer");
}

Result<AppWindow> parse_app_window(const Json& j) {
  if (!j.is_object()) return make_error(Errc::wrong_type, "window entry is not an object");
  AppWindow w;
  auto id = get_string(j, "id");
  if (!id) return id.error();
  w.id = std::move(*id);
  auto type = get_string(j, "type");
  if (!type) return type.error();
  w.type = std::move(*type);
  struct Field { const char* key; std::int32_t* dst; };
  for (const Field f : {Field{"x", &w.x}, Field{"y", &w.y}, Field{"w", &w.w}, Field{"h", &w.h}, Field{"z", &w.z}}) {
    auto v = get_int<std::int32_t>(j, f.key);
    if (!v) return v.error();
    *f.dst = *v;
  }
  if (const Json* f = find_member(j, "focused")) {
    if (!f->is_boolean()) return make_error(Errc::wrong_type, "field 'focused' is not a boolean");
    w.focused = f->get<bool>();
  }
  if (find_member(j, "title")) {
    auto t = get_string(j, "title");
    if (!t) return t.error();
    w.title = std::move(*t);
  }
  if (const Json* p = find_member(j, "path"); p && !p->is_null()) {
    if (!p->is_string()) return make_error(Errc::wrong_type, "field 'path' is not a string");
    w.path = p->get<std::string>();
  }
  return w;
}

Result<ChatEntry> parse_chat_entry(const Json& j) {
  if (!j.is_object()) return make_error(Errc::wrong_type, "chat_log entry is not an object");
  ChatEntry e;
  auto seq = get_int<std::int64_t>(j, "seq");
  if (!seq) return seq.error();
  e.seq = *seq;
  auto sender = get_string(j, "sender");
  if (!sender) return sender.error();
  e.sender = std::move(*sender);
  auto text = get_string(j, "text");
  if (!text) return text.error();
  e.text = std::move(*text);
  return e;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

// Deeper JSON than max_json_depth is refused before nlohmann sees it: the app
// never nests deeper than 4, and hostile nesting must not cost stack or time.
Result<Json> parse_json(std::string_view text) {
  if (depth_exceeds(text, max_json_depth))
    return make_error(Errc::too_deep, "JSON nested deeper than " + std::to_string(max_json_depth));
  // nlohmann's lexer takes a NUL byte as end of input and would accept
  // "{...}\0junk"; raw NUL is never valid JSON text, so refuse it here.
  if (text.find('\0') != std::string_view::npos) return make_error(Errc::not_json, "NUL byte in JSON text");
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(Errc::not_json, "reply is not valid JSON");
  return j;
}

// --- percent-encoding -------------------------------------------------------

std::string percent_encode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += hex_upper[c >> 4];
      out += hex_upper[c & 0xF];
    }
  }
  return out;
}

std::string percent_decode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int hi = hex_value(static_cast<unsigned char>(encoded[i + 1]));
      const int lo = hex_value(static_cast<unsigned char>(encoded[i + 2]));
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    // Not a valid %XX: the app keeps the byte literally (and '+' stays '+').
    out += encoded[i];
  }
  return out;
}

// --- requests ---------------------------------------------------------------

Result<std::string> build_request(std::string_view name, const Params& params) {
  if (name.empty()) return make_error(Errc::bad_value, "empty command name");
  for (char c : name)
    if (!valid_name_byte(static_cast<unsigned char>(c)))
      return make_error(Errc::bad_value, "command name contains whitespace, control or non-ASCII bytes");
  std::string line = "cmd:";
  line += name;
  for (const auto& [key, value] : params) {
    if (key.empty()) return make_error(Errc::bad_value, "empty parameter key");
    for (char c : key)
      if (!valid_name_byte(static_cast<unsigned char>(c)) || c == '=')
        return make_error(Errc::bad_value, "parameter key '" + key + "' contains '=', whitespace, control or non-ASCII bytes");
    // A token starting with cmd: names a command, so such a key would
    // silently rename the request instead of passing a parameter.
    if (key.rfind("cmd:", 0) == 0)
      return make_error(Errc::bad_value, "parameter key '" + key + "' starts with 'cmd:'");
    line += ' ';
    line += key;
    line += '=';
    line += percent_encode(value);
    if (line.size() + 1 > max_request_bytes) break;  // no need to encode the rest
  }
  line += '\n';
  if (line.size() > max_request_bytes)
    return make_error(Errc::too_large, "request over " + std::to_string(max_request_bytes) + " bytes");
  return line;
}

Command parse_request(std::string_view bytes) {
  Command cmd;
  std::size_t i = 0;
  while (i < bytes.size()) {
    while (i < bytes.size() && is_space(static_cast<unsigned char>(bytes[i]))) ++i;
    const std::size_t start = i;
    while (i < bytes.size() && !is_space(static_cast<unsigned char>(bytes[i]))) ++i;
    if (start == i) break;
    const std::string_view tok = bytes.substr(start, i - start);
    if (tok.rfind("cmd:", 0) == 0) {
      cmd.name = std::string(tok.substr(4));
      continue;
    }
    const auto eq = tok.find('=');
    if (eq == std::string_view::npos) continue;  // the app ignores such tokens
    cmd.params[std::string(tok.substr(0, eq))] = percent_decode(tok.substr(eq + 1));
  }
  return cmd;
}

// --- replies ----------------------------------------------------------------

Reply classify_reply(std::string_view raw) {
  const std::string_view line = strip_line_end(raw);
  Reply r;
  if (line == "ok" || line.rfind("ok ", 0) == 0) {
    r.kind = ReplyKind::ok;
    r.message = line.size() > 3 ? std::string(line.substr(3)) : std::string();
    return r;
  }
  if (line == "err" || line.rfind("err ", 0) == 0) {
    r.kind = ReplyKind::err;
    r.message = line.size() > 4 ? std::string(line.substr(4)) : std::string();
    return r;
  }
  if (!line.empty() && (line.front() == '{' || line.front() == '[')) {
    auto parsed = parse_json(line);
    if (parsed) {
      Json& j = *parsed;
      if (j.is_object()) {
        const Json* success = find_member(j, "success");
        const Json* error = find_member(j, "error");
        if (success && success->is_boolean() && success->get<bool>()) {
          r.kind = ReplyKind::success;
          if (const Json* id = find_member(j, "id"); id && id->is_string()) r.id = id->get<std::string>();
        } else if ((error && error->is_string()) || (success && success->is_boolean())) {
          r.kind = ReplyKind::failure;
          if (error && error->is_string()) r.message = error->get<std::string>();
        } else {
          r.kind = ReplyKind::data;
        }
      } else if (j.is_array()) {
        r.kind = ReplyKind::data;
      }
      if (r.kind != ReplyKind::text) {
        r.data = std::move(j);
        return r;
      }
    }
    // Unparsable JSON-looking text (e.g. get_state with a broken title)
    // falls through to raw text; parse_get_state reports the precise error.
  }
  r.kind = ReplyKind::text;
  r.message = std::string(line);
  return r;
}

std::string format_ok(std::string_view text) {
  std::string s = "ok";
  if (!text.empty()) {
    s += ' ';
    s += text;
  }
  s += '\n';
  return s;
}

std::string format_err(std::string_view reason) {
  std::string s = "err ";
  s += reason;
  s += '\n';
  return s;
}

std::string format_success(const std::optional<std::string>& id) {
  std::string s = "{\"success\":true";
  if (id) {
    s += ",\"id\":";
    s += dump(Json(*id));
  }
  s += "}\n";
  return s;
}

std::string format_failure(std::string_view error) {
  return "{\"error\":" + dump(Json(std::string(error))) + "}\n";
}

// --- get_state --------------------------------------------------------------

std::string format_get_state(const AppState& s) {
  std::string out = "{\"windows\":[";
  bool first = true;
  for (const auto& w : s.windows) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    append_app_string(out, w.id);
    out += ",\"type\":";
    append_app_string(out, w.type);
    out += ",\"x\":"; append_int(out, w.x);
    out += ",\"y\":"; append_int(out, w.y);
    out += ",\"w\":"; append_int(out, w.w);
    out += ",\"h\":"; append_int(out, w.h);
    out += ",\"z\":"; append_int(out, w.z);
    out += ",\"focused\":";
    out += w.focused ? "true" : "false";
    out += ",\"title\":";
    append_app_string(out, w.title);
    if (w.path) {
      out += ",\"path\":";
      append_app_string(out, *w.path);
    }
    out += '}';
  }
  out += "],\"chat_log\":[";
  first = true;
  for (const auto& e : s.chat_log) {
    if (!first) out += ',';
    first = false;
    out += "{\"seq\":"; append_int(out, e.seq);
    out += ",\"sender\":";
    append_app_string(out, e.sender);
    out += ",\"text\":";
    append_app_string(out, e.text);
    out += '}';
  }
  out += "]}\n";
  return out;
}

namespace {

// Reads exactly what format_get_state writes, in one pass and without a JSON
// tree: fixed key order, no whitespace, strings of printable ASCII with only
// \" and \\ escaped, integers in range without leading zeros, fraction or exponent.
// Every read says false at the first byte outside that form; the caller then
// leaves the text to the general JSON path, which decides (and names the
// error). So this reader never accepts what that path refuses.
class AppFormReader {
 public:
  explicit AppFormReader(std::string_view s) : s_(s) {}
  bool at_end() const { return i_ == s_.size(); }
  bool lit(std::string_view t) {
    if (s_.substr(i_, t.size()) != t) return false;
    i_ += t.size();
    return true;
  }
  bool str(std::string& out) {
    if (!lit("\"")) return false;
    const std::size_t start = i_;
    bool escaped = false;
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') break;
      if (c < 0x20 || c >= 0x80) return false;  // control or non-ASCII: the JSON path decides
      if (c == '\\') {
        if (i_ + 1 >= s_.size() || (s_[i_ + 1] != '"' && s_[i_ + 1] != '\\')) return false;
        escaped = true;
        ++i_;
      }
    }
    if (i_ >= s_.size()) return false;
    const std::string_view raw = s_.substr(start, i_++ - start);
    if (!escaped) {
      out.assign(raw);
      return true;
    }
    out.clear();
    for (std::size_t k = 0; k < raw.size(); ++k) out += raw[k] == '\\' ? raw[++k] : raw[k];
    return true;
  }
  template <class Int>
  bool integer(Int& out) {
    const bool negative = lit("-");
    std::int64_t v = 0;
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - start < 18) v = v * 10 + (s_[i_++] - '0');
    const std::size_t digits = i_ - start;
    if (digits == 0 || (digits > 1 && s_[start] == '0') || (negative && v == 0)) return false;
    if (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') return false;  // 19 digits or more
    if (negative) v = -v;
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) return false;
    out = static_cast<Int>(v);
    return true;
  }
  bool boolean(bool& out) {
    if (lit("true")) out = true;
    else if (lit("false")) out = false;
    else return false;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

// "[" item ("," item)* "]" or "[]", at most `max` items.
template <class T, class ReadItem>
bool read_array(AppFormReader& r, std::vector<T>& out, std::size_t max, ReadItem read_item) {
  if (!r.lit("[")) return false;
  if (r.lit("]")) return true;
  do {
    if (out.size() >= max) return false;
    T item;
    if (!read_item(item)) return false;
    out.push_back(std::move(item));
  } while (r.lit(","));
  return r.lit("]");
}

}  // namespace

std::optional<AppState> parse_get_state_app_form(std::string_view line) {
  AppFormReader r(strip_line_end(line));
  AppState s;
  auto window = [&r](AppWindow& w) {
    if (!(r.lit("{\"id\":") && r.str(w.id) && r.lit(",\"type\":") && r.str(w.type) && r.lit(",\"x\":") &&
          r.integer(w.x) && r.lit(",\"y\":") && r.integer(w.y) && r.lit(",\"w\":") && r.integer(w.w) &&
          r.lit(",\"h\":") && r.integer(w.h) && r.lit(",\"z\":") && r.integer(w.z) && r.lit(",\"focused\":") &&
          r.boolean(w.focused) && r.lit(",\"title\":") && r.str(w.title)))
      return false;
    if (r.lit(",\"path\":") && !r.str(w.path.emplace())) return false;
    return r.lit("}");
  };
  auto entry = [&r](ChatEntry& e) {
    return r.lit("{\"seq\":") && r.integer(e.seq) && r.lit(",\"sender\":") && r.str(e.sender) &&
           r.lit(",\"text\":") && r.str(e.text) && r.lit("}");
  };
  if (!(r.lit("{\"windows\":") && read_array(r, s.windows, max_windows, window) && r.lit(",\"chat_log\":") &&
        read_array(r, s.chat_log, max_chat_entries, entry) && r.lit("}") && r.at_end()))
    return std::nullopt;
  return s;
}

bool is_app_window_id(std::string_view id) {
  return id.size() >= 2 && id.size() <= 21 && id[0] == 'w' &&
         std::all_of(id.begin() + 1, id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<AppState> parse_get_state(std::string_view line) {
  if (auto s = parse_get_state_app_form(line)) return std::move(*s);
  return parse_get_state_json(line);
}

Result<AppState> parse_get_state_json(std::string_view line) {
  auto parsed = parse_json(strip_line_end(line));
  if (!parsed) return parsed.error();
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(Errc::wrong_type, "get_state reply is not an object");
  const Json* windows = find_member(j, "windows");
  if (!windows) return make_error(Errc::missing_field, "get_state reply has no 'windows'");
  if (!windows->is_array()) return make_error(Errc::wrong_type, "'windows' is not an array");
  if (windows->size() > max_windows) return make_error(Errc::too_large, "too many windows");
  AppState state;
  state.windows.reserve(windows->size());
  for (const auto& wj : *windows) {
    auto w = parse_app_window(wj);
    if (!w) return w.error();
    state.windows.push_back(std::move(*w));
  }
  // chat_log is always present in the app's reply; tolerate its absence.
  if (const Json* log = find_member(j, "chat_log")) {
    if (!log->is_array()) return make_error(Errc::wrong_type, "'chat_log' is not an array");
    if (log->size() > max_chat_entries) return make_error(Errc::too_large, "chat_log too long");
    for (const auto& ej : *log) {
      auto e = parse_chat_entry(ej);
      if (!e) return e.error();
      state.chat_log.push_back(std::move(*e));
    }
  }
  return state;
}

// --- events -----------------------------------------------------------------

std::optional<std::string> Event::window_id() const {
  // value() rather than find(): GCC 12 at -O2 flags a dereferenced
  // nlohmann iterator as a potential null dereference (false positive).
  if (!payload.is_object()) return std::nullopt;
  const Json id = payload.value("id", Json());
  if (!id.is_string()) return std::nullopt;
  return id.get<std::string>();
}

std::string format_subscribed() { return "{\"type\":\"subscribed\"}\n"; }

std::string format_event(const Event& e) {
  std::string out = "{\"type\":\"event\",\"seq\":";
  append_int(out, e.seq);
  out += ",\"event\":";
  out += dump(Json(e.event));
  out += ",\"payload\":";
  out += dump(e.payload);
  out += "}\n";
  return out;
}

Result<EventLine> parse_event_line(std::string_view line) {
  auto parsed = parse_json(strip_line_end(line));
  if (!parsed) return parsed.error();
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(Errc::wrong_type, "event line is not an object");
  auto type = get_string(j, "type");
  if (!type) return type.error();
  if (*type == "subscribed") return EventLine{Subscribed{}};
  if (*type != "event") return make_error(Errc::unsupported, "unknown event line type '" + *type + "'");
  Event e;
  auto seq = get_int<std::int64_t>(j, "seq");
  if (!seq) return seq.error();
  e.seq = *seq;
  auto name = get_string(j, "event");
  if (!name) return name.error();
  e.event = std::move(*name);
  if (const Json* p = find_member(j, "payload")) e.payload = *p;
  return EventLine{std::move(e)};
}

// --- authentication ---------------------------------------------------------

std::string hmac_sha256_hex(std::string_view secret, std::string_view nonce) {
  // Nettle, not OpenSSL: OpenSSL 3's first digest sets up its provider
  // tables, 2.3 MB of the bridge's resident memory for one HMAC per request
  // (docs/bench-bridge.md).
  hmac_sha256_ctx ctx;
  hmac_sha256_set_key(&ctx, secret.size(), reinterpret_cast<const std::uint8_t*>(secret.data()));
  hmac_sha256_update(&ctx, nonce.size(), reinterpret_cast<const std::uint8_t*>(nonce.data()));
  std::array<std::uint8_t, SHA256_DIGEST_SIZE> mac{};
  hmac_sha256_digest(&ctx, mac.size(), mac.data());
  std::string hex;
  hex.reserve(mac.size() * 2);
  for (const std::uint8_t b : mac) {
    hex += hex_lower[b >> 4];
    hex += hex_lower[b & 0xF];
  }
  return hex;
}

std::string format_challenge(std::string_view nonce) {
  return "{\"type\":\"challenge\",\"nonce\":" + dump(Json(std::string(nonce))) + "}\n";
}

Result<std::string> parse_challenge(std::string_view line) {
  auto parsed = parse_json(strip_line_end(line));
  if (!parsed)
    return make_error(parsed.error().code,
                      "expected an auth challenge, got a non-JSON line: is WIBWOB_AUTH_SECRET set on the client but not on the app?");
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(Errc::wrong_type, "expected an auth challenge object");
  if (const Json* e = find_member(j, "error"); e && e->is_string() && e->get<std::string>() == "auth_failed")
    return make_error(Errc::auth_failed, "server refused authentication");
  const Json* type = find_member(j, "type");
  if (!type || !type->is_string() || type->get<std::string>() != "challenge")
    return make_error(Errc::unsupported,
                      "expected an auth challenge: is WIBWOB_AUTH_SECRET set on the client but not on the app?");
  auto nonce = get_string(j, "nonce");
  if (!nonce) return nonce.error();
  if (nonce->size() != 32 || !is_lower_hex(*nonce))
    return make_error(Errc::bad_value, "challenge nonce is not 32 lowercase hex characters");
  return nonce;
}

std::string format_auth(std::string_view hmac_hex) {
  return "{\"type\":\"auth\",\"hmac\":" + dump(Json(std::string(hmac_hex))) + "}\n";
}

Result<std::string> answer_challenge(std::string_view challenge_line, std::string_view secret) {
  auto nonce = parse_challenge(challenge_line);
  if (!nonce) return nonce.error();
  return format_auth(hmac_sha256_hex(secret, *nonce));
}

std::optional<std::string> extract_hmac(std::string_view auth_line) {
  // The app's rule (spec "Authentication"): find `"hmac":`, then take what
  // lies between the next two quotes. So `"hmac": "…"` (Python's json.dumps)
  // works and `"hmac" :` does not; no JSON unescaping happens.
  static constexpr std::string_view marker = "\"hmac\":";
  const auto pos = auth_line.find(marker);
  if (pos == std::string_view::npos) return std::nullopt;
  const auto open = auth_line.find('"', pos + marker.size());
  if (open == std::string_view::npos) return std::nullopt;
  const auto close = auth_line.find('"', open + 1);
  if (close == std::string_view::npos) return std::nullopt;
  return std::string(auth_line.substr(open + 1, close - open - 1));
}

bool verify_auth(std::string_view auth_line, std::string_view secret, std::string_view nonce) {
  const auto got = extract_hmac(auth_line);
  if (!got) return false;
  const std::string want = hmac_sha256_hex(secret, nonce);
  if (want.empty() || got->size() != want.size()) return false;
  // Constant time: the comparison must not leak how many characters matched.
  return memeql_sec(got->data(), want.data(), want.size()) != 0;
}

std::string format_auth_ok() { return "{\"type\":\"auth_ok\"}\n"; }
std::string format_auth_failed() { return "{\"error\":\"auth_failed\"}\n"; }

AuthResult classify_auth_result(std::string_view line) {
  auto parsed = parse_json(strip_line_end(line));
  if (!parsed || !parsed->is_object()) return AuthResult::unexpected;
  const Json& j = *parsed;
  if (const Json* t = find_member(j, "type"); t && t->is_string() && t->get<std::string>() == "auth_ok")
    return AuthResult::ok;
  if (const Json* e = find_member(j, "error"); e && e->is_string() && e->get<std::string>() == "auth_failed")
    return AuthResult::failed;
  return AuthResult::unexpected;
}

}  // namespace wibwob::protocol::ipc
