#include "orchestrator/core/room_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <functional>
#include <limits>
#include <map>

#include <yaml-cpp/yaml.h>

#include "protocol/server_url.hpp"

namespace wibwob::orchestrator {

const char* to_string(ApiKeySource s) noexcept {
  switch (s) {
    case ApiKeySource::env: return "env";
    case ApiKeySource::host_config: return "host_config";
    case ApiKeySource::visitor_dialog: return "visitor_dialog";
  }
  return "?";
}

std::string format(const Diagnostic& d) {
  std::string s = d.source;
  if (d.line > 0) s += ":" + std::to_string(d.line);
  s += d.is_error() ? ": error: " : ": warning: ";
  s += d.message;
  return s;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance: a swapped pair of letters is one edit,
  // the commonest typo after a missing letter.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

}  // namespace

std::optional<std::string> suggest_key(std::string_view key) {
  if (key.size() > 64) return std::nullopt;
  const std::string k = lower(key);
  std::optional<std::string> best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (auto known : known_keys()) {
    std::string alt(known);
    // `partykit-room` and `partykitRoom` are the same key in other spellings.
    std::string k2 = k;
    std::replace(k2.begin(), k2.end(), '-', '_');
    std::size_t d = std::min(edit_distance(k, known), edit_distance(k2, known));
    std::string squashed_known;
    for (char c : known)
      if (c != '_') squashed_known += c;
    if (k2 == squashed_known) d = std::min<std::size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = alt;
    }
  }
  // At most two edits, and never most of the word.
  if (best && best_d <= 2 && best_d * 3 <= best->size()) return best;
  return std::nullopt;
}

namespace {

using Severity = Diagnostic::Severity;

// YAML 1.1 (what the earlier Python tool read with PyYAML) resolves these
// plain scalars to booleans.
constexpr std::array<std::string_view, 18> yaml_bools = {
    "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
    "no",   "No",   "NO",   "on",    "On",    "ON",    "off", "Off", "OFF"};

std::optional<bool> as_yaml_bool(std::string_view s) {
  const auto it = std::find(yaml_bools.begin(), yaml_bools.end(), s);
  if (it == yaml_bools.end()) return std::nullopt;
  const std::string l = lower(s);
  return l == "true" || l == "yes" || l == "on";
}

bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

bool is_null(const YAML::Node& n) {
  if (n.IsNull()) return true;
  if (!n.IsScalar() || !is_plain(n)) return false;
  const std::string& s = n.Scalar();
  return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::string quote(std::string_view s) {
  std::string r = "'";
  std::size_t shown = 0;
  for (char c : s) {
    if (++shown > 60) {
      r += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static const char* hex = "0123456789abcdef";
      r += "\\x";
      r += hex[u >> 4];
      r += hex[u & 15];
    } else {
      r += c;
    }
  }
  return r + "'";
}

const char* kind_name(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  if (is_null(n)) return "nothing (null)";
  return "a scalar";
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

class Validator {
 public:
  Validator(std::string_view source, int line_offset) : source_(source), offset_(line_offset) {}

  void error(const YAML::Node* at, std::string message) { add(Severity::error, at, std::move(message)); }
  void warning(const YAML::Node* at, std::string message) { add(Severity::warning, at, std::move(message)); }
  void error_at_line(int line, std::string message) {
    diags_.push_back(Diagnostic{Severity::error, std::string(source_), line, std::move(message)});
  }

  int line_of(const YAML::Node& n) const {
    const auto m = n.Mark();
    return m.is_null() || m.line < 0 ? 0 : m.line + offset_;
  }

  // A string field: any non-null scalar.
  std::optional<std::string> string_field(const std::string& key, const YAML::Node& n) {
    if (!n.IsScalar() || is_null(n)) {
      error(&n, key + ": must be a string, got " + kind_name(n));
      return std::nullopt;
    }
    const std::string& s = n.Scalar();
    if (s.empty()) {
      error(&n, key + ": must not be empty");
      return std::nullopt;
    }
    if (has_control(s)) {
      error(&n, key + ": contains control characters: " + quote(s));
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::int64_t> int_field(const std::string& key, const YAML::Node& n, std::int64_t lo,
                                        std::int64_t hi) {
    if (!n.IsScalar() || is_null(n)) {
      error(&n, key + ": must be an integer, got " + kind_name(n));
      return std::nullopt;
    }
    const std::string& s = n.Scalar();
    if (is_plain(n) && as_yaml_bool(s)) {
      // PyYAML hands `true` over as a bool, and Python's bool is an int: the
      // earlier tool accepted `instance_id: true` as instance 1.
      error(&n, key + ": must be an integer, got the YAML bool " + quote(s) + " (a YAML bool is not an integer)");
      return std::nullopt;
    }
    if (!is_plain(n)) {
      error(&n, key + ": must be an integer, got the quoted string " + quote(s) + " (remove the quotes)");
      return std::nullopt;
    }
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || p != digits.data() + digits.size() || (ec != std::errc{} && ec != std::errc::result_out_of_range) ||
        (!digits.empty() && digits.front() == '-' && digits.size() == 1)) {
      error(&n, key + ": must be a decimal integer, got " + quote(s));
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
      error(&n, key + ": " + quote(s) + " is out of range (" + std::to_string(lo) + "-" + std::to_string(hi) + ")");
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> bool_field(const std::string& key, const YAML::Node& n) {
    if (n.IsScalar() && is_plain(n))
      if (auto b = as_yaml_bool(n.Scalar())) return b;
    if (n.IsScalar() && !is_null(n))
      error(&n, key + ": must be true or false, got " + (is_plain(n) ? "" : std::string("the quoted string ")) +
                    quote(n.Scalar()));
    else
      error(&n, key + ": must be true or false, got " + kind_name(n));
    return std::nullopt;
  }

  std::vector<Diagnostic> take() { return std::move(diags_); }
  bool failed() const {
    return std::any_of(diags_.begin(), diags_.end(), [](const Diagnostic& d) { return d.is_error(); });
  }

 private:
  void add(Severity sev, const YAML::Node* at, std::string message) {
    diags_.push_back(Diagnostic{sev, std::string(source_), at ? line_of(*at) : 0, std::move(message)});
  }

  std::string_view source_;
  int offset_;
  std::vector<Diagnostic> diags_;
};

std::string_view strip_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += len;
  }
  return true;
}

Diagnostic file_error(std::string_view source, int line, std::string message) {
  return Diagnostic{Severity::error, std::string(source), line, std::move(message)};
}

// "a, b and c"
std::string join_words(const std::vector<std::string_view>& words, const char* last_sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? last_sep : ", ";
    out += words[i];
  }
  return out;
}

// --- step 1: the file as text ------------------------------------------------------

// Size, NUL bytes, UTF-8 and a byte-order mark: a room file is a page of text.
std::optional<Diagnostic> check_text(std::string_view source, std::string_view text) {
  if (text.size() > max_room_file_bytes)
    return file_error(source, 0, "file is " + std::to_string(text.size()) + " bytes; a room file may be at most " +
                                     std::to_string(max_room_file_bytes));
  if (text.find('\0') != std::string_view::npos) return file_error(source, 0, "file contains NUL bytes: not a text file");
  if (!valid_utf8(text)) return file_error(source, 0, "file is not valid UTF-8");
  if (text.starts_with("\xEF\xBB\xBF"))
    return file_error(source, 1, "file starts with a UTF-8 byte-order mark; it must start with a `---` line");
  return std::nullopt;
}

// --- step 2: the frontmatter splitter ----------------------------------------------

struct Split {
  std::string_view yaml;  // between the `---` lines (starts on line 2)
  std::string_view body;  // after the closing line, untouched
  std::optional<Diagnostic> error;
};

// The frontmatter runs from the first line (`---`) to the next `---` (or
// `...`) line.
Split split_frontmatter(std::string_view source, std::string_view text) {
  auto fail = [&](int line, std::string message) { return Split{{}, {}, file_error(source, line, std::move(message))}; };
  const auto first_end = text.find('\n');
  if (strip_line_end(text.substr(0, first_end)) != "---")
    return fail(1, "file must start with a `---` line (YAML frontmatter), got " +
                       quote(strip_line_end(text.substr(0, std::min<std::size_t>(first_end, 40)))));
  if (first_end == std::string_view::npos) return fail(1, "frontmatter is not closed: no second `---` line");
  for (std::size_t pos = first_end + 1; pos < text.size();) {
    const auto e = text.find('\n', pos);
    const auto line = strip_line_end(text.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos));
    if (line == "---" || line == "...") {
      const std::string_view yaml = text.substr(first_end + 1, pos - (first_end + 1));
      if (yaml.size() > max_frontmatter_bytes)
        return fail(2, "frontmatter is " + std::to_string(yaml.size()) + " bytes; at most " +
                           std::to_string(max_frontmatter_bytes) + " are accepted");
      return Split{yaml, e == std::string_view::npos ? std::string_view() : text.substr(e + 1), std::nullopt};
    }
    if (e == std::string_view::npos) break;
    pos = e + 1;
  }
  return fail(1, "frontmatter is not closed: no second `---` line");
}

// --- step 3: the table of fields ---------------------------------------------------

struct FieldReader {
  std::string_view key;
  bool required;
  // Checks the (present, non-null) value and stores it in the room.
  std::function<void(Validator&, const YAML::Node&, Room&)> read;
};

// A string that becomes one name (room_id) or URL path segment (partykit_room).
std::optional<std::string> one_segment(Validator& v, const YAML::Node& n, const std::string& key, const char* why) {
  auto s = v.string_field(key, n);
  if (s && (s->find('/') != std::string::npos || s->find(' ') != std::string::npos)) {
    v.error(&n, key + ": " + why + "must not contain '/' or spaces, got " + quote(*s));
    return std::nullopt;
  }
  return s;
}

template <class T>
std::function<void(Validator&, const YAML::Node&, Room&)> integer(const char* key, std::int64_t lo, std::int64_t hi,
                                                                  T Room::*field) {
  return [=](Validator& v, const YAML::Node& n, Room& r) {
    if (auto i = v.int_field(key, n, lo, hi)) r.*field = static_cast<T>(*i);
  };
}

std::function<void(Validator&, const YAML::Node&, Room&)> text(const char* key, std::string Room::*field) {
  return [=](Validator& v, const YAML::Node& n, Room& r) {
    if (auto s = v.string_field(key, n)) r.*field = *s;
  };
}

std::function<void(Validator&, const YAML::Node&, Room&)> optional_text(const char* key,
                                                                        std::optional<std::string> Room::*field) {
  return [=](Validator& v, const YAML::Node& n, Room& r) {
    if (auto s = v.string_field(key, n)) r.*field = *s;
  };
}

void read_api_key_source(Validator& v, const YAML::Node& n, Room& r) {
  auto s = v.string_field("api_key_source", n);
  if (!s) return;
  for (auto src : {ApiKeySource::env, ApiKeySource::host_config, ApiKeySource::visitor_dialog})
    if (*s == to_string(src)) {
      r.api_key_source = src;
      return;
    }
  v.error(&n, "api_key_source: must be one of env, host_config, visitor_dialog; got " + quote(*s));
}

void read_preload_files(Validator& v, const YAML::Node& n, Room& r) {
  if (!n.IsSequence()) {
    v.error(&n, std::string("preload_files: must be a list of paths, got ") + kind_name(n));
    return;
  }
  for (const auto& item : n)
    if (auto s = v.string_field("preload_files item", item)) r.preload_files.push_back(*s);
}

void read_partykit_server(Validator& v, const YAML::Node& n, Room& r) {
  auto s = v.string_field("partykit_server", n);
  if (!s) return;
  // The same check as the bridge's (protocol/server_url.hpp).
  if (auto u = protocol::parse_server_url(*s); !u)
    v.error(&n, "partykit_server: " + u.error().message);
  else
    r.partykit_server = *s;
}

// rooms.md's keys, in its order, each with its reader.
const std::vector<FieldReader>& field_table() {
  static const std::vector<FieldReader> table = {
      {"room_id", true,
       [](Validator& v, const YAML::Node& n, Room& r) {
         if (auto s = one_segment(v, n, "room_id", "")) r.room_id = *s;
       }},
      {"display_name", false, text("display_name", &Room::display_name)},
      {"instance_id", true, integer("instance_id", 0, std::numeric_limits<std::int32_t>::max(), &Room::instance_id)},
      {"ttyd_port", true, integer("ttyd_port", 1024, 65535, &Room::ttyd_port)},
      {"layout_path", false, optional_text("layout_path", &Room::layout_path)},
      {"api_key_source", false, read_api_key_source},
      {"max_visitors", false, integer("max_visitors", 1, 1000000, &Room::max_visitors)},
      {"preload_files", false, read_preload_files},
      {"multiplayer", false,
       [](Validator& v, const YAML::Node& n, Room& r) {
         if (auto b = v.bool_field("multiplayer", n)) r.multiplayer = *b;
       }},
      {"partykit_room", false,
       [](Validator& v, const YAML::Node& n, Room& r) {
         if (auto s = one_segment(v, n, "partykit_room", "becomes one URL path segment and ")) r.partykit_room = *s;
       }},
      {"partykit_server", false, read_partykit_server},
      {"max_players", false, integer("max_players", 0, 1000000, &Room::max_players)},
  };
  return table;
}

std::vector<std::string_view> required_keys() {
  std::vector<std::string_view> out;
  for (const auto& f : field_table())
    if (f.required) out.push_back(f.key);
  return out;
}

// --- step 4: key collection --------------------------------------------------------

// The mapping's known keys, each once, with the line it is on.
struct Fields {
  std::map<std::string, YAML::Node, std::less<>> nodes;
  std::map<std::string, int, std::less<>> first_line;

  // Present and not null.
  const YAML::Node* get(std::string_view key) const {
    auto it = nodes.find(key);
    if (it == nodes.end() || is_null(it->second)) return nullptr;
    return &it->second;
  }
  int line_of(std::string_view key) const {
    auto it = first_line.find(key);
    return it == first_line.end() ? 0 : it->second;
  }
};

std::string unknown_key_message(const std::string& key) {
  std::string msg = "unknown key " + quote(key);
  if (auto s = suggest_key(key)) return msg + " (did you mean '" + *s + "'?)";
  return msg + " (known keys: " + join_words(known_keys(), ", ") + ")";
}

Fields collect_keys(const YAML::Node& root, Validator& v) {
  Fields f;
  const auto& known = known_keys();
  for (const auto& kv : root) {
    const YAML::Node& k = kv.first;
    if (!k.IsScalar() || is_null(k)) {
      v.error(&k, std::string("keys must be plain names, got ") + kind_name(k));
      continue;
    }
    const std::string key = k.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      v.error(&k, unknown_key_message(key));
      continue;
    }
    if (auto it = f.first_line.find(key); it != f.first_line.end()) {
      v.error(&k, "key '" + key + "' appears twice (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    f.first_line[key] = v.line_of(k);
    f.nodes[key] = kv.second;
  }
  return f;
}

void read_fields(const Fields& f, Validator& v, Room& room) {
  for (const auto& field : field_table()) {
    if (const YAML::Node* n = f.get(field.key))
      field.read(v, *n, room);
    else if (field.required)
      v.error_at_line(f.line_of(field.key), "missing required field '" + std::string(field.key) + "'");
  }
}

// --- step 5: rules across fields ---------------------------------------------------

void check_cross_field_rules(const Fields& f, Validator& v, Room& room) {
  if (room.display_name.empty()) room.display_name = room.room_id;
  if (!room.multiplayer) {
    if (const YAML::Node* n = f.get("partykit_room") ? f.get("partykit_room") : f.get("partykit_server"))
      v.warning(n, "partykit_room/partykit_server are set but multiplayer is not true: this room gets no bridge");
    return;
  }
  const int line = f.line_of("multiplayer");
  if (!f.get("partykit_room")) v.error_at_line(line, "multiplayer: true requires 'partykit_room'");
  if (!f.get("partykit_server"))
    v.error_at_line(line, "multiplayer: true requires 'partykit_server' (an http, https, ws or wss URL)");
  if (const YAML::Node* n = f.get("max_players"); n && room.max_players < 2)
    v.error(n, "max_players: must be at least 2 in a multiplayer room, got " + std::to_string(room.max_players));
}

// Steps 3 to 5 over the parsed frontmatter.
void read_room(const YAML::Node& root, Validator& v, Room& room) {
  if (!root.IsDefined() || root.IsNull()) {
    v.error_at_line(2, "frontmatter is empty: expected a mapping with " + join_words(required_keys(), " and "));
    return;
  }
  if (!root.IsMap()) {
    v.error_at_line(v.line_of(root) ? v.line_of(root) : 2,
                    std::string("frontmatter must be a YAML mapping (key: value lines), got ") + kind_name(root));
    return;
  }
  const Fields fields = collect_keys(root, v);
  read_fields(fields, v, room);
  check_cross_field_rules(fields, v, room);
}

}  // namespace

const std::vector<std::string_view>& known_keys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> out;
    for (const auto& f : field_table()) out.push_back(f.key);
    return out;
  }();
  return keys;
}

RoomFileResult parse_room_file(std::string_view source, std::string_view text) {
  RoomFileResult out;
  if (auto bad = check_text(source, text)) {
    out.diagnostics.push_back(std::move(*bad));
    return out;
  }
  Split split = split_frontmatter(source, text);
  if (split.error) {
    out.diagnostics.push_back(std::move(*split.error));
    return out;
  }
  Validator v(source, 2);
  Room room;
  room.source = std::string(source);
  room.body = std::string(split.body);
  try {
    // yaml-cpp reports malformed YAML, and a few accessors of odd trees, by
    // throwing: its exceptions end here, as diagnostics.
    read_room(YAML::Load(std::string(split.yaml)), v, room);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() || e.mark.line < 0 ? 0 : e.mark.line + 2;
    v.error_at_line(line, "frontmatter is not valid YAML: " + e.msg);
  } catch (const std::exception& e) {
    v.error_at_line(0, std::string("frontmatter could not be read: ") + e.what());
  }
  const bool failed = v.failed();
  out.diagnostics = v.take();
  std::stable_sort(out.diagnostics.begin(), out.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  if (!failed) out.room = std::move(room);
  return out;
}

std::vector<Diagnostic> check_room_set(const std::vector<Room>& rooms) {
  std::vector<Diagnostic> out;
  std::map<std::string, const Room*> ids;
  std::map<std::int64_t, const Room*> instances;
  std::map<int, const Room*> ports;
  for (const Room& r : rooms) {
    if (auto [it, fresh] = ids.emplace(r.room_id, &r); !fresh)
      out.push_back(file_error(r.source, 0, "room_id '" + r.room_id + "' is also used by " + it->second->source));
    if (auto [it, fresh] = instances.emplace(r.instance_id, &r); !fresh)
      out.push_back(file_error(r.source, 0, "instance_id " + std::to_string(r.instance_id) + " is also used by " +
                                                it->second->source + " (both apps would share one IPC socket)"));
    if (auto [it, fresh] = ports.emplace(r.ttyd_port, &r); !fresh)
      out.push_back(file_error(r.source, 0, "ttyd_port " + std::to_string(r.ttyd_port) + " is also used by " +
                                                it->second->source));
  }
  return out;
}

}  // namespace wibwob::orchestrator
