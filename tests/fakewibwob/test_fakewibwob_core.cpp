// Tests for the pure fakewibwob core (fakewibwob/core): every command's
// replies and events as spec/wibwob-ipc.md shows them, each quirk, the
// person actions that fire no event, dialogs. Restart, layouts, the journal,
// auth and the model-based property are in test_fakewibwob_lifecycle.cpp.
#include "fakewibwob/core/fake_app.hpp"
#include "tests/fakewibwob/fake_app_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "protocol/window.hpp"

namespace fw = wibwob::fakewibwob;
namespace ipc = wibwob::protocol::ipc;
using fw::Millis;

using fw::test::ev;
using fw::test::send;
using fw::test::spec_of;
using fw::test::state_of;

// --- window types --------------------------------------------------------------

TEST(FakeCoreTypes, ThirtyFiveTypesFromTheProtocolTableWithBounds) {
  const auto& protocol_types = wibwob::protocol::window_types();
  ASSERT_EQ(fw::window_types().size(), protocol_types.size());
  for (std::size_t i = 0; i < protocol_types.size(); ++i) {
    const auto& t = fw::window_types()[i];
    EXPECT_EQ(t.name, protocol_types[i].name);
    EXPECT_EQ(t.needs_path, protocol_types[i].needs_path) << t.name;
    EXPECT_GT(t.default_bounds.w, 0) << t.name;
    EXPECT_GT(t.default_bounds.h, 0) << t.name;
  }
  EXPECT_EQ(fw::find_window_type("room_chat")->default_title, "Room Chat");
  EXPECT_EQ(fw::find_window_type("verse")->default_bounds, (fw::Rect{12, 4, 96, 30}));
  EXPECT_EQ(fw::find_window_type("Verse"), nullptr);  // case-sensitive
}

TEST(FakeCoreCreate, EveryCreatableTypeGetsIdAndEvent) {
  fw::FakeApp app;
  std::int64_t seq = 0;
  int n = 0;
  for (const auto& t : fw::window_types()) {
    if (!t.creatable_over_ipc()) continue;
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
