// Tests for the pure fakewibwob core (fakewibwob/core): every command's
// replies and events as spec/wibwob-ipc.md shows them, each quirk, the
// person actions that fire no event, restart, dialogs, auth, the journal.
#include "fakewibwob/core/auth.hpp"
#include "fakewibwob/core/fake_app.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

#include "protocol/window.hpp"

namespace fw = wibwob::fakewibwob;
namespace ipc = wibwob::protocol::ipc;
using fw::Millis;

namespace {

// One request through the app, as a client would send it.
struct Exchange {
  fw::Response response;
  std::vector<ipc::Event> events;
  std::string reply() const { return response.reply.value_or("<withheld>"); }
};

Exchange send(fw::FakeApp& app, std::string_view line, Millis now = Millis{0}) {
  Exchange x;
  x.response = app.handle_request(line, now);
  x.events = app.take_events();
  return x;
}

ipc::Event ev(std::int64_t seq, const char* name, const char* id) {
  return ipc::Event{seq, name, ipc::Json{{"id", id}}};
}

fw::OpenSpec spec_of(std::string type) {
  fw::OpenSpec s;
  s.type = std::move(type);
  return s;
}

ipc::AppState state_of(const fw::FakeApp& app) {
  auto s = ipc::parse_get_state(app.get_state_line());
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : ipc::AppState{};
}

}  // namespace

// --- window types --------------------------------------------------------------

TEST(FakeCoreTypes, ThirtyFiveTypesMatchTheProtocolList) {
  std::set<std::string> ours, theirs;
  for (const auto& t : fw::window_types()) ours.insert(std::string(t.name));
  for (const auto& t : wibwob::protocol::known_window_types()) theirs.insert(t);
  EXPECT_EQ(fw::window_types().size(), 35u);
  EXPECT_EQ(ours, theirs);
  EXPECT_EQ(fw::find_window_type("Verse"), nullptr);  // case-sensitive
}

TEST(FakeCoreCreate, EveryCreatableTypeGetsIdAndEvent) {
  fw::FakeApp app;
  std::int64_t seq = 0;
  int n = 0;
  for (const auto& t : fw::window_types()) {
    if (!t.creatable || t.modal_dialog) continue;
    std::string line = "cmd:create_window type=" + std::string(t.name);
    if (t.needs_path) line += " path=%2Fabs%2Ffile.txt";
    if (t.needs_text) line += " text=hi";
    auto x = send(app, line + "\n");
    const std::string id = "w" + std::to_string(++n);
    if (t.reply_has_id)
      EXPECT_EQ(x.reply(), "{\"success\":true,\"id\":\"" + id + "\"}\n") << t.name;
    else
      EXPECT_EQ(x.reply(), "{\"success\":true}\n") << t.name;  // text_editor: no id
    ASSERT_EQ(x.events.size(), 1u) << t.name;
    EXPECT_EQ(x.events[0], ev(++seq, "state_changed", id.c_str()));
    const auto s = state_of(app);
    EXPECT_EQ(s.windows.front().id, id);
    EXPECT_EQ(s.windows.front().type, t.name);
    EXPECT_EQ(s.windows.front().x, t.default_bounds.x);
    EXPECT_EQ(s.windows.front().w, t.default_bounds.w);
    EXPECT_EQ(s.windows.front().path.has_value(), t.needs_path);
  }
  EXPECT_EQ(n, 33);  // 35 minus scramble and backrooms_tv
}

TEST(FakeCoreCreate, FailuresUseTheAppsReplies) {
  fw::FakeApp app;
  EXPECT_EQ(send(app, "cmd:create_window type=scramble\n").reply(), "err unsupported type\n");
  EXPECT_EQ(send(app, "cmd:create_window type=nonsense\n").reply(), "err unknown type\n");
  EXPECT_EQ(send(app, "cmd:create_window type=Verse\n").reply(), "err unknown type\n");
  EXPECT_EQ(send(app, "cmd:create_window\n").reply(), "err unknown type\n");
  EXPECT_EQ(send(app, "cmd:create_window type=frame_player\n").reply(), "err missing path\n");
  EXPECT_EQ(send(app, "cmd:create_window type=text_view path=\n").reply(), "err missing path\n");
  EXPECT_EQ(send(app, "cmd:create_window type=figlet_text\n").reply(), "err missing text param\n");
  auto x = send(app, "cmd:create_window type=scramble\n");
  EXPECT_TRUE(x.events.empty());
  EXPECT_TRUE(app.desktop().windows().empty());
  // No window was created, so the counter did not move.
  EXPECT_EQ(send(app, "cmd:create_window type=verse\n").reply(), "{\"success\":true,\"id\":\"w1\"}\n");
}

TEST(FakeCoreCreate, BoundsAllFourOrDefaults) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse x=3 y=4 w=50 h=20\n");
  send(app, "cmd:create_window type=verse x=3 y=4 w=50\n");  // partial: defaults
  const auto s = state_of(app);
  EXPECT_EQ(s.windows[1].x, 3);
  EXPECT_EQ(s.windows[1].h, 20);
  const fw::Rect def = fw::find_window_type("verse")->default_bounds;
  EXPECT_EQ((fw::Rect{s.windows[0].x, s.windows[0].y, s.windows[0].w, s.windows[0].h}), def);
}

TEST(FakeCoreCreate, FigletTextBecomesTitleAndPathIsReported) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=figlet_text text=hello%20world\n");
  send(app, "cmd:create_window type=text_view path=%2Fa%20b.txt\n");
  const auto s = state_of(app);
  EXPECT_EQ(s.windows[1].title, "hello world");
  EXPECT_EQ(s.windows[0].path, "/a b.txt");
  EXPECT_FALSE(s.windows[1].path.has_value());
}

TEST(FakeCoreCreate, PathExistsHookRefusesMissingFiles) {
  fw::CoreConfig cfg;
  cfg.path_exists = [](std::string_view p) { return p == "/there"; };
  fw::FakeApp app(cfg);
  EXPECT_EQ(send(app, "cmd:create_window type=text_view path=%2Fmissing\n").reply(), "err file not found\n");
  EXPECT_EQ(send(app, "cmd:create_window type=text_view path=%2Fthere\n").reply(),
            "{\"success\":true,\"id\":\"w1\"}\n");
}

TEST(FakeCoreIds, CloseWindowNeverGivesItsIdBack) {
  fw::FakeApp app;  // id reuse on (the default): only non-IPC closes leave ids behind
  send(app, "cmd:create_window type=verse\n");
  send(app, "cmd:create_window type=verse\n");
  send(app, "cmd:close_window id=w2\n");
  EXPECT_EQ(send(app, "cmd:create_window type=verse\n").reply(), "{\"success\":true,\"id\":\"w3\"}\n");
}

// --- get_state -------------------------------------------------------------------

TEST(FakeCoreState, FrontMostFirstWithZAndFocus) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=room_chat\n");
  send(app, "cmd:create_window type=verse\n");
  send(app, "cmd:create_window type=frame_player path=%2Fabs%2Ffile.txt x=2 y=1 w=42 h=14\n");
  const std::string line = app.get_state_line();
  EXPECT_EQ(line.rfind(R"({"windows":[{"id":"w3","type":"frame_player","x":2,"y":1,"w":42,"h":14,"z":0,"focused":true,"title":"","path":"/abs/file.txt"},)", 0), 0u) << line;
  const auto s = state_of(app);
  ASSERT_EQ(s.windows.size(), 3u);
  EXPECT_EQ(s.windows[2].id, "w1");
  EXPECT_EQ(s.windows[2].title, "Room Chat");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(s.windows[i].z, static_cast<std::int32_t>(i));
    EXPECT_EQ(s.windows[i].focused, i == 0);
  }
  EXPECT_TRUE(s.chat_log.empty());
  EXPECT_EQ(send(app, "cmd:get_state\n").reply(), line);
  EXPECT_TRUE(send(app, "cmd:get_state\n").events.empty());
}

TEST(FakeCoreState, BrokenTitleMakesGetStateInvalidJson) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  const std::string id = app.open_broken_title_window();
  const auto x = send(app, "cmd:get_state\n");
  auto parsed = ipc::parse_get_state(x.reply());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, wibwob::protocol::Errc::not_json);
  EXPECT_EQ(ipc::classify_reply(x.reply()).kind, ipc::ReplyKind::text);
  // Closing it makes get_state parse again.
  EXPECT_TRUE(app.person_close(id));
  EXPECT_TRUE(ipc::parse_get_state(send(app, "cmd:get_state\n").reply()).ok());
}

// --- move / resize / focus / close ----------------------------------------------

TEST(FakeCoreMove, IpcMoveFiresPersonMoveDoesNot) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  auto x = send(app, "cmd:move_window id=w1 x=7 y=-3\n");
  EXPECT_EQ(x.reply(), "{\"success\":true}\n");
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_EQ(x.events[0], ev(2, "state_changed", "w1"));
  EXPECT_EQ(state_of(app).windows[0].x, 7);
  EXPECT_EQ(state_of(app).windows[0].y, -3);
  EXPECT_TRUE(app.person_move("w1", 1, 1));
  EXPECT_TRUE(app.take_events().empty());
  EXPECT_EQ(state_of(app).windows[0].x, 1);
  EXPECT_EQ(send(app, "cmd:move_window id=w9 x=1 y=1\n").reply(), "{\"error\":\"Window not found\"}\n");
  EXPECT_EQ(send(app, "cmd:move_window id=w1 x=1\n").reply(), "err missing id/x/y\n");
  EXPECT_EQ(send(app, "cmd:move_window x=1 y=1\n").reply(), "err missing id/x/y\n");
  EXPECT_TRUE(send(app, "cmd:move_window id=w9 x=1 y=1\n").events.empty());
}

TEST(FakeCoreResize, WidthHeightOnlyAndClamped) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  EXPECT_EQ(send(app, "cmd:resize_window id=w1 w=50 h=20\n").reply(), "err missing id/width/height\n");
  auto x = send(app, "cmd:resize_window id=w1 width=50 height=20\n");
  EXPECT_EQ(x.reply(), "{\"success\":true}\n");
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_EQ(x.events[0].event, "state_changed");
  EXPECT_EQ(state_of(app).windows[0].w, 50);
  // Clamped to Turbo Vision's minimum, still success.
  EXPECT_EQ(send(app, "cmd:resize_window id=w1 width=1 height=-5\n").reply(), "{\"success\":true}\n");
  EXPECT_EQ(state_of(app).windows[0].w, fw::Desktop::kMinSize.w);
  EXPECT_EQ(state_of(app).windows[0].h, fw::Desktop::kMinSize.h);
  EXPECT_EQ(send(app, "cmd:resize_window id=w1 width=99999 height=99999\n").reply(), "{\"success\":true}\n");
  EXPECT_EQ(state_of(app).windows[0].w, app.desktop_rect().w);
  EXPECT_EQ(state_of(app).windows[0].h, 58);  // a 200x60 terminal's desktop
  EXPECT_EQ(send(app, "cmd:resize_window id=w5 width=1 height=1\n").reply(), "{\"error\":\"Window not found\"}\n");
  EXPECT_TRUE(app.person_resize("w1", 30, 10));
  EXPECT_TRUE(app.take_events().empty());
}

TEST(FakeCoreFocus, BringsToFrontWithoutEvent) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  send(app, "cmd:create_window type=life\n");
  auto x = send(app, "cmd:focus_window id=w1\n");
  EXPECT_EQ(x.reply(), "{\"success\":true}\n");
  EXPECT_TRUE(x.events.empty());
  EXPECT_EQ(state_of(app).windows[0].id, "w1");
  EXPECT_TRUE(state_of(app).windows[0].focused);
  EXPECT_EQ(send(app, "cmd:focus_window id=w3\n").reply(), "{\"error\":\"Window not found\"}\n");
  EXPECT_EQ(send(app, "cmd:focus_window\n").reply(), "err missing id\n");
  EXPECT_TRUE(app.person_focus("w2"));
  EXPECT_TRUE(app.take_events().empty());
  EXPECT_EQ(state_of(app).windows[0].id, "w2");
}

TEST(FakeCoreClose, WindowClosedThenStateChanged) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  auto x = send(app, "cmd:close_window id=w1\n");
  EXPECT_EQ(x.reply(), "{\"success\":true}\n");
  ASSERT_EQ(x.events.size(), 2u);
  EXPECT_EQ(x.events[0], ev(2, "window_closed", "w1"));
  EXPECT_EQ(x.events[1], ev(3, "state_changed", "w1"));
  EXPECT_EQ(send(app, "cmd:close_window id=w1\n").reply(), "{\"error\":\"Window not found\"}\n");
  EXPECT_EQ(send(app, "cmd:close_window\n").reply(), "err missing id\n");
  send(app, "cmd:create_window type=text_editor\n");
  ASSERT_TRUE(app.set_refuses_close("w2", true));
  x = send(app, "cmd:close_window id=w2\n");
  EXPECT_EQ(x.reply(), "{\"error\":\"Close failed\"}\n");
  EXPECT_TRUE(x.events.empty());
  EXPECT_EQ(app.desktop().windows().size(), 1u);
  // A person closing fires nothing.
  ASSERT_TRUE(app.set_refuses_close("w2", false));
  EXPECT_TRUE(app.person_close("w2"));
  EXPECT_TRUE(app.take_events().empty());
}

TEST(FakeCoreEvents, PersonOpenFiresUnlessSilent) {
  fw::FakeApp app;
  auto id = app.open(spec_of("verse"));
  ASSERT_TRUE(id.ok());
  auto events = app.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], ev(1, "state_changed", "w1"));
  ASSERT_TRUE(app.open(spec_of("verse"), /*fire_event=*/false).ok());
  EXPECT_TRUE(app.take_events().empty());
  EXPECT_FALSE(app.open(spec_of("scramble")).ok());
  EXPECT_FALSE(app.open(spec_of("text_view")).ok());
}

// --- request parsing quirks --------------------------------------------------------

TEST(FakeCoreRequests, UnknownEmptyAndGarbage) {
  fw::FakeApp app;
  EXPECT_EQ(send(app, "cmd:frobnicate\n").reply(), "err unknown cmd\n");
  EXPECT_EQ(send(app, "cmd:GET_STATE\n").reply(), "err unknown cmd\n");
  EXPECT_EQ(send(app, "").reply(), "err unknown cmd\n");
  EXPECT_EQ(send(app, "\xff\xfe\x00garbage\n").reply(), "err unknown cmd\n");
  // A NUL byte is not whitespace: it stays inside the token (assumption: the
  // app splits the bytes it read, not a C string).
  EXPECT_EQ(send(app, std::string("cmd:get_state\0junk", 18)).reply(), "err unknown cmd\n");
}

TEST(FakeCoreRequests, TwoLinesMergeIntoOneCommand) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  // The second line's cmd: wins and the first line's x/y join it.
  auto x = send(app, "cmd:get_state\ncmd:move_window id=w1 x=5 y=6\n");
  EXPECT_EQ(x.reply(), "{\"success\":true}\n");
  EXPECT_EQ(state_of(app).windows[0].x, 5);
}

TEST(FakeCoreRequests, OnlyTheFirst2047BytesCount) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  // x=5 sits beyond byte 2047: truncated away, so the move lacks y.
  std::string line = "cmd:move_window id=w1 x=5 pad=" + std::string(2100, 'a') + " y=6\n";
  EXPECT_EQ(send(app, line).reply(), "err missing id/x/y\n");
  EXPECT_EQ(app.journal().back().raw.size(), ipc::max_request_bytes);
  // Percent-decoded values and atoi-like numbers.
  EXPECT_EQ(send(app, "cmd:move_window id=w1 x=%2D4 y=12abc\n").reply(), "{\"success\":true}\n");
  EXPECT_EQ(state_of(app).windows[0].x, -4);
  EXPECT_EQ(state_of(app).windows[0].y, 12);
}

TEST(FakeCoreRequests, AtoiLikeNumbers) {
  EXPECT_EQ(fw::parse_int_like_atoi("42"), 42);
  EXPECT_EQ(fw::parse_int_like_atoi("  -7x"), -7);
  EXPECT_EQ(fw::parse_int_like_atoi("+3"), 3);
  EXPECT_EQ(fw::parse_int_like_atoi("abc"), 0);
  EXPECT_EQ(fw::parse_int_like_atoi(""), 0);
  EXPECT_EQ(fw::parse_int_like_atoi("99999999999999999999"), 2147483647);
  EXPECT_EQ(fw::parse_int_like_atoi("-99999999999999999999"), -2147483647 - 1);
}

TEST(FakeCoreRequests, SubscribeMarksTheConnection) {
  fw::FakeApp app;
  auto x = send(app, "cmd:subscribe_events\n");
  EXPECT_EQ(x.reply(), "{\"type\":\"subscribed\"}\n");
  EXPECT_TRUE(x.response.subscribe);
  EXPECT_FALSE(send(app, "cmd:get_state\n").response.subscribe);
}

// --- room chat ------------------------------------------------------------------------

TEST(FakeCoreChat, ReceiveNeedsTextAndARoomChatWindow) {
  fw::CoreConfig cfg;
  cfg.display_name = "amber-fox";
  fw::FakeApp app(cfg);
  EXPECT_EQ(send(app, "cmd:room_chat_receive sender=bob text=hi\n").reply(), "err no room_chat window open\n");
  EXPECT_EQ(send(app, "cmd:room_presence participants=%5B%5D\n").reply(), "err no room_chat window open\n");
  send(app, "cmd:create_window type=room_chat\n");
  EXPECT_EQ(send(app, "cmd:room_chat_receive sender=bob\n").reply(), "err missing text\n");
  EXPECT_EQ(send(app, "cmd:room_chat_receive sender=bob text=hello%20there ts=12:30\n").reply(), "ok\n");
  const auto s = state_of(app);
  ASSERT_EQ(s.chat_log.size(), 1u);
  EXPECT_EQ(s.chat_log[0], (ipc::ChatEntry{1, "bob", "hello there"}));
  EXPECT_EQ(send(app, "cmd:room_presence participants=" + ipc::percent_encode(R"([{"id":"amber-fox"}])") + "\n").reply(), "ok\n");
  EXPECT_EQ(app.presence(), ipc::Json::parse(R"([{"id":"amber-fox"}])"));
  EXPECT_EQ(send(app, "cmd:room_chat_display_name\n").reply(), "amber-fox\n");
  EXPECT_EQ(ipc::classify_reply(send(app, "cmd:room_chat_display_name\n").reply()).kind, ipc::ReplyKind::text);
}

TEST(FakeCoreChat, PendingIsClearedByReadingAndLogIsCapped) {
  fw::FakeApp app;
  app.type_chat("one");
  app.type_chat("two \"quoted\"");
  auto x = send(app, "cmd:room_chat_pending\n");
  EXPECT_EQ(x.reply(), "[\"one\",\"two \\\"quoted\\\"\"]\n");
  EXPECT_EQ(ipc::classify_reply(x.reply()).kind, ipc::ReplyKind::data);
  EXPECT_EQ(send(app, "cmd:room_chat_pending\n").reply(), "[]\n");
  send(app, "cmd:create_window type=room_chat\n");
  for (int i = 0; i < 60; ++i) send(app, "cmd:room_chat_receive text=m" + std::to_string(i) + "\n");
  const auto s = state_of(app);
  ASSERT_EQ(s.chat_log.size(), 50u);
  EXPECT_EQ(s.chat_log.back().text, "m59");
  EXPECT_EQ(s.chat_log.front().text, "m10");
  // Non-UTF-8 typed text does not break the reply.
  app.type_chat("\xff");
  EXPECT_EQ(ipc::classify_reply(send(app, "cmd:room_chat_pending\n").reply()).kind, ipc::ReplyKind::data);
}

// --- backrooms_tv's modal dialog -------------------------------------------------------

TEST(FakeCoreDialog, ReplyWithheldUntilAPersonClosesTheDialog) {
  fw::FakeApp app;
  auto x = send(app, "cmd:create_window type=backrooms_tv\n");
  EXPECT_FALSE(x.response.reply.has_value());
  ASSERT_TRUE(x.response.dialog.has_value());
  EXPECT_TRUE(x.events.empty());
  EXPECT_EQ(app.open_dialogs(), 1u);
  EXPECT_TRUE(app.journal().back().reply.empty());
  auto d = app.dismiss_dialog();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->dialog, *x.response.dialog);
  EXPECT_EQ(d->reply, "{\"success\":true,\"id\":\"w1\"}\n");
  EXPECT_EQ(app.take_events(), (std::vector<ipc::Event>{ev(1, "state_changed", "w1")}));
  EXPECT_EQ(app.journal().back().reply, d->reply);
  EXPECT_FALSE(app.dismiss_dialog().has_value());
}

// --- restart ---------------------------------------------------------------------------

TEST(FakeCoreRestart, IdsAndSeqRestartLayoutReloadedSilently) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n");
  send(app, "cmd:create_window type=life\n");
  auto pending = send(app, "cmd:create_window type=backrooms_tv\n");
  auto layout = fw::parse_layout(
      R"({"windows":[{"id":"w9","type":"frame_player","x":2,"y":1,"w":42,"h":14,"path":"/f"},{"type":"room_chat"}]})");
  ASSERT_TRUE(layout.ok());
  const auto dropped = app.restart(*layout);
  EXPECT_EQ(dropped, std::vector<std::uint64_t>{*pending.response.dialog});
  EXPECT_TRUE(app.take_events().empty());
  const auto s = state_of(app);
  ASSERT_EQ(s.windows.size(), 2u);
  EXPECT_EQ(s.windows[0].id, "w2");  // opened last, so front-most, like the file says
  EXPECT_EQ(s.windows[0].type, "frame_player");
  EXPECT_EQ(s.windows[0].path, "/f");
  EXPECT_EQ(s.windows[1].id, "w1");
  auto x = send(app, "cmd:create_window type=verse\n");
  EXPECT_EQ(x.reply(), "{\"success\":true,\"id\":\"w3\"}\n");
  EXPECT_EQ(x.events[0].seq, 1);  // new process: seq starts at 1 again
  app.restart();
  EXPECT_TRUE(app.desktop().windows().empty());
  EXPECT_EQ(send(app, "cmd:create_window type=verse\n").reply(), "{\"success\":true,\"id\":\"w1\"}\n");
}

TEST(FakeCoreLayout, HostileLayoutsAreErrors) {
  EXPECT_FALSE(fw::parse_layout("not json").ok());
  EXPECT_FALSE(fw::parse_layout("{}").ok());
  EXPECT_FALSE(fw::parse_layout(R"({"windows":{}})").ok());
  EXPECT_FALSE(fw::parse_layout("[1]").ok());
  EXPECT_FALSE(fw::parse_layout(R"([{"x":1}])").ok());
  EXPECT_FALSE(fw::parse_layout(R"([{"type":"verse","x":"1"}])").ok());
  EXPECT_FALSE(fw::parse_layout(R"([{"type":"verse","x":1e300}])").ok());
  EXPECT_FALSE(fw::parse_layout(R"([{"type":"verse","title":5}])").ok());
  EXPECT_FALSE(fw::parse_layout(std::string(10000, '[')).ok());
  auto partial = fw::parse_layout(R"([{"type":"verse","x":1,"y":2}])");
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE((*partial)[0].bounds.has_value());
  // Unknown types in a layout are skipped on restart, not fatal.
  fw::FakeApp app;
  auto l = fw::parse_layout(R"([{"type":"nope"},{"type":"verse"}])");
  ASSERT_TRUE(l.ok());
  app.restart(*l);
  EXPECT_EQ(app.desktop().windows().size(), 1u);
}

// --- journal ------------------------------------------------------------------------------

TEST(FakeCoreJournal, RecordsEveryCommandWithTime) {
  fw::FakeApp app;
  send(app, "cmd:create_window type=verse\n", Millis{100});
  send(app, "junk", Millis{250});
  ASSERT_EQ(app.journal().size(), 2u);
  const auto& a = app.journal()[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.at, Millis{100});
  EXPECT_EQ(a.command.name, "create_window");
  EXPECT_EQ(a.command.params.at("type"), "verse");
  EXPECT_EQ(a.reply, "{\"success\":true,\"id\":\"w1\"}\n");
  EXPECT_EQ(app.journal()[1].raw, "junk");
  EXPECT_EQ(app.journal()[1].at, Millis{250});
  app.clear_journal();
  send(app, "cmd:get_state\n");
  EXPECT_EQ(app.journal().front().index, 2u);
}

TEST(FakeCoreJournal, BoundedByConfig) {
  fw::CoreConfig cfg;
  cfg.journal_max = 3;
  fw::FakeApp app(cfg);
  for (int i = 0; i < 10; ++i) send(app, "cmd:get_state\n");
  EXPECT_EQ(app.journal().size(), 3u);
  EXPECT_EQ(app.journal().front().index, 7u);
}

// --- auth ---------------------------------------------------------------------------------

TEST(FakeCoreAuth, ChallengeAnswerAndFailures) {
  const std::array<std::uint8_t, 16> bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                           0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  const std::string nonce = fw::make_nonce(bytes);
  EXPECT_EQ(nonce, "0123456789abcdef0123456789abcdef");
  fw::AuthSession ok("correct horse battery staple", nonce);
  const std::string challenge = ok.challenge();
  EXPECT_EQ(ipc::parse_challenge(challenge).value(), nonce);
  auto answer = ipc::answer_challenge(challenge, "correct horse battery staple");
  ASSERT_TRUE(answer.ok());
  // The command written together with the answer is irrelevant to auth.
  EXPECT_EQ(ok.on_answer(*answer + "cmd:get_state\n"), "{\"type\":\"auth_ok\"}\n");
  EXPECT_EQ(ok.state(), fw::AuthSession::State::authenticated);
  EXPECT_EQ(ok.on_answer(*answer), "{\"error\":\"auth_failed\"}\n");  // a second answer is not a thing

  fw::AuthSession bad("s", nonce);
  EXPECT_EQ(bad.on_answer(*ipc::answer_challenge(challenge, "wrong")), "{\"error\":\"auth_failed\"}\n");
  EXPECT_EQ(bad.state(), fw::AuthSession::State::failed);
  fw::AuthSession garbage("s", nonce);
  EXPECT_EQ(garbage.on_answer(std::string("\0\xff{", 3)), "{\"error\":\"auth_failed\"}\n");
  // Python's json.dumps default separators (a space after each colon) work,
  // a space before the colon does not (the app looks for `"hmac":`).
  fw::AuthSession spaced("s", nonce);
  EXPECT_EQ(spaced.on_answer("{\"type\": \"auth\", \"hmac\": \"" + ipc::hmac_sha256_hex("s", nonce) + "\"}\n"),
            "{\"type\":\"auth_ok\"}\n");
  fw::AuthSession before_colon("s", nonce);
  EXPECT_EQ(before_colon.on_answer("{\"hmac\" : \"" + ipc::hmac_sha256_hex("s", nonce) + "\"}\n"),
            "{\"error\":\"auth_failed\"}\n");
  fw::AuthSession slow("s", nonce);
  EXPECT_EQ(slow.on_timeout(), "{\"error\":\"auth_failed\"}\n");
  EXPECT_EQ(fw::AuthSession::step_timeout, Millis{1000});
}

// --- a model-based property over random command sequences ------------------------------------

RC_GTEST_PROP(FakeCoreProperty, RandomSessionsKeepTheInvariants, ()) {
  fw::FakeApp app;
  const auto steps = *rc::gen::container<std::vector<std::tuple<int, int, int, int>>>(
      rc::gen::tuple(rc::gen::inRange(0, 9), rc::gen::inRange(1, 12), rc::gen::inRange(-5, 200),
                     rc::gen::inRange(-5, 200)));
  std::set<std::string> live;
  std::set<std::string> ever;
  std::set<std::string> freed;  // closed by a person: the app may hand these out again
  std::int64_t last_seq = 0;
  std::uint64_t next_id = 1;
  for (const auto& [op, target, a, b] : steps) {
    const std::string id = "w" + std::to_string(target);
    const std::string sa = std::to_string(a), sb = std::to_string(b);
    std::string line;
    std::size_t want_events = 0;
    const bool exists = live.count(id) != 0;
    switch (op) {
      case 0: case 1:
        line = "cmd:create_window type=verse";
        want_events = 1;
        break;
      case 2: line = "cmd:move_window id=" + id + " x=" + sa + " y=" + sb; want_events = exists ? 1 : 0; break;
      case 3: line = "cmd:resize_window id=" + id + " width=" + sa + " height=" + sb; want_events = exists ? 1 : 0; break;
      case 4: line = "cmd:focus_window id=" + id; break;
      case 5: line = "cmd:close_window id=" + id; want_events = exists ? 2 : 0; break;
      case 6: line = "cmd:get_state"; break;
      case 7: RC_ASSERT(app.person_move(id, a, b) == exists); break;
      default:
        RC_ASSERT(app.person_close(id) == exists);
        if (exists) {
          live.erase(id);
          freed.insert(id);
        }
        break;
    }
    if (!line.empty()) {
      auto r = app.handle_request(line + "\n", Millis{0});
      RC_ASSERT(r.reply.has_value());
      if (op <= 1) {
        auto made = ipc::parse_json(*r.reply).value().at("id").get<std::string>();
        if (freed.erase(made) == 0) {
          // Not a reused id: the next one of the counter, never seen before.
          RC_ASSERT(made == "w" + std::to_string(next_id++));
          RC_ASSERT(ever.insert(made).second);
        }
        live.insert(made);
      }
      if (op == 5 && exists) live.erase(id);
    }
    const auto events = app.take_events();
    RC_ASSERT(events.size() == want_events);
    for (const auto& e : events) RC_ASSERT(e.seq == ++last_seq);  // one global, gapless seq
    auto s = ipc::parse_get_state(app.get_state_line());
    RC_ASSERT(s.ok());
    std::set<std::string> ids;
    for (std::size_t i = 0; i < s->windows.size(); ++i) {
      ids.insert(s->windows[i].id);
      RC_ASSERT(s->windows[i].z == static_cast<std::int32_t>(i));
      RC_ASSERT(s->windows[i].w >= 1);
    }
    RC_ASSERT(ids == live);
  }
}
