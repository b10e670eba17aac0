// Tests for the fake app's desktop-wide commands (spec/wibwob-ipc.md,
// "Desktop-wide commands"): close_all, tile, cascade, get_canvas_size,
// get_window_types, get_capabilities, exec_command, the terminal size, and
// the id-reuse quirk. Workspace files are in test_fakewibwob_workspace.cpp.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "fakewibwob/core/arrange.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "tests/fakewibwob/fake_app_test_support.hpp"

namespace fw = wibwob::fakewibwob;
namespace ipc = wibwob::protocol::ipc;
using fw::Millis;
using fw::Rect;

namespace {

using fw::test::send;

// Opens n test_pattern windows over IPC (w1 back-most ... wn front-most).
void open_windows(fw::FakeApp& app, int n) {
  for (int i = 0; i < n; ++i) ASSERT_EQ(send(app, "cmd:create_window type=test_pattern\n").events.size(), 1u);
}

// Bounds by id, as get_state reports them.
std::map<std::string, Rect> bounds_by_id(const fw::FakeApp& app) {
  std::map<std::string, Rect> out;
  const auto state = ipc::parse_get_state(app.get_state_line());
  EXPECT_TRUE(state.ok());
  if (!state.ok()) return out;
  for (const auto& w : state->windows) out[w.id] = Rect{w.x, w.y, w.w, w.h};
  return out;
}

// The windows' bounds from the back-most (w1) to the front-most.
std::vector<Rect> back_to_front(const fw::FakeApp& app, int n) {
  const auto b = bounds_by_id(app);
  std::vector<Rect> out;
  for (int i = 1; i <= n; ++i) out.push_back(b.at("w" + std::to_string(i)));
  return out;
}

}  // namespace

// --- close_all -----------------------------------------------------------------------

TEST(FakeDesktopCloseAll, ClosesEveryWindowSilentlyAndRepliesOk) {
  fw::FakeApp app;
  open_windows(app, 3);
  ASSERT_EQ(send(app, "cmd:create_window type=room_chat\n").reply(), "{\"success\":true,\"id\":\"w4\"}\n");
  const auto x = send(app, "cmd:close_all\n");
  EXPECT_EQ(x.reply(), "ok\n");
  EXPECT_TRUE(x.events.empty());  // no window_closed, no state_changed
  EXPECT_TRUE(app.desktop().windows().empty());
  EXPECT_EQ(send(app, "cmd:close_all\n").reply(), "ok\n");  // an empty desktop too
  EXPECT_EQ(app.last_seq(), 4);  // only the four creations fired
}

// --- tile / cascade -----------------------------------------------------------------

TEST(FakeDesktopTile, ThreeWindowsAsObservedOnTheRealApp) {
  fw::FakeApp app;
  open_windows(app, 3);
  const auto x = send(app, "cmd:tile\n");
  EXPECT_EQ(x.reply(), "ok\n");
  EXPECT_TRUE(x.events.empty());
  // spec: z 2, 1, 0 went to y 0, 19, 38 on a 200x58 desktop.
  EXPECT_EQ(back_to_front(app, 3), (std::vector<Rect>{{0, 0, 200, 19}, {0, 19, 200, 19}, {0, 38, 200, 20}}));
  // Tiling keeps the z-order and focus.
  EXPECT_EQ(app.desktop().windows().front().id, "w3");
}

TEST(FakeDesktopTile, OneToEightWindowsFollowTurboVisionsGrid) {
  // Back-most first. Turbo Vision favours rows: n=2 is 1x2, 4 is 2x2, 5 is
  // two columns with the remainder in the last one (2 + 3 rows), 7 is 3 + 4,
  // 8 is 2x4; heights split 58 with integer division points.
  const std::map<int, std::vector<Rect>> want{
      {1, {{0, 0, 200, 58}}},
      {2, {{0, 0, 200, 29}, {0, 29, 200, 29}}},
      {3, {{0, 0, 200, 19}, {0, 19, 200, 19}, {0, 38, 200, 20}}},
      {4, {{0, 0, 100, 29}, {0, 29, 100, 29}, {100, 0, 100, 29}, {100, 29, 100, 29}}},
      {5, {{0, 0, 100, 29}, {0, 29, 100, 29}, {100, 0, 100, 19}, {100, 19, 100, 19}, {100, 38, 100, 20}}},
      {6, {{0, 0, 100, 19}, {0, 19, 100, 19}, {0, 38, 100, 20}, {100, 0, 100, 19}, {100, 19, 100, 19},
           {100, 38, 100, 20}}},
      {7, {{0, 0, 100, 19}, {0, 19, 100, 19}, {0, 38, 100, 20}, {100, 0, 100, 14}, {100, 14, 100, 15},
           {100, 29, 100, 14}, {100, 43, 100, 15}}},
      {8, {{0, 0, 100, 14}, {0, 14, 100, 15}, {0, 29, 100, 14}, {0, 43, 100, 15}, {100, 0, 100, 14},
           {100, 14, 100, 15}, {100, 29, 100, 14}, {100, 43, 100, 15}}},
  };
  for (const auto& [n, rects] : want) {
    fw::FakeApp app;
    open_windows(app, n);
    ASSERT_EQ(send(app, "cmd:tile\n").reply(), "ok\n");
    EXPECT_EQ(back_to_front(app, n), rects) << n << " windows";
    EXPECT_EQ(fw::tile_places(static_cast<std::size_t>(n), Rect{0, 0, 200, 58}), rects) << n;
  }
}

TEST(FakeDesktopTile, TinyCellsAreClampedAndImpossibleGridsChangeNothing) {
  // 100 windows on 200x58: a 10x10 grid, 5 or 6 rows high, clamped to 6.
  const auto places = fw::tile_places(100, Rect{0, 0, 200, 58});
  ASSERT_EQ(places.size(), 100u);
  for (const auto& r : places) {
    EXPECT_GE(r.h, fw::kMinWindowSize.h);
    EXPECT_EQ(r.w, 20);
  }
  // More rows than the desktop has lines: Turbo Vision's tileError, a no-op.
  EXPECT_TRUE(fw::tile_places(4000, Rect{0, 0, 200, 58}).empty());
  EXPECT_TRUE(fw::tile_places(0, Rect{0, 0, 200, 58}).empty());
  fw::CoreConfig tiny;
  tiny.terminal = {20, 5};  // a 20x3 desktop
  fw::FakeApp four(tiny);
  open_windows(four, 4);  // 2x2 grid of 10x1 cells: each window grows to 16x6 from its corner
  EXPECT_EQ(send(four, "cmd:tile\n").reply(), "ok\n");
  EXPECT_EQ(back_to_front(four, 4), (std::vector<Rect>{{0, 0, 16, 6}, {0, 1, 16, 6}, {10, 0, 16, 6}, {10, 1, 16, 6}}));
  fw::FakeApp eight(tiny);
  open_windows(eight, 8);  // 2x4 grid: 3 lines / 4 rows = 0, refused
  const auto before = bounds_by_id(eight);
  EXPECT_EQ(send(eight, "cmd:tile\n").reply(), "ok\n");
  EXPECT_EQ(bounds_by_id(eight), before);
}

TEST(FakeDesktopCascade, EachWindowOneCellFurtherInAsObserved) {
  for (int n = 1; n <= 8; ++n) {
    fw::FakeApp app;
    open_windows(app, n);
    const auto x = send(app, "cmd:cascade\n");
    EXPECT_EQ(x.reply(), "ok\n");
    EXPECT_TRUE(x.events.empty());
    std::vector<Rect> want;
    for (int k = 0; k < n; ++k) want.push_back(Rect{k, k, 200 - k, 58 - k});
    EXPECT_EQ(back_to_front(app, n), want) << n << " windows";
  }
}

TEST(FakeDesktopCascade, RefusedWhenTheMinimumSizeNoLongerFits) {
  // 58 - n must leave room for a 6-line window: 52 windows cascade, 53 do not.
  EXPECT_EQ(fw::cascade_places(52, Rect{0, 0, 200, 58}).size(), 52u);
  EXPECT_EQ(fw::cascade_places(52, Rect{0, 0, 200, 58}).back(), (Rect{51, 51, 149, 7}));
  EXPECT_TRUE(fw::cascade_places(53, Rect{0, 0, 200, 58}).empty());
  EXPECT_TRUE(fw::cascade_places(0, Rect{0, 0, 200, 58}).empty());
}

TEST(FakeDesktopArrange, PersonFocusChangesWhoIsInFront) {
  fw::FakeApp app;
  open_windows(app, 3);
  ASSERT_TRUE(app.person_focus("w1"));  // now w2 is furthest back, w1 in front
  send(app, "cmd:cascade\n");
  const auto b = bounds_by_id(app);
  EXPECT_EQ(b.at("w2"), (Rect{0, 0, 200, 58}));
  EXPECT_EQ(b.at("w3"), (Rect{1, 1, 199, 57}));
  EXPECT_EQ(b.at("w1"), (Rect{2, 2, 198, 56}));
}

// --- sizes and registries -------------------------------------------------------------

TEST(FakeDesktopCanvas, DefaultIsA200x60TerminalAndConfigurable) {
  fw::FakeApp app;
  EXPECT_EQ(send(app, "cmd:get_canvas_size\n").reply(), "{\"width\":200,\"height\":59,\"cols\":200,\"rows\":59}\n");
  EXPECT_EQ(app.desktop_rect(), (Rect{0, 0, 200, 58}));
  fw::CoreConfig c;
  c.terminal = {132, 43};
  fw::FakeApp other(c);
  EXPECT_EQ(send(other, "cmd:get_canvas_size\n").reply(), "{\"width\":132,\"height\":42,\"cols\":132,\"rows\":42}\n");
  open_windows(other, 1);
  send(other, "cmd:cascade\n");
  EXPECT_EQ(bounds_by_id(other).at("w1"), (Rect{0, 0, 132, 41}));
  EXPECT_TRUE(send(other, "cmd:get_canvas_size\n").events.empty());
}

TEST(FakeDesktopTypes, ThirtyFiveTypesOnlyScrambleUnspawnable) {
  fw::FakeApp app;
  const auto x = send(app, "cmd:get_window_types\n");
  EXPECT_EQ(x.reply().rfind(R"({"window_types":[{"type":"test_pattern","spawnable":true},{"type":"gradient",)", 0), 0u);
  const auto j = ipc::parse_json(x.reply()).value();
  ASSERT_EQ(j.size(), 1u);
  ASSERT_EQ(j.at("window_types").size(), 35u);
  std::vector<std::string> unspawnable;
  for (const auto& t : j.at("window_types"))
    if (!t.at("spawnable").get<bool>()) unspawnable.push_back(t.at("type").get<std::string>());
  EXPECT_EQ(unspawnable, std::vector<std::string>{"scramble"});
  EXPECT_EQ(j.at("window_types").back().at("type"), "figlet_text");
  EXPECT_TRUE(x.events.empty());
}

TEST(FakeDesktopCapabilities, ListsTheRegistry) {
  fw::FakeApp app;
  const auto x = send(app, "cmd:get_capabilities\n");
  EXPECT_EQ(x.reply().rfind(R"({"version":"v1","commands":[{"name":"cascade","description":")", 0), 0u) << x.reply();
  const auto j = ipc::parse_json(x.reply()).value();
  std::vector<std::string> names;
  for (const auto& c : j.at("commands")) {
    names.push_back(c.at("name").get<std::string>());
    EXPECT_FALSE(c.at("description").get<std::string>().empty());
    EXPECT_EQ(c.at("requires_path").get<bool>(), names.back() == "import_state" || names.back() == "open_workspace");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"cascade", "close_all", "export_state", "get_canvas_size",
                                             "get_window_types", "import_state", "open_workspace",
                                             "save_workspace", "tile"}));
  EXPECT_TRUE(x.events.empty());
}

// --- exec_command ----------------------------------------------------------------------

TEST(FakeDesktopExec, RunsRegistryCommandsByName) {
  fw::FakeApp app;
  EXPECT_EQ(send(app, "cmd:exec_command\n").reply(), "err missing name\n");
  EXPECT_EQ(send(app, "cmd:exec_command name=\n").reply(), "err missing name\n");
  EXPECT_EQ(send(app, "cmd:exec_command name=nonsense\n").reply(), "err unknown command\n");
  EXPECT_EQ(send(app, "cmd:exec_command name=Tile\n").reply(), "err unknown command\n");  // case-sensitive
  // Only registry commands: not the window commands, not itself.
  EXPECT_EQ(send(app, "cmd:exec_command name=create_window type=verse\n").reply(), "err unknown command\n");
  EXPECT_EQ(send(app, "cmd:exec_command name=exec_command\n").reply(), "err unknown command\n");
  EXPECT_TRUE(app.desktop().windows().empty());
  open_windows(app, 3);
  auto x = send(app, "cmd:exec_command name=tile\n");
  EXPECT_EQ(x.reply(), "ok\n");
  EXPECT_TRUE(x.events.empty());
  EXPECT_EQ(back_to_front(app, 3)[2], (Rect{0, 38, 200, 20}));
  EXPECT_EQ(send(app, "cmd:exec_command name=get_canvas_size\n").reply(), send(app, "cmd:get_canvas_size\n").reply());
  EXPECT_EQ(send(app, "cmd:exec_command name=import_state\n").reply(), "err missing path\n");
  x = send(app, "cmd:exec_command name=close_all\n");
  EXPECT_EQ(x.reply(), "ok\n");
  EXPECT_TRUE(x.events.empty());
  EXPECT_TRUE(app.desktop().windows().empty());
}

TEST(FakeDesktopCommands, HostileParamsAreIgnored) {
  fw::FakeApp app;
  open_windows(app, 2);
  const std::string junk = " x=%00%ff y=-99999999999 path=%2F..%2F..%2Fetc name=tile bogus";
  for (const char* cmd : {"close_all", "tile", "cascade", "get_canvas_size", "get_window_types", "get_capabilities"})
    EXPECT_EQ(send(app, std::string("cmd:") + cmd + junk + "\n").reply().find("err"), std::string::npos) << cmd;
  EXPECT_EQ(send(app, "cmd:exec_command name=%74ile\n").reply(), "ok\n");  // values are percent-decoded
}

// --- id reuse ------------------------------------------------------------------------------

namespace {

// Opens three windows, closes them all, opens three of the same type and
// two of another type; returns the five new ids.
std::vector<std::string> reuse_run(fw::IdReuse reuse) {
  fw::CoreConfig c;
  c.id_reuse = reuse;
  fw::FakeApp app(c);
  open_windows(app, 3);
  send(app, "cmd:close_all\n");
  std::vector<std::string> ids;
  for (const char* type : {"test_pattern", "test_pattern", "test_pattern", "verse", "verse"}) {
    auto j = ipc::parse_json(send(app, std::string("cmd:create_window type=") + type + "\n").reply()).value();
    ids.push_back(j.at("id").get<std::string>());
  }
  return ids;
}

}  // namespace

TEST(FakeDesktopIds, ReuseIsDeterministicBySeedAndOnlyForTheSameType) {
  std::set<std::vector<std::string>> outcomes;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const auto a = reuse_run({true, seed, 50});
    EXPECT_EQ(a, reuse_run({true, seed, 50})) << "seed " << seed;  // same seed, same ids
    outcomes.insert(a);
    std::set<std::string> distinct(a.begin(), a.end());
    EXPECT_EQ(distinct.size(), 5u);  // live ids never collide
    // Other types never take a freed test_pattern id: they get the counter's next.
    for (int i = 3; i < 5; ++i) EXPECT_GT(std::stoi(a[i].substr(1)), 3) << a[i];
  }
  EXPECT_GT(outcomes.size(), 3u);  // different seeds give different allocations
  EXPECT_EQ(reuse_run({false, 7, 50}), (std::vector<std::string>{"w4", "w5", "w6", "w7", "w8"}));
  EXPECT_EQ(reuse_run({true, 7, 0}), (std::vector<std::string>{"w4", "w5", "w6", "w7", "w8"}));
  const auto always = reuse_run({true, 7, 100});
  EXPECT_EQ(std::set<std::string>(always.begin(), always.begin() + 3), (std::set<std::string>{"w1", "w2", "w3"}));
  EXPECT_EQ(std::vector<std::string>(always.begin() + 3, always.end()), (std::vector<std::string>{"w4", "w5"}));
}

TEST(FakeDesktopIds, OnlyCloseWindowForgetsAnId) {
  fw::CoreConfig c;
  c.id_reuse = {true, 3, 100};
  fw::FakeApp app(c);
  open_windows(app, 2);
  send(app, "cmd:close_window id=w1\n");  // forgotten: never comes back
  ASSERT_TRUE(app.person_close("w2"));   // left behind
  EXPECT_EQ(app.desktop().freed_ids(), 1u);
  EXPECT_EQ(send(app, "cmd:create_window type=test_pattern\n").reply(), "{\"success\":true,\"id\":\"w2\"}\n");
  EXPECT_EQ(send(app, "cmd:create_window type=test_pattern\n").reply(), "{\"success\":true,\"id\":\"w3\"}\n");
  // A new process forgets everything: ids start again at w1.
  app.restart();
  EXPECT_EQ(app.desktop().freed_ids(), 0u);
  EXPECT_EQ(send(app, "cmd:create_window type=test_pattern\n").reply(), "{\"success\":true,\"id\":\"w1\"}\n");
}

RC_GTEST_PROP(FakeDesktopProperty, LiveIdsAreUniqueUnderReuse, (std::uint64_t seed)) {
  fw::CoreConfig c;
  c.id_reuse = {true, seed, *rc::gen::inRange<std::uint32_t>(0, 101)};
  fw::FakeApp app(c);
  const auto ops = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 6));
  for (int op : ops) {
    switch (op) {
      case 0: case 1: send(app, op ? "cmd:create_window type=verse\n" : "cmd:create_window type=life\n"); break;
      case 2: send(app, "cmd:close_all\n"); break;
      case 3: if (!app.desktop().windows().empty()) app.person_close(app.desktop().windows().back().id); break;
      case 4: send(app, "cmd:tile\n"); break;
      default: send(app, "cmd:cascade\n"); break;
    }
    std::set<std::string> ids;
    for (const auto& w : app.desktop().windows()) RC_ASSERT(ids.insert(w.id).second);
  }
}
