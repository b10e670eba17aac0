// The synced window model, its normalisation from the shapes peers send, the
// layout diff, and delta apply with the room server's semantics.
//
// Pure: no I/O, no clocks. Every function here is total: hostile input becomes
// an Error value, never an exception escaping to the caller.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/result.hpp"
#include "protocol/window_types.hpp"

namespace wibwob::protocol {

using Json = nlohmann::json;

// Limits applied when parsing peer input. Generous for real layouts, small
// enough that a hostile message cannot make us allocate without bound.
struct Limits {
  std::size_t max_windows = 4096;      // per layout or per delta list
  std::size_t max_id_bytes = 256;
  std::size_t max_string_bytes = 4096; // type, path, other strings we keep
  int max_depth = 16;                  // JSON nesting accepted in a window
};

// One window's synced fields. `extra` holds any other fields the window
// carried (an object, possibly empty); they are stored and merged like the
// room server does, but never compared by diff.
struct Window {
  std::string id;
  std::string type;
  std::int32_t x = 0;
  std::int32_t y = 0;
  std::int32_t w = 0;
  std::int32_t h = 0;
  std::optional<std::string> path;
  Json extra = Json::object();

  // Equality of the synced fields only (id, type, x, y, w, h, path).
  bool same_synced(const Window& o) const noexcept;
  friend bool operator==(const Window& a, const Window& b) {
    return a.same_synced(b) && a.extra == b.extra;
  }
};

// A layout is the set of synced windows keyed by id. std::map keeps every
// derived list (diff output, JSON) in a deterministic order.
using Layout = std::map<std::string, Window>;

// Normalise one window object: `width`/`height` are accepted for `w`/`h`,
// geometry must be integral and fit in int32 (an integral float such as 3.0
// is accepted: JavaScript peers do not distinguish), the id must be a
// non-empty string. Unknown fields go to `extra`.
Result<Window> normalise_window(const Json& j, const Limits& limits = {});

// Normalising a whole layout keeps what is valid and reports the rest.
struct NormalisedLayout {
  Layout windows;
  std::vector<Error> skipped;        // invalid entries, one Error each
  std::size_t internal_dropped = 0;  // room_chat / wibwob / scramble
};

// Accepts a list of windows or a map {id: window}; for the map shape a window
// without an `id` takes its key. Internal types are dropped. Anything that is
// neither list nor map is an Error.
Result<NormalisedLayout> normalise_layout(const Json& j, const Limits& limits = {});

// Window -> JSON object (extra fields first, synced fields over them).
Json to_json(const Window& w);
Json to_json_map(const Layout& l);  // {id: window}

// A delta as the room carries it.
struct Delta {
  std::vector<Window> add;
  std::vector<std::string> remove;
  std::vector<Window> update;

  bool empty() const noexcept { return add.empty() && remove.empty() && update.empty(); }
  friend bool operator==(const Delta&, const Delta&) = default;
};

// diff(a, b): what turns a into b. Windows only in b are added, only in a are
// removed, in both with different synced fields are updated (carrying b's
// full window). Internal types never appear. Output sorted by id.
Delta diff(const Layout& a, const Layout& b);

// Apply with the room server's semantics, in its order: add replaces by id,
// remove ignores missing ids, update merges shallowly into an existing
// window and inserts when the id is missing.
Layout apply_delta(Layout l, const Delta& d);  // (not "apply": ADL would find std::apply)
void apply_in_place(Layout& l, const Delta& d);

Json to_json(const Delta& d);  // {"add":[...],"remove":[...],"update":[...]}, empty lists omitted

// Validating parse of a delta received from a peer. Never throws. A delta
// that is not an object, or whose lists are not lists, is an Error; invalid
// entries inside the lists are skipped and reported, the rest is kept.
struct ParsedDelta {
  Delta delta;
  std::vector<Error> skipped;
};
Result<ParsedDelta> parse_delta(const Json& j, const Limits& limits = {});

// Room ids that could break a JavaScript object store or our logs.
bool is_acceptable_window_id(std::string_view id, const Limits& limits = {});

// --- The room server's canonical state, as raw JSON --------------------------
//
// The server stores window objects exactly as sent (extra fields survive,
// partial updates become partial windows). RoomState mirrors that; mockparty
// keeps one per room and the bridge keeps its confirmed copy in it, so both
// ends apply deltas with one implementation.
struct RoomState {
  std::map<std::string, Json> windows;  // key: the JavaScript string of win.id
  std::int64_t version = 0;

  Json to_json() const;  // {"windows":{...},"version":N}
  friend bool operator==(const RoomState&, const RoomState&) = default;
};

enum class ApplyOutcome {
  applied,        // state changed as the server would; version bumped
  no_delta,       // message had no `delta`: server throws before touching state
  threw_partway,  // server threw part way (e.g. null in add): memory changed,
                  // nothing saved or broadcast, version NOT bumped
};

// Applies `delta` (the value of the message's `delta` field, or nullptr when
// absent) exactly like the server: bumps version only on `applied`.
ApplyOutcome apply_room_delta(RoomState& s, const Json* delta);

// The server's update of an existing window: {...into, ...from}, a shallow
// merge (an `into` that is not an object starts empty; a `from` that is not
// an object changes nothing).
void merge_update(Json& into, const Json& from);

// How JavaScript turns a value used as an object key into a string.
std::string js_key(const Json& v);

// Parses a `state_sync` state value ({"windows":{...},"version":N}).
Result<RoomState> parse_room_state(const Json& j, const Limits& limits = {});

}  // namespace wibwob::protocol
