#include "protocol/window.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace wibwob::protocol {

namespace {

// Keys that are part of the synced model; everything else goes to `extra`.
bool is_model_key(std::string_view k) {
  return k == "id" || k == "type" || k == "x" || k == "y" || k == "w" || k == "h" ||
         k == "width" || k == "height" || k == "path";
}

// Nesting depth of an already-parsed value, measured without recursion so a
// hostile value cannot exhaust the stack. Stops counting past `limit`.
int json_depth(const Json& root, int limit) {
  std::vector<std::pair<const Json*, int>> stack{{&root, 1}};
  int deepest = 0;
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (deepest > limit) return deepest;
    if (v->is_structured())
      for (const auto& child : *v) stack.emplace_back(&child, d + 1);
  }
  return deepest;
}

// Geometry must be an integer that fits int32. JavaScript has one number
// type, so an integral float (3.0) is accepted; 3.5, NaN and strings are not.
Result<std::int32_t> read_int32(const Json& j, std::string_view key) {
  constexpr auto lo = std::numeric_limits<std::int32_t>::min();
  constexpr auto hi = std::numeric_limits<std::int32_t>::max();
  std::string k(key);
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v < lo || v > hi) return make_error(Errc::bad_value, k + " out of range");
    return static_cast<std::int32_t>(v);
  }
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(hi)) return make_error(Errc::bad_value, k + " out of range");
    return static_cast<std::int32_t>(v);
  }
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d) return make_error(Errc::bad_value, k + " is not an integer");
    if (d < lo || d > hi) return make_error(Errc::bad_value, k + " out of range");
    return static_cast<std::int32_t>(d);
  }
  return make_error(Errc::wrong_type, k + " must be a number");
}

Result<std::int32_t> read_geometry(const Json& j, std::string_view key, std::string_view alt) {
  if (auto it = j.find(key); it != j.end()) return read_int32(*it, key);
  if (!alt.empty())
    if (auto it = j.find(alt); it != j.end()) return read_int32(*it, alt);
  return make_error(Errc::missing_field, "missing " + std::string(key));
}

std::string js_number(const Json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  const double d = v.get<double>();
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e21)
    return std::to_string(static_cast<long long>(d));
  return v.dump();
}

}  // namespace

bool is_acceptable_window_id(std::string_view id, const Limits& limits) {
  if (id.empty() || id.size() > limits.max_id_bytes) return false;
  // Names that a JavaScript object store treats specially.
  if (id == "__proto__" || id == "constructor" || id == "prototype") return false;
  // Printable ASCII without spaces: ids go into logs and IPC lines.
  return std::all_of(id.begin(), id.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

bool Window::same_synced(const Window& o) const noexcept {
  return id == o.id && type == o.type && x == o.x && y == o.y && w == o.w && h == o.h &&
         path == o.path;
}

Result<Window> normalise_window(const Json& j, const Limits& limits) {
  if (!j.is_object()) return make_error(Errc::wrong_type, "window must be an object");
  if (json_depth(j, limits.max_depth) > limits.max_depth)
    return make_error(Errc::too_deep, "window nested deeper than " + std::to_string(limits.max_depth));

  Window w;
  auto id = j.find("id");
  if (id == j.end()) return make_error(Errc::missing_field, "window without id");
  if (!id->is_string()) return make_error(Errc::wrong_type, "window id must be a string");
  w.id = id->get<std::string>();
  if (!is_acceptable_window_id(w.id, limits))
    return make_error(Errc::bad_value, "unacceptable window id (empty, too long, reserved or non-printable)");

  auto type = j.find("type");
  if (type == j.end()) return make_error(Errc::missing_field, "window " + w.id + " without type");
  if (!type->is_string()) return make_error(Errc::wrong_type, "window " + w.id + ": type must be a string");
  w.type = type->get<std::string>();
  if (w.type.empty() || w.type.size() > limits.max_string_bytes)
    return make_error(Errc::bad_value, "window " + w.id + ": empty or oversized type");

  struct Field { std::int32_t* out; std::string_view key; std::string_view alt; };
  for (const Field& f : {Field{&w.x, "x", ""}, Field{&w.y, "y", ""}, Field{&w.w, "w", "width"},
                         Field{&w.h, "h", "height"}}) {
    auto v = read_geometry(j, f.key, f.alt);
    if (!v) return make_error(v.error().code, "window " + w.id + ": " + v.error().message);
    *f.out = *v;
  }

  if (auto p = j.find("path"); p != j.end() && !p->is_null()) {
    if (!p->is_string()) return make_error(Errc::wrong_type, "window " + w.id + ": path must be a string");
    auto s = p->get<std::string>();
    if (s.size() > limits.max_string_bytes)
      return make_error(Errc::too_large, "window " + w.id + ": path too long");
    w.path = std::move(s);
  }

  for (const auto& [k, v] : j.items())
    if (!is_model_key(k)) w.extra[k] = v;
  return w;
}

Result<NormalisedLayout> normalise_layout(const Json& j, const Limits& limits) {
  if (!j.is_array() && !j.is_object())
    return make_error(Errc::wrong_type, "layout must be a list or a map of windows");
  if (j.size() > limits.max_windows)
    return make_error(Errc::too_large, "layout has " + std::to_string(j.size()) + " windows (limit " +
                                           std::to_string(limits.max_windows) + ")");
  NormalisedLayout out;
  auto take = [&](const Json& entry) {
    auto w = normalise_window(entry, limits);
    if (!w) {
      out.skipped.push_back(w.error());
      return;
    }
    if (is_internal_window_type(w->type)) {
      ++out.internal_dropped;
      return;
    }
    out.windows[w->id] = std::move(*w);
  };
  if (j.is_array()) {
    for (const auto& e : j) take(e);
  } else {
    for (const auto& [key, e] : j.items()) {
      if (e.is_object() && !e.contains("id")) {
        Json copy = e;
        copy["id"] = key;
        take(copy);
      } else {
        take(e);
      }
    }
  }
  return out;
}

Json to_json(const Window& w) {
  Json j = w.extra.is_object() ? w.extra : Json::object();
  j["id"] = w.id;
  j["type"] = w.type;
  j["x"] = w.x;
  j["y"] = w.y;
  j["w"] = w.w;
  j["h"] = w.h;
  // Always present: an update that drops a path must clear it on the server,
  // whose shallow merge would otherwise keep the old one.
  j["path"] = w.path ? Json(*w.path) : Json(nullptr);
  return j;
}

Json to_json_map(const Layout& l) {
  Json j = Json::object();
  for (const auto& [id, w] : l) j[id] = to_json(w);
  return j;
}

Delta diff(const Layout& a, const Layout& b) {
  Delta d;
  for (const auto& [id, wb] : b) {
    if (is_internal_window_type(wb.type)) continue;
    auto it = a.find(id);
    if (it == a.end() || is_internal_window_type(it->second.type)) {
      d.add.push_back(wb);
    } else if (!it->second.same_synced(wb)) {
      d.update.push_back(wb);
    }
  }
  for (const auto& [id, wa] : a) {
    if (is_internal_window_type(wa.type)) continue;
    auto it = b.find(id);
    if (it == b.end() || is_internal_window_type(it->second.type)) d.remove.push_back(id);
  }
  return d;
}

void apply_in_place(Layout& l, const Delta& d) {
  for (const auto& w : d.add) l[w.id] = w;
  for (const auto& id : d.remove) l.erase(id);
  for (const auto& w : d.update) {
    auto it = l.find(w.id);
    if (it == l.end()) {
      l[w.id] = w;
      continue;
    }
    // {...old, ...win}: synced fields all come from the update (to_json always
    // writes them, path included); extra fields merge key by key.
    Json extra = it->second.extra.is_object() ? it->second.extra : Json::object();
    if (w.extra.is_object())
      for (const auto& [k, v] : w.extra.items()) extra[k] = v;
    it->second = w;
    it->second.extra = std::move(extra);
  }
}

Layout apply_delta(Layout l, const Delta& d) {
  apply_in_place(l, d);
  return l;
}

Json to_json(const Delta& d) {
  Json j = Json::object();
  if (!d.add.empty()) {
    Json a = Json::array();
    for (const auto& w : d.add) a.push_back(to_json(w));
    j["add"] = std::move(a);
  }
  if (!d.remove.empty()) j["remove"] = d.remove;
  if (!d.update.empty()) {
    Json u = Json::array();
    for (const auto& w : d.update) u.push_back(to_json(w));
    j["update"] = std::move(u);
  }
  return j;
}

Result<ParsedDelta> parse_delta(const Json& j, const Limits& limits) {
  if (!j.is_object()) return make_error(Errc::wrong_type, "delta must be an object");
  ParsedDelta out;
  auto list = [&](const char* key) -> Result<const Json*> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return static_cast<const Json*>(nullptr);
    if (!it->is_array()) return make_error(Errc::wrong_type, std::string("delta.") + key + " must be a list");
    if (it->size() > limits.max_windows)
      return make_error(Errc::too_large, std::string("delta.") + key + " has " + std::to_string(it->size()) +
                                             " entries (limit " + std::to_string(limits.max_windows) + ")");
    return &*it;
  };
  auto add = list("add");
  if (!add) return add.error();
  auto remove = list("remove");
  if (!remove) return remove.error();
  auto update = list("update");
  if (!update) return update.error();

  auto windows = [&](const Json* src, std::vector<Window>& dst, const char* what) {
    if (!src) return;
    for (const auto& e : *src) {
      auto w = normalise_window(e, limits);
      if (!w) {
        out.skipped.push_back(make_error(w.error().code, std::string(what) + ": " + w.error().message));
      } else if (is_internal_window_type(w->type)) {
        out.skipped.push_back(make_error(Errc::bad_value, std::string(what) + ": internal window type " + w->type));
      } else {
        dst.push_back(std::move(*w));
      }
    }
  };
  windows(*add, out.delta.add, "add");
  if (*remove) {
    for (const auto& e : **remove) {
      if (!e.is_string()) {
        out.skipped.push_back(make_error(Errc::wrong_type, "remove: id must be a string"));
      } else if (!is_acceptable_window_id(e.get_ref<const std::string&>(), limits)) {
        out.skipped.push_back(make_error(Errc::bad_value, "remove: unacceptable window id"));
      } else {
        out.delta.remove.push_back(e.get<std::string>());
      }
    }
  }
  windows(*update, out.delta.update, "update");
  return out;
}

// --- RoomState ---------------------------------------------------------------

Json RoomState::to_json() const {
  Json w = Json::object();
  for (const auto& [k, v] : windows) w[k] = v;
  return Json{{"windows", std::move(w)}, {"version", version}};
}

std::string js_key(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return v.get<std::string>();
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return js_number(v);
    case Json::value_t::array: {
      // Array.prototype.join(","): null and undefined become "". Bounded
      // depth: js_key is only ever called on ids, which we cap first.
      std::string s;
      bool first = true;
      for (const auto& e : v) {
        if (!first) s += ',';
        first = false;
        if (!e.is_null()) s += e.is_array() ? std::string("[nested]") : js_key(e);
      }
      return s;
    }
    default: return "[object Object]";
  }
}

namespace {

// The JavaScript property lookup `w.id`: only objects have one here; every
// other value (number, string, array, bool) yields undefined.
std::string js_id_key(const Json& w) {
  if (w.is_object())
    if (auto it = w.find("id"); it != w.end()) return js_key(*it);
  return "undefined";
}

// `for (const x of list || [])`: falsy means empty; a string iterates its
// characters (UTF-16 units in JS; bytes here, which only matters for hostile
// input); other non-arrays throw.
bool js_iterable(const Json& list, std::vector<Json>& out) {
  out.clear();
  if (list.is_null() || (list.is_boolean() && !list.get<bool>()) ||
      (list.is_number() && list.get<double>() == 0.0) || (list.is_string() && list.get_ref<const std::string&>().empty()))
    return true;
  if (list.is_array()) {
    out.assign(list.begin(), list.end());
    return true;
  }
  if (list.is_string()) {
    for (char c : list.get_ref<const std::string&>()) out.emplace_back(std::string(1, c));
    return true;
  }
  return false;  // TypeError: not iterable
}

}  // namespace

ApplyOutcome apply_room_delta(RoomState& s, const Json* delta) {
  // Where the spec is silent we model the plain TypeScript a room server of
  // this kind is written in:
  //   for (const w of d.add || []) windows[w.id] = w;
  //   for (const id of d.remove || []) delete windows[id];
  //   for (const w of d.update || []) windows[w.id] = windows[w.id] ? {...windows[w.id], ...w} : w;
  //   version++; save; broadcast
  // A throw anywhere leaves the memory changes made so far, and skips the rest.
  if (delta == nullptr || delta->is_null()) return ApplyOutcome::no_delta;
  auto field = [&](const char* k) -> Json {
    if (delta->is_object())
      if (auto it = delta->find(k); it != delta->end()) return *it;
    return Json(nullptr);
  };
  std::vector<Json> items;

  if (!js_iterable(field("add"), items)) return ApplyOutcome::threw_partway;
  for (auto& w : items) {
    if (w.is_null()) return ApplyOutcome::threw_partway;  // null.id throws
    // Key first: Json::operator= takes its argument by value, so a moved-from
    // `w` would already be null while the key is computed.
    const std::string key = js_id_key(w);
    s.windows[key] = std::move(w);
  }

  if (!js_iterable(field("remove"), items)) return ApplyOutcome::threw_partway;
  for (const auto& id : items) s.windows.erase(js_key(id));

  if (!js_iterable(field("update"), items)) return ApplyOutcome::threw_partway;
  for (auto& w : items) {
    if (w.is_null()) return ApplyOutcome::threw_partway;
    const std::string key = js_id_key(w);
    auto it = s.windows.find(key);
    if (it == s.windows.end()) {
      s.windows[key] = std::move(w);
    } else {
      merge_update(it->second, w);
    }
  }
  ++s.version;
  return ApplyOutcome::applied;
}

void merge_update(Json& into, const Json& from) {
  // Spreading a non-object update leaves the existing window as it was.
  if (!from.is_object()) return;
  if (!into.is_object()) into = Json::object();
  for (const auto& [k, v] : from.items()) into[k] = v;
}

Result<RoomState> parse_room_state(const Json& j, const Limits& limits) {
  if (!j.is_object()) return make_error(Errc::wrong_type, "room state must be an object");
  RoomState s;
  auto v = j.find("version");
  if (v == j.end()) return make_error(Errc::missing_field, "room state without version");
  if (!v->is_number_integer() && !v->is_number_unsigned())
    return make_error(Errc::wrong_type, "room state version must be an integer");
  if (v->is_number_integer() && v->get<std::int64_t>() < 0)
    return make_error(Errc::bad_value, "room state version is negative");
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return make_error(Errc::bad_value, "room state version out of range");
  s.version = v->get<std::int64_t>();
  auto w = j.find("windows");
  if (w == j.end() || w->is_null()) return s;
  if (!w->is_object()) return make_error(Errc::wrong_type, "room state windows must be a map");
  if (w->size() > limits.max_windows)
    return make_error(Errc::too_large, "room state has " + std::to_string(w->size()) + " windows (limit " +
                                           std::to_string(limits.max_windows) + ")");
  for (const auto& [k, win] : w->items()) s.windows[k] = win;
  return s;
}

}  // namespace wibwob::protocol
