// Window model, normalisation, diff and apply (protocol/window.hpp).
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "protocol/window.hpp"
#include "tests/support/test_support.hpp"

using namespace wibwob::protocol;
using wibwob::test::gen_delta;
using wibwob::test::gen_layout;
using wibwob::test::gen_window_with_extra;

namespace {

// A small reference model of the room server's delta application, written
// straight from spec/partykit-room.md over plain JSON objects: add replaces,
// remove ignores missing ids, update merges shallowly or inserts.
std::map<std::string, Json> reference_apply(std::map<std::string, Json> s, const Json& d) {
  for (const auto& w : d.value("add", Json::array())) s[w["id"].get<std::string>()] = w;
  for (const auto& id : d.value("remove", Json::array())) s.erase(id.get<std::string>());
  for (const auto& w : d.value("update", Json::array())) {
    auto id = w["id"].get<std::string>();
    if (s.count(id)) {
      for (const auto& [k, v] : w.items()) s[id][k] = v;
    } else {
      s[id] = w;
    }
  }
  return s;
}

std::map<std::string, Json> as_json_map(const Layout& l) {
  std::map<std::string, Json> m;
  for (const auto& [id, w] : l) m[id] = to_json(w);
  return m;
}

Layout layout_of(const std::map<std::string, Json>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  auto n = normalise_layout(j);
  RC_ASSERT(n.ok());
  RC_ASSERT(n->skipped.empty());
  return n->windows;
}

Window win(std::string id, std::string type, int x, int y, int w, int h) {
  Window out;
  out.id = std::move(id);
  out.type = std::move(type);
  out.x = x; out.y = y; out.w = w; out.h = h;
  return out;
}

}  // namespace

// --- normalisation -----------------------------------------------------------

TEST(Normalise, SpecGetStateWindow) {
  auto j = Json::parse(R"({"id":"w3","type":"frame_player","x":2,"y":1,"w":42,"h":14,"z":0,
                           "focused":true,"title":"","path":"/abs/file.txt"})");
  auto w = normalise_window(j);
  ASSERT_TRUE(w.ok()) << to_string(w.error());
  EXPECT_EQ(w->id, "w3");
  EXPECT_EQ(w->type, "frame_player");
  EXPECT_EQ(w->x, 2);
  EXPECT_EQ(w->y, 1);
  EXPECT_EQ(w->w, 42);
  EXPECT_EQ(w->h, 14);
  EXPECT_EQ(w->path, "/abs/file.txt");
  // Tolerated extra fields are kept aside, not compared.
  EXPECT_EQ(w->extra["z"], 0);
  EXPECT_EQ(w->extra["title"], "");
}

TEST(Normalise, WidthHeightAreAcceptedForWH) {
  auto w = normalise_window(Json::parse(R"({"id":"a","type":"verse","x":1,"y":2,"width":30,"height":10})"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->w, 30);
  EXPECT_EQ(w->h, 10);
  EXPECT_FALSE(w->extra.contains("width"));
}

TEST(Normalise, IntegralFloatAcceptedFractionRejected) {
  EXPECT_TRUE(normalise_window(Json::parse(R"({"id":"a","type":"verse","x":1.0,"y":2,"w":3,"h":4})")).ok());
  auto bad = normalise_window(Json::parse(R"({"id":"a","type":"verse","x":1.5,"y":2,"w":3,"h":4})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::bad_value);
}

TEST(Normalise, TypedErrors) {
  struct Case { const char* json; Errc code; };
  const Case cases[] = {
      {R"([1,2])", Errc::wrong_type},
      {R"({"type":"verse","x":1,"y":2,"w":3,"h":4})", Errc::missing_field},
      {R"({"id":7,"type":"verse","x":1,"y":2,"w":3,"h":4})", Errc::wrong_type},
      {R"({"id":"","type":"verse","x":1,"y":2,"w":3,"h":4})", Errc::bad_value},
      {R"({"id":"__proto__","type":"verse","x":1,"y":2,"w":3,"h":4})", Errc::bad_value},
      {R"({"id":"a b","type":"verse","x":1,"y":2,"w":3,"h":4})", Errc::bad_value},
      {R"({"id":"a","x":1,"y":2,"w":3,"h":4})", Errc::missing_field},
      {R"({"id":"a","type":5,"x":1,"y":2,"w":3,"h":4})", Errc::wrong_type},
      {R"({"id":"a","type":"verse","x":"1","y":2,"w":3,"h":4})", Errc::wrong_type},
      {R"({"id":"a","type":"verse","x":1,"y":2,"w":3})", Errc::missing_field},
      {R"({"id":"a","type":"verse","x":1e12,"y":2,"w":3,"h":4})", Errc::bad_value},
      {R"({"id":"a","type":"verse","x":null,"y":2,"w":3,"h":4})", Errc::wrong_type},
      {R"({"id":"a","type":"verse","x":1,"y":2,"w":3,"h":4,"path":7})", Errc::wrong_type},
  };
  for (const auto& c : cases) {
    auto w = normalise_window(Json::parse(c.json));
    ASSERT_FALSE(w.ok()) << c.json;
    EXPECT_EQ(w.error().code, c.code) << c.json << " -> " << to_string(w.error());
    EXPECT_FALSE(w.error().message.empty());
  }
}

TEST(Normalise, LayoutListAndMapShapesDropInternalTypes) {
  auto list = Json::parse(R"([
    {"id":"w3","type":"frame_player","x":2,"y":1,"w":42,"h":14,"path":"/f"},
    {"id":"w2","type":"verse","x":12,"y":4,"w":96,"h":30},
    {"id":"w1","type":"room_chat","x":10,"y":5,"w":100,"h":28},
    {"id":"w9","type":"wibwob","x":0,"y":0,"w":1,"h":1},
    {"id":"bad","type":"verse"}])");
  auto n = normalise_layout(list);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->windows.size(), 2u);
  EXPECT_EQ(n->internal_dropped, 2u);
  ASSERT_EQ(n->skipped.size(), 1u);
  EXPECT_EQ(n->skipped[0].code, Errc::missing_field);

  auto map = Json::parse(R"({"r1":{"type":"verse","x":1,"y":2,"w":3,"h":4},
                             "r2":{"id":"r2","type":"scramble","x":1,"y":2,"w":3,"h":4}})");
  auto m = normalise_layout(map);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->windows.size(), 1u);
  EXPECT_EQ(m->windows.begin()->second.id, "r1");
  EXPECT_EQ(m->internal_dropped, 1u);

  EXPECT_EQ(normalise_layout(Json("windows")).error().code, Errc::wrong_type);
}

RC_GTEST_PROP(Normalise, RoundTripsThroughJson, ()) {
  const auto w = *gen_window_with_extra();
  auto back = normalise_window(to_json(w));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == w);
}

// --- diff and apply ------------------------------------------------------------

TEST(Diff, FocusOrZChangeIsNoChange) {
  auto a = normalise_layout(Json::parse(R"([{"id":"w1","type":"verse","x":1,"y":2,"w":3,"h":4,"z":0,"focused":true,"title":"a"}])"));
  auto b = normalise_layout(Json::parse(R"([{"id":"w1","type":"verse","x":1,"y":2,"w":3,"h":4,"z":3,"focused":false,"title":"b"}])"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(diff(a->windows, b->windows).empty());
}

TEST(Diff, UpdateCarriesFullSyncedFieldsInIdOrder) {
  Layout a{{"b", win("b", "verse", 1, 1, 10, 10)}, {"c", win("c", "orbit", 0, 0, 5, 5)}};
  Layout b{{"a", win("a", "cube", 0, 0, 1, 1)}, {"b", win("b", "verse", 7, 1, 10, 10)},
           {"d", win("d", "life", 2, 2, 2, 2)}};
  auto d = diff(a, b);
  ASSERT_EQ(d.add.size(), 2u);
  EXPECT_EQ(d.add[0].id, "a");
  EXPECT_EQ(d.add[1].id, "d");
  ASSERT_EQ(d.update.size(), 1u);
  EXPECT_EQ(d.update[0], b["b"]);  // type, w, h too: never a bare {id, x}
  EXPECT_EQ(d.remove, std::vector<std::string>{"c"});
  auto j = to_json(d);
  EXPECT_EQ(j["update"][0]["type"], "verse");
  EXPECT_EQ(j["update"][0]["w"], 10);
}

TEST(Apply, ServerSemantics) {
  Layout l{{"a", win("a", "verse", 0, 0, 1, 1)}};
  Delta d;
  d.add.push_back(win("a", "cube", 5, 5, 5, 5));      // replaces
  d.remove = {"missing"};                              // ignored
  d.update.push_back(win("z", "orbit", 1, 1, 1, 1));  // upsert
  auto out = apply_delta(l, d);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out["a"].type, "cube");
  EXPECT_EQ(out["z"].type, "orbit");
  // remove runs after add: adding and removing the same id removes it.
  Delta d2;
  d2.add.push_back(win("q", "cube", 0, 0, 1, 1));
  d2.remove = {"q"};
  EXPECT_EQ(apply_delta(l, d2).count("q"), 0u);
}

TEST(Apply, UpdateMergesExtraShallowly) {
  Window old = win("a", "figlet_text", 0, 0, 10, 3);
  old.extra = {{"text", "hello"}, {"rev", 1}};
  Window upd = win("a", "figlet_text", 4, 0, 10, 3);
  upd.extra = {{"rev", 2}};
  auto out = apply_delta(Layout{{"a", old}}, Delta{{}, {}, {upd}});
  EXPECT_EQ(out["a"].x, 4);
  EXPECT_EQ(out["a"].extra["text"], "hello");
  EXPECT_EQ(out["a"].extra["rev"], 2);
}

RC_GTEST_PROP(Diff, ApplyOfDiffGivesTarget, ()) {
  const auto a = *gen_layout();
  const auto b = *gen_layout();
  auto got = apply_delta(a, diff(a, b));
  RC_ASSERT(got.size() == b.size());
  for (const auto& [id, w] : b) RC_ASSERT(got.at(id).same_synced(w));
}

RC_GTEST_PROP(Diff, DiffOfSelfIsEmpty, ()) {
  const auto a = *gen_layout();
  RC_ASSERT(diff(a, a).empty());
}

RC_GTEST_PROP(Diff, InternalTypesNeverInADiff, ()) {
  auto a = *gen_layout();
  auto b = *gen_layout();
  const auto type = *rc::gen::element<std::string>("room_chat", "wibwob", "scramble");
  const auto id = *wibwob::test::gen_window_id();
  // An internal window in a, in b, or in both with other geometry.
  const int where = *rc::gen::inRange(0, 3);
  if (where != 1) a[id] = win(id, type, 1, 1, 1, 1);
  if (where != 0) b[id] = win(id, type, 9, 9, 9, 9);
  const auto d = diff(a, b);
  for (const auto& w : d.add) RC_ASSERT(!is_internal_window_type(w.type));
  for (const auto& w : d.update) RC_ASSERT(!is_internal_window_type(w.type));
  for (const auto& r : d.remove) RC_ASSERT(r != id || !is_internal_window_type(a.at(r).type));
}

RC_GTEST_PROP(Diff, DeterministicOrder, ()) {
  const auto a = *gen_layout();
  const auto b = *gen_layout();
  const auto d = diff(a, b);
  auto sorted = [](const std::vector<Window>& v) {
    return std::is_sorted(v.begin(), v.end(), [](const Window& x, const Window& y) { return x.id < y.id; });
  };
  RC_ASSERT(sorted(d.add));
  RC_ASSERT(sorted(d.update));
  RC_ASSERT(std::is_sorted(d.remove.begin(), d.remove.end()));
  RC_ASSERT(to_json(d) == to_json(diff(a, b)));
}

RC_GTEST_PROP(Apply, AgreesWithReferenceServerModel, ()) {
  const auto l = *gen_layout();
  const auto d = *gen_delta();
  const Json dj = to_json(d);
  const auto expected = reference_apply(as_json_map(l), dj);

  // The typed apply, as the bridge uses it.
  RC_ASSERT(apply_delta(l, d) == layout_of(expected));

  // The raw-JSON apply, as mockparty and the bridge's confirmed state use it.
  RoomState s;
  s.windows = as_json_map(l);
  s.version = 41;
  RC_ASSERT(apply_room_delta(s, &dj) == ApplyOutcome::applied);
  RC_ASSERT(s.version == 42);
  RC_ASSERT(s.windows == expected);
}

RC_GTEST_PROP(Delta, ParseOfToJsonRoundTrips, ()) {
  const auto d = *gen_delta();
  auto p = parse_delta(to_json(d));
  RC_ASSERT(p.ok());
  RC_ASSERT(p->skipped.empty());
  RC_ASSERT(p->delta == d);
}

// --- RoomState -----------------------------------------------------------------

TEST(RoomState, ServerEdgeCases) {
  RoomState s;
  EXPECT_EQ(apply_room_delta(s, nullptr), ApplyOutcome::no_delta);
  const Json null_delta = nullptr;
  EXPECT_EQ(apply_room_delta(s, &null_delta), ApplyOutcome::no_delta);
  EXPECT_EQ(s.version, 0);

  // null inside add: the windows before it are stored, then the server throws.
  auto half = Json::parse(R"({"add":[{"id":"a","type":"verse"},null,{"id":"b"}]})");
  EXPECT_EQ(apply_room_delta(s, &half), ApplyOutcome::threw_partway);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.windows.count("a"), 1u);
  EXPECT_EQ(s.windows.count("b"), 0u);

  // A partial update of a missing window becomes a partial window.
  auto upsert = Json::parse(R"({"update":[{"id":"c","x":5}]})");
  EXPECT_EQ(apply_room_delta(s, &upsert), ApplyOutcome::applied);
  EXPECT_EQ(s.windows["c"], Json::parse(R"({"id":"c","x":5})"));
  EXPECT_EQ(s.version, 1);

  // Keys as JavaScript makes them.
  auto odd = Json::parse(R"({"add":[{"id":5},{"type":"no id"}],"remove":[null]})");
  EXPECT_EQ(apply_room_delta(s, &odd), ApplyOutcome::applied);
  EXPECT_EQ(s.windows.count("5"), 1u);
  EXPECT_EQ(s.windows.count("undefined"), 1u);

  auto not_iterable = Json::parse(R"({"add":{"id":"x"}})");
  EXPECT_EQ(apply_room_delta(s, &not_iterable), ApplyOutcome::threw_partway);
  EXPECT_EQ(s.version, 2);
}

TEST(RoomState, ParseSpecStateSync) {
  auto j = Json::parse(R"({"windows":{"a:w1":{"id":"a:w1","type":"verse","x":1,"y":2,"w":3,"h":4,"extra":true}},"version":7})");
  auto s = parse_room_state(j);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->version, 7);
  EXPECT_EQ(s->windows.at("a:w1")["extra"], true);  // stored as sent
  EXPECT_EQ(s->to_json(), j);
  EXPECT_EQ(parse_room_state(Json::parse(R"({"windows":{}})")).error().code, Errc::missing_field);
  EXPECT_EQ(parse_room_state(Json::parse(R"({"windows":[],"version":1})")).error().code, Errc::wrong_type);
  EXPECT_EQ(parse_room_state(Json::parse(R"({"version":-1})")).error().code, Errc::bad_value);
  EXPECT_EQ(parse_room_state(Json::parse(R"({"version":"7"})")).error().code, Errc::wrong_type);
}

TEST(WindowTypes, ThirtyFiveKnownThreeInternal) {
  EXPECT_EQ(window_types().size(), 35u);
  std::set<std::string_view> names, internal, not_over_ipc, with_path, with_text, without_id;
  for (const auto& t : window_types()) {
    names.insert(t.name);
    if (is_internal_window_type(t.name)) internal.insert(t.name);
    if (!t.creatable_over_ipc()) not_over_ipc.insert(t.name);
    if (t.needs_path) with_path.insert(t.name);
    if (t.needs_text) with_text.insert(t.name);
    if (!t.reply_has_id) without_id.insert(t.name);
    EXPECT_EQ(find_window_type(t.name), &t);
  }
  EXPECT_EQ(names.size(), 35u);  // no name twice
  EXPECT_EQ(internal, (std::set<std::string_view>{"room_chat", "wibwob", "scramble"}));
  EXPECT_EQ(not_over_ipc, (std::set<std::string_view>{"scramble", "backrooms_tv"}));
  EXPECT_EQ(with_path, (std::set<std::string_view>{"frame_player", "text_view"}));
  EXPECT_EQ(with_text, (std::set<std::string_view>{"figlet_text"}));
  EXPECT_EQ(without_id, (std::set<std::string_view>{"text_editor"}));
  EXPECT_TRUE(is_known_window_type("figlet_text"));
  EXPECT_FALSE(is_known_window_type("Figlet_text"));
  EXPECT_FALSE(is_internal_window_type("Room_chat"));
  EXPECT_EQ(find_window_type(""), nullptr);
}
