#include "orchestrator/core/room_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <limits>
#include <map>

#include <boost/url/parse.hpp>
#include <yaml-cpp/yaml.h>

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

const std::vector<std::string_view>& known_keys() {
  static const std::vector<std::string_view> keys = {
      "room_id",      "display_name",  "instance_id",   "ttyd_port",      "layout_path",
      "api_key_source", "max_visitors", "preload_files", "multiplayer",  "partykit_room",
      "partykit_server", "max_players"};
  return keys;
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

}  // namespace

RoomFileResult parse_room_file(std::string_view source, std::string_view text) {
  RoomFileResult out;
  auto fail = [&](int line, std::string message) {
    out.diagnostics.push_back(file_error(source, line, std::move(message)));
    return out;
  };
  if (text.size() > max_room_file_bytes)
    return fail(0, "file is " + std::to_string(text.size()) + " bytes; a room file may be at most " +
                       std::to_string(max_room_file_bytes));
  if (text.find('\0') != std::string_view::npos) return fail(0, "file contains NUL bytes: not a text file");
  if (!valid_utf8(text)) return fail(0, "file is not valid UTF-8");
  if (text.starts_with("\xEF\xBB\xBF"))
    return fail(1, "file starts with a UTF-8 byte-order mark; it must start with a `---` line");

  // Frontmatter: from the first line (`---`) to the next `---` (or `...`) line.
  const auto first_end = text.find('\n');
  if (strip_line_end(text.substr(0, first_end)) != "---")
    return fail(1, "file must start with a `---` line (YAML frontmatter), got " +
                       quote(strip_line_end(text.substr(0, std::min<std::size_t>(first_end, 40)))));
  if (first_end == std::string_view::npos) return fail(1, "frontmatter is not closed: no second `---` line");
  std::size_t pos = first_end + 1;
  int line_no = 2;
  std::optional<std::size_t> close_begin, close_end;
  while (pos < text.size()) {
    const auto e = text.find('\n', pos);
    const auto line = strip_line_end(text.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos));
    if (line == "---" || line == "...") {
      close_begin = pos;
      close_end = e == std::string_view::npos ? text.size() : e + 1;
      break;
    }
    if (e == std::string_view::npos) break;
    pos = e + 1;
    ++line_no;
  }
  if (!close_begin) return fail(1, "frontmatter is not closed: no second `---` line");
  const std::string_view yaml_text = text.substr(first_end + 1, *close_begin - (first_end + 1));
  if (yaml_text.size() > max_frontmatter_bytes)
    return fail(2, "frontmatter is " + std::to_string(yaml_text.size()) + " bytes; at most " +
                       std::to_string(max_frontmatter_bytes) + " are accepted");

  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() || e.mark.line < 0 ? 0 : e.mark.line + 2;
    return fail(line, "frontmatter is not valid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return fail(0, std::string("frontmatter could not be parsed: ") + e.what());
  }

  Validator v(source, 2);
  try {
    if (!root.IsDefined() || root.IsNull())
      return fail(2, "frontmatter is empty: expected a mapping with room_id, instance_id and ttyd_port");
    if (!root.IsMap())
      return fail(v.line_of(root) ? v.line_of(root) : 2,
                  std::string("frontmatter must be a YAML mapping (key: value lines), got ") + kind_name(root));

    std::map<std::string, YAML::Node> fields;
    std::map<std::string, int> first_line;
    for (const auto& kv : root) {
      const YAML::Node& k = kv.first;
      if (!k.IsScalar() || is_null(k)) {
        v.error(&k, std::string("keys must be plain names, got ") + kind_name(k));
        continue;
      }
      const std::string key = k.Scalar();
      const auto& known = known_keys();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string msg = "unknown key " + quote(key);
        if (auto s = suggest_key(key))
          msg += " (did you mean '" + *s + "'?)";
        else
          msg += " (known keys: room_id, display_name, instance_id, ttyd_port, layout_path, api_key_source, "
                 "max_visitors, preload_files, multiplayer, partykit_room, partykit_server, max_players)";
        v.error(&k, msg);
        continue;
      }
      if (auto it = first_line.find(key); it != first_line.end()) {
        v.error(&k, "key '" + key + "' appears twice (first on line " + std::to_string(it->second) + ")");
        continue;
      }
      first_line[key] = v.line_of(k);
      fields[key] = kv.second;
    }

    Room room;
    room.source = std::string(source);
    auto get = [&](const char* key) -> const YAML::Node* {
      auto it = fields.find(key);
      if (it == fields.end() || is_null(it->second)) return nullptr;
      return &it->second;
    };
    auto required = [&](const char* key) -> const YAML::Node* {
      const YAML::Node* n = get(key);
      if (!n) v.error_at_line(fields.count(key) ? first_line[key] : 0,
                              std::string("missing required field '") + key + "'");
      return n;
    };

    if (auto* n = required("room_id"))
      if (auto s = v.string_field("room_id", *n)) {
        if (s->find('/') != std::string::npos || s->find(' ') != std::string::npos)
          v.error(n, "room_id: must not contain '/' or spaces, got " + quote(*s));
        else
          room.room_id = *s;
      }
    if (auto* n = required("instance_id"))
      if (auto i = v.int_field("instance_id", *n, 0, std::numeric_limits<std::int32_t>::max())) room.instance_id = *i;
    if (auto* n = required("ttyd_port"))
      if (auto i = v.int_field("ttyd_port", *n, 1024, 65535)) room.ttyd_port = static_cast<int>(*i);
    if (auto* n = get("display_name"))
      if (auto s = v.string_field("display_name", *n)) room.display_name = *s;
    if (auto* n = get("layout_path"))
      if (auto s = v.string_field("layout_path", *n)) room.layout_path = *s;
    if (auto* n = get("api_key_source")) {
      if (auto s = v.string_field("api_key_source", *n)) {
        if (*s == "env") room.api_key_source = ApiKeySource::env;
        else if (*s == "host_config") room.api_key_source = ApiKeySource::host_config;
        else if (*s == "visitor_dialog") room.api_key_source = ApiKeySource::visitor_dialog;
        else v.error(n, "api_key_source: must be one of env, host_config, visitor_dialog; got " + quote(*s));
      }
    }
    if (auto* n = get("max_visitors"))
      if (auto i = v.int_field("max_visitors", *n, 1, 1000000)) room.max_visitors = static_cast<int>(*i);
    if (auto* n = get("preload_files")) {
      if (!n->IsSequence()) {
        v.error(n, std::string("preload_files: must be a list of paths, got ") + kind_name(*n));
      } else {
        for (const auto& item : *n)
          if (auto s = v.string_field("preload_files item", item)) room.preload_files.push_back(*s);
      }
    }
    if (auto* n = get("multiplayer"))
      if (auto b = v.bool_field("multiplayer", *n)) room.multiplayer = *b;
    if (auto* n = get("partykit_room")) {
      if (auto s = v.string_field("partykit_room", *n)) {
        if (s->find('/') != std::string::npos || s->find(' ') != std::string::npos)
          v.error(n, "partykit_room: becomes one URL path segment and must not contain '/' or spaces, got " + quote(*s));
        else
          room.partykit_room = *s;
      }
    }
    if (auto* n = get("partykit_server")) {
      if (auto s = v.string_field("partykit_server", *n)) {
        auto u = boost::urls::parse_uri(*s);
        if (!u) {
          v.error(n, "partykit_server: " + quote(*s) + " is not a URL (use http://, https://, ws:// or wss://)");
        } else {
          const std::string scheme = lower(u->scheme());
          if (scheme != "http" && scheme != "https" && scheme != "ws" && scheme != "wss")
            v.error(n, "partykit_server: scheme '" + std::string(u->scheme()) +
                           "' is not one of http, https, ws, wss in " + quote(*s));
          else if (u->host_address().empty())
            v.error(n, "partykit_server: no host in " + quote(*s));
          else
            room.partykit_server = *s;
        }
      }
    }
    const YAML::Node* max_players = get("max_players");
    if (max_players)
      if (auto i = v.int_field("max_players", *max_players, 0, 1000000)) room.max_players = static_cast<int>(*i);

    if (room.display_name.empty()) room.display_name = room.room_id;
    if (room.multiplayer) {
      if (!fields.count("partykit_room") || (!get("partykit_room")))
        v.error_at_line(first_line.count("multiplayer") ? first_line["multiplayer"] : 0,
                        "multiplayer: true requires 'partykit_room'");
      if (!fields.count("partykit_server") || (!get("partykit_server")))
        v.error_at_line(first_line.count("multiplayer") ? first_line["multiplayer"] : 0,
                        "multiplayer: true requires 'partykit_server' (an http, https, ws or wss URL)");
      if (max_players && room.max_players < 2)
        v.error(max_players, "max_players: must be at least 2 in a multiplayer room, got " +
                                 std::to_string(room.max_players));
    } else if (get("partykit_room") || get("partykit_server")) {
      v.warning(get("partykit_room") ? get("partykit_room") : get("partykit_server"),
                "partykit_room/partykit_server are set but multiplayer is not true: this room gets no bridge");
    }

    room.body = std::string(text.substr(*close_end));
    out.diagnostics = v.take();
    const bool failed = std::any_of(out.diagnostics.begin(), out.diagnostics.end(),
                                    [](const Diagnostic& d) { return d.is_error(); });
    if (!failed) out.room = std::move(room);
  } catch (const std::exception& e) {
    // yaml-cpp throws on a few accessors of malformed trees; never let it escape.
    out.room.reset();
    out.diagnostics = v.take();
    out.diagnostics.push_back(file_error(source, 0, std::string("frontmatter could not be read: ") + e.what()));
  }
  std::stable_sort(out.diagnostics.begin(), out.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
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
