// SyncEngine (bridge/core/sync_engine.hpp), driven in-process against the
// fake app's pure core, with the room played by the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "bridge/core/sync_engine.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "protocol/ipc.hpp"
#include "protocol/room_message.hpp"

using namespace wibwob;
using bridge::Effects;
using bridge::IpcFailure;
using bridge::IpcOutcome;
using bridge::Ms;
using bridge::SyncEngine;
using protocol::Json;
namespace room = protocol::room;

namespace {

// One engine beside one fake app. IPC runs synchronously; room frames the
// engine sends are collected for the test to inspect and answer.
struct Harness {
  explicit Harness(std::string origin = "A", fakewibwob::FakeApp* shared_app = nullptr)
      : engine(config(std::move(origin))), app(shared_app ? shared_app : &own_app) {}
  explicit Harness(const bridge::EngineConfig& c, fakewibwob::FakeApp* shared_app = nullptr)
      : engine(c), app(shared_app ? shared_app : &own_app) {}

  static bridge::EngineConfig config(std::string origin) {
    bridge::EngineConfig c;
    c.origin = std::move(origin);
    c.relay_chat = false;
    return c;
  }

  void feed(Effects fx) {
    std::deque<bridge::Effect> q(fx.begin(), fx.end());
    while (!q.empty()) {
      auto e = std::move(q.front());
      q.pop_front();
      Effects more;
      if (auto* s = std::get_if<bridge::effect::SendIpc>(&e)) {
        if (hold_ipc) {
          held.push_back(*s);  // answered by release_ipc(), as the app's next tick would
        } else if (app_down) {
          more = engine.on_ipc_reply(s->id, IpcOutcome{IpcFailure::unreachable, "refused"}, now);
        } else {
          auto r = app->handle_request(s->line, now);
          more = engine.on_ipc_reply(s->id, IpcOutcome{IpcFailure::none, r.reply.value_or("")}, now);
        }
      } else if (auto* r = std::get_if<bridge::effect::SendRoom>(&e)) {
        sent.push_back(Json::parse(r->text));
      } else if (std::get_if<bridge::effect::ConnectRoom>(&e)) {
        ++connects;
      } else if (std::get_if<bridge::effect::CloseRoom>(&e)) {
        ++closes;
      } else if (auto* l = std::get_if<bridge::effect::Log>(&e)) {
        logs.push_back(l->text);
      }
      q.insert(q.end(), more.begin(), more.end());
    }
  }

  void start() { feed(engine.start(now)); }
  // Answers the requests held while hold_ipc was set, against the app as it
  // is now.
  void release_ipc() {
    hold_ipc = false;
    Effects fx(held.begin(), held.end());
    held.clear();
    feed(std::move(fx));
  }
  void advance(Ms d) {
    const Ms end = now + d;
    while (auto dl = engine.next_deadline()) {
      if (*dl > end) break;
      now = std::max(now, *dl);
      feed(engine.on_timer(now));
    }
    now = end;
  }
  void open_room(const Json& state = Json{{"windows", Json::object()}, {"version", 0}}) {
    feed(engine.on_room_open(now));
    deliver(Json{{"type", "state_sync"}, {"state", state}, {"room", "r"}});
  }
  void deliver(const Json& msg) { feed(engine.on_room_message(msg.dump(), now)); }

  // state_delta messages sent so far (pings and others filtered out).
  std::vector<Json> deltas() const {
    std::vector<Json> out;
    for (const auto& m : sent)
      if (m["type"] == "state_delta") out.push_back(m["delta"]);
    return out;
  }
  std::size_t pings() const {
    std::size_t n = 0;
    for (const auto& m : sent) n += m["type"] == "ping" ? 1 : 0;
    return n;
  }
  std::size_t journal_count(const std::string& cmd) const {
    std::size_t n = 0;
    for (const auto& j : app->journal()) n += j.command.name == cmd ? 1 : 0;
    return n;
  }

  SyncEngine engine;
  fakewibwob::FakeApp own_app;
  fakewibwob::FakeApp* app;
  Ms now{0};
  bool app_down = false;
  bool hold_ipc = false;  // requests wait in `held` instead of reaching the app
  std::vector<bridge::effect::SendIpc> held;
  std::vector<Json> sent;
  std::vector<std::string> logs;
  int connects = 0;
  int closes = 0;
};

// A room state of n verse windows "X:w10", "X:w11", ... from another instance.
Json peer_windows(int n) {
  Json windows = Json::object();
  for (int i = 0; i < n; ++i) {
    const std::string id = "X:w" + std::to_string(i + 10);
    windows[id] = Json{{"id", id}, {"type", "verse"}, {"x", i}, {"y", i}, {"w", 20}, {"h", 10}, {"path", nullptr}};
  }
  return windows;
}

fakewibwob::OpenSpec spec(std::string type, int x, int y, int w, int h) {
  fakewibwob::OpenSpec s;
  s.type = std::move(type);
  s.bounds = fakewibwob::Rect{x, y, w, h};
  return s;
}

Json window(const std::string& id, const std::string& type, int x, int y, int w = 20, int h = 10) {
  return Json{{"id", id}, {"type", type}, {"x", x}, {"y", y}, {"w", w}, {"h", h}, {"path", nullptr}};
}

Json remote_delta(Json delta, std::int64_t version, std::string from = "peer") {
  return Json{{"type", "state_delta"}, {"delta", std::move(delta)}, {"version", version}, {"from", std::move(from)}};
}

const fakewibwob::DesktopWindow* find_type(const fakewibwob::FakeApp& app, const std::string& type) {
  for (const auto& w : app.desktop().windows())
    if (w.type == type) return &w;
  return nullptr;
}

}  // namespace

TEST(SyncEngine, FirstJoinIntoEmptyRoomPushesLocalWindowsButNotInternalOnes) {
  Harness h;
  ASSERT_TRUE(h.app->open(spec("verse", 1, 2, 30, 10)).ok());
  ASSERT_TRUE(h.app->open(spec("room_chat", 0, 0, 40, 20)).ok());
  h.start();
  EXPECT_EQ(h.connects, 1);
  h.open_room();
  auto ds = h.deltas();
  ASSERT_EQ(ds.size(), 1u);
  ASSERT_EQ(ds[0]["add"].size(), 1u);
  const Json& w = ds[0]["add"][0];
  EXPECT_EQ(w["type"], "verse");
  EXPECT_EQ(w["id"], "A:w1");  // room id: origin + local id
  EXPECT_EQ(w["x"], 1);
  EXPECT_FALSE(w.contains("z"));
  EXPECT_FALSE(w.contains("focused"));
  EXPECT_EQ(h.pings(), 1u);  // the ordering barrier after the delta
}

TEST(SyncEngine, FirstJoinIntoNonEmptyRoomCreatesRoomWindowsAndKeepsLocalOnes) {
  Harness h;
  ASSERT_TRUE(h.app->open(spec("cube", 5, 5, 20, 10)).ok());
  h.start();
  h.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 7}});
  EXPECT_EQ(h.journal_count("create_window"), 1u);
  auto* orbit = find_type(*h.app, "orbit");
  ASSERT_NE(orbit, nullptr);
  EXPECT_EQ(orbit->bounds.x, 3);
  EXPECT_EQ(h.engine.local_id_of("B:w1"), orbit->id);
  auto ds = h.deltas();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0]["add"][0]["type"], "cube");
  // Applying the remote window locally does not echo it back.
  h.advance(Ms(1000));
  EXPECT_EQ(h.deltas().size(), 1u);
}

TEST(SyncEngine, PersonMoveWithoutEventIsSentWithFullFieldsWithinOnePoll) {
  Harness h;
  auto id = h.app->open(spec("verse", 1, 2, 30, 10));
  h.start();
  h.open_room();
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});
  ASSERT_TRUE(h.app->person_move(*id, 9, 9));
  h.advance(Ms(250));
  auto ds = h.deltas();
  ASSERT_EQ(ds.size(), 2u);
  ASSERT_EQ(ds[1]["update"].size(), 1u);
  const Json& u = ds[1]["update"][0];
  EXPECT_EQ(u["x"], 9);
  EXPECT_EQ(u["type"], "verse");  // never a bare {id, x, y}
  EXPECT_EQ(u["w"], 30);
  // A focus change alone sends nothing.
  ASSERT_TRUE(h.app->open(spec("cube", 0, 0, 20, 10)).ok());
  h.advance(Ms(250));
  const auto before = h.deltas().size();
  ASSERT_TRUE(h.app->person_focus(*id));
  h.advance(Ms(1000));
  EXPECT_EQ(h.deltas().size(), before);
}

TEST(SyncEngine, EventTriggersAnImmediatePoll) {
  Harness h;
  h.start();
  h.open_room();
  const auto polls = h.engine.stats().polls;
  ASSERT_TRUE(h.app->open(spec("life", 0, 0, 20, 10)).ok());
  for (const auto& ev : h.app->take_events())
    h.feed(h.engine.on_ipc_event(protocol::ipc::format_event(ev), h.now));
  EXPECT_EQ(h.engine.stats().polls, polls + 1);  // without advancing time
  ASSERT_EQ(h.deltas().size(), 1u);
  EXPECT_EQ(h.deltas()[0]["add"][0]["type"], "life");
}

TEST(SyncEngine, RemoteDeltasAreAppliedAndOwnDeltasFillVersionGaps) {
  Harness h;
  auto id = h.app->open(spec("verse", 1, 1, 30, 10));
  h.start();
  h.open_room(Json{{"windows", Json::object()}, {"version", 3}});
  ASSERT_EQ(h.deltas().size(), 1u);  // our add: the server will give it version 4
  // Another peer's delta sequenced after ours: version 5.
  h.deliver(remote_delta(Json{{"add", {window("B:w1", "cube", 10, 10)}}}, 5));
  EXPECT_EQ(h.engine.confirmed_version(), 5);
  EXPECT_EQ(h.engine.pending_deltas(), 0u);
  ASSERT_NE(find_type(*h.app, "cube"), nullptr);
  // A remote move of our own window reaches it (room identity, not local id).
  h.deliver(remote_delta(Json{{"update", {window("A:" + *id, "verse", 40, 2, 30, 10)}}}, 6));
  EXPECT_EQ(h.app->desktop().find(*id)->bounds.x, 40);
  EXPECT_EQ(h.deltas().size(), 1u);  // and is not echoed
  h.advance(Ms(1000));
  EXPECT_EQ(h.deltas().size(), 1u);
  EXPECT_TRUE(h.engine.idle());
}

// The pong after our add proves the server sequenced it (version 11). A peer
// then removes the window at version 12, and our connection drops before
// that broadcast reaches us. The fresh state at 12 no longer has the window:
// the app must close it, and our add must not be sent again (it would bring
// back a window a peer removed after seeing it).
TEST(SyncEngine, APongProvesOurAddSoAPeersLaterRemoveIsNotUndoneAfterAReconnect) {
  Harness h;
  auto id = h.app->open(spec("verse", 1, 1, 30, 10));
  ASSERT_TRUE(id.ok());
  h.start();
  h.open_room(Json{{"windows", Json::object()}, {"version", 10}});
  ASSERT_EQ(h.deltas().size(), 1u);  // our add
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});
  h.feed(h.engine.on_room_closed(h.now));
  h.advance(Ms(3000));  // the backoff asks to reconnect
  ASSERT_GE(h.connects, 2);
  h.open_room(Json{{"windows", Json::object()}, {"version", 12}});
  h.advance(Ms(1000));
  EXPECT_EQ(h.deltas().size(), 1u) << h.deltas().back().dump();
  EXPECT_EQ(h.app->desktop().find(*id), nullptr);  // closed, as on every other desktop
}

TEST(SyncEngine, ImpossibleVersionGapForcesAResync) {
  Harness h;
  h.start();
  h.open_room(Json{{"windows", Json::object()}, {"version", 1}});
  h.deliver(remote_delta(Json{{"add", {window("B:w1", "cube", 1, 1)}}}, 5));  // 3 versions we cannot place
  EXPECT_EQ(h.closes, 1);
  EXPECT_EQ(h.engine.stats().resyncs, 1u);
}

TEST(SyncEngine, ChangesWhileDisconnectedReachTheRoomAfterReconnect) {
  Harness h;
  auto id = h.app->open(spec("verse", 1, 1, 30, 10));
  h.start();
  h.open_room();
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});
  h.feed(h.engine.on_room_closed(h.now));
  ASSERT_TRUE(h.app->person_move(*id, 50, 5));
  ASSERT_TRUE(h.app->open(spec("cube", 0, 0, 20, 10)).ok());
  h.advance(Ms(3000));  // polls see the changes; backoff asks to reconnect
  EXPECT_GE(h.connects, 2);
  const auto sent_before = h.deltas().size();
  // The room kept our first add.
  h.open_room(Json{{"windows", {{"A:" + *id, window("A:" + *id, "verse", 1, 1, 30, 10)}}}, {"version", 1}});
  auto ds = h.deltas();
  ASSERT_GT(ds.size(), sent_before);
  Json all = Json::array();
  for (auto i = sent_before; i < ds.size(); ++i) all.push_back(ds[i]);
  const std::string text = all.dump();
  EXPECT_NE(text.find("\"x\":50"), std::string::npos) << text;
  EXPECT_NE(text.find("cube"), std::string::npos) << text;
}

TEST(SyncEngine, ReconnectDoesNotRecreateUnchangedWindows) {
  Harness h;
  h.start();
  h.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 2}});
  ASSERT_EQ(h.journal_count("create_window"), 1u);
  h.feed(h.engine.on_room_closed(h.now));
  h.advance(Ms(3000));
  h.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 2}});
  h.advance(Ms(1000));
  EXPECT_EQ(h.journal_count("create_window"), 1u);
  EXPECT_EQ(h.journal_count("close_window"), 0u);
  EXPECT_TRUE(h.deltas().empty());
}

TEST(SyncEngine, MalformedRoomMessagesAreSkippedAndCounted) {
  Harness h;
  h.start();
  h.open_room();
  for (const char* bad : {"not json", "[]", "{\"type\":7}", "{\"type\":\"state_delta\",\"delta\":{\"add\":5},\"version\":\"x\"}"})
    h.feed(h.engine.on_room_message(bad, h.now));
  EXPECT_EQ(h.engine.stats().bad_room_messages, 4u);
  EXPECT_EQ(h.closes, 0);
  EXPECT_TRUE(h.engine.room_synced());
  // A delta with hostile content still occupies its version.
  h.deliver(remote_delta(Json{{"add", {nullptr, window("__proto__", "verse", 1, 1)}}}, 1));
  EXPECT_EQ(h.engine.confirmed_version(), 1);
  EXPECT_EQ(h.journal_count("create_window"), 0u);
}

TEST(SyncEngine, RemoteChangesNeverTouchInternalOrUnmappedWindows) {
  Harness h;
  auto chat = h.app->open(spec("room_chat", 0, 0, 40, 20));
  h.start();
  h.open_room();
  // Peers use their own room ids; a peer's "w1" is not our w1.
  h.deliver(remote_delta(Json{{"remove", {"w1", *chat, "B:w1"}},
                              {"update", {window("w1", "room_chat", 9, 9)}}},
                         1));
  ASSERT_NE(h.app->desktop().find(*chat), nullptr);
  EXPECT_EQ(h.app->desktop().find(*chat)->bounds.x, 0);
  EXPECT_EQ(h.journal_count("close_window"), 0u);
  EXPECT_EQ(h.journal_count("move_window"), 0u);
}

TEST(SyncEngine, UncreatableWindowsStayInTheRoomAndAreCounted) {
  Harness h;
  h.start();
  Json backrooms = window("B:w2", "backrooms_tv", 1, 1);
  Json hologram = window("B:w3", "hologram", 1, 1);
  Json no_path = window("B:w4", "text_view", 1, 1);
  Json bad_path = window("B:w5", "text_view", 1, 1);
  bad_path["path"] = "../../etc/passwd";
  h.open_room(Json{{"windows", {{"B:w2", backrooms}, {"B:w3", hologram}, {"B:w4", no_path}, {"B:w5", bad_path}}},
                   {"version", 1}});
  h.advance(Ms(1000));
  EXPECT_EQ(h.journal_count("create_window"), 0u);  // backrooms_tv would block the app
  EXPECT_EQ(h.engine.stats().uncreatable, 4u);
  EXPECT_TRUE(h.deltas().empty());  // absent locally is not a reason to remove
}

TEST(SyncEngine, AnIdThatWasUncreatableIsForgottenOnceTheRoomDropsIt) {
  Harness h;
  h.start();
  h.open_room(Json{{"windows", {{"B:w3", window("B:w3", "hologram", 1, 1)}}}, {"version", 1}});
  h.advance(Ms(300));
  EXPECT_EQ(h.engine.stats().uncreatable, 1u);
  h.deliver(remote_delta(Json{{"remove", {"B:w3"}}}, 2));
  h.advance(Ms(300));
  // The same room id comes back as a window this app can show.
  h.deliver(remote_delta(Json{{"add", {window("B:w3", "cube", 4, 4)}}}, 3));
  h.advance(Ms(300));
  ASSERT_NE(find_type(*h.app, "cube"), nullptr);
  EXPECT_EQ(h.engine.local_id_of("B:w3"), find_type(*h.app, "cube")->id);
}

TEST(SyncEngine, FigletTextCarriesItsText) {
  Harness h;
  fakewibwob::OpenSpec s = spec("figlet_text", 1, 1, 40, 8);
  s.text = "hello world";
  ASSERT_TRUE(h.app->open(s).ok());
  h.start();
  h.open_room();
  ASSERT_EQ(h.deltas().size(), 1u);
  EXPECT_EQ(h.deltas()[0]["add"][0]["text"], "hello world");

  Harness peer("B");
  peer.start();
  peer.open_room(Json{{"windows", {{"A:w1", h.deltas()[0]["add"][0]}}}, {"version", 1}});
  auto* fig = find_type(*peer.app, "figlet_text");
  ASSERT_NE(fig, nullptr);
  EXPECT_EQ(fig->title, "hello world");
}

TEST(SyncEngine, TextEditorCreatedWithoutIdIsAdoptedNotDuplicated) {
  Harness h;
  h.start();
  h.open_room(Json{{"windows", {{"B:w1", window("B:w1", "text_editor", 2, 2, 40, 12)}}}, {"version", 1}});
  h.advance(Ms(2000));
  EXPECT_EQ(h.journal_count("create_window"), 1u);
  EXPECT_TRUE(h.deltas().empty()) << h.deltas()[0].dump();
  EXPECT_TRUE(h.engine.local_id_of("B:w1").has_value());
}

TEST(SyncEngine, BridgeRestartWhileAppRunsNeitherDuplicatesNorLoses) {
  fakewibwob::FakeApp app;
  Json room_state;
  {
    Harness first("A", &app);
    ASSERT_TRUE(app.open(spec("verse", 1, 1, 30, 10)).ok());
    first.start();
    first.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 1}});
    // The room now holds both windows (ours under A's ids).
    room_state = Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 2}};
    const auto sent = first.deltas();
    ASSERT_EQ(sent.size(), 1u);
    for (const auto& w : sent[0]["add"]) room_state["windows"][w["id"].get<std::string>()] = w;
  }
  const auto windows_before = app.desktop().windows().size();
  Harness second("A2", &app);
  second.start();
  second.open_room(room_state);
  second.advance(Ms(2000));
  EXPECT_EQ(app.desktop().windows().size(), windows_before);
  EXPECT_TRUE(second.deltas().empty()) << second.deltas()[0].dump();
  EXPECT_TRUE(second.engine.local_id_of("B:w1").has_value());
}

TEST(SyncEngine, AppRestartDiscardsTheOldMapping) {
  Harness h;
  ASSERT_TRUE(h.app->open(spec("verse", 1, 1, 30, 10)).ok());
  h.start();
  h.open_room();
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});
  const Json first_add = h.deltas()[0]["add"][0];
  // The app goes away, and comes back as a new process with one window.
  h.app_down = true;
  h.advance(Ms(500));
  h.app->restart({spec("cube", 0, 0, 20, 10)});
  h.app_down = false;
  h.advance(Ms(1000));
  EXPECT_EQ(h.engine.stats().app_restarts, 1u);
  // The room's verse (ours, from before) is re-created; the new cube is
  // pushed under a new room id, not under the old "A:w1".
  ASSERT_NE(find_type(*h.app, "verse"), nullptr);
  bool cube_pushed = false;
  for (const auto& d : h.deltas())
    for (const auto& w : d.value("add", Json::array()))
      if (w["type"] == "cube") {
        cube_pushed = true;
        EXPECT_NE(w["id"], first_add["id"]);
      }
  EXPECT_TRUE(cube_pushed);
  for (const auto& d : h.deltas()) EXPECT_FALSE(d.contains("remove")) << d.dump();
}

TEST(SyncEngine, UnparsableGetStateIsSkippedAndRetried) {
  Harness h;
  h.start();
  h.open_room();
  const std::string bad = h.app->open_broken_title_window();
  h.advance(Ms(1000));
  EXPECT_GE(h.engine.stats().bad_ipc_replies, 1u);
  EXPECT_TRUE(h.deltas().empty());
  // Once the window is gone, polling works again and changes flow.
  ASSERT_TRUE(h.app->person_close(bad));
  ASSERT_TRUE(h.app->open(spec("verse", 1, 1, 30, 10)).ok());
  h.advance(Ms(300));
  ASSERT_EQ(h.deltas().size(), 1u);
  EXPECT_EQ(h.deltas()[0]["add"][0]["type"], "verse");
}

TEST(SyncEngine, ChatAndPresenceAreRelayed) {
  bridge::EngineConfig c = Harness::config("A");
  c.relay_chat = true;
  Harness h(c);
  ASSERT_TRUE(h.app->open(spec("room_chat", 0, 0, 40, 20)).ok());
  h.app->set_display_name("amber-fox");
  h.start();
  h.open_room();
  h.deliver(Json{{"type", "presence"}, {"event", "sync"}, {"connections", {"c1", "c2"}}, {"count", 2}, {"self", "c2"}});
  EXPECT_EQ(h.app->presence().size(), 2u);
  h.deliver(Json{{"type", "chat_msg"}, {"sender", "bob"}, {"text", "hi there"}, {"ts", 1700000000000}, {"from", "c1"}});
  EXPECT_EQ(h.engine.stats().chat_in, 1u);
  h.app->type_chat("hello room");
  h.advance(Ms(600));
  bool relayed = false;
  for (const auto& m : h.sent)
    if (m["type"] == "chat_msg" && m["text"] == "hello room") {
      relayed = true;
      EXPECT_EQ(m["sender"], "amber-fox");
    }
  EXPECT_TRUE(relayed);
}

// --- what a hostile room can do to this desktop (docs/security.md) -------------------

TEST(SyncEngine, PathWindowsFromTheRoomAreNotOpenedByDefault) {
  Harness h;
  h.start();
  Json passwd = window("X:w1", "text_view", 1, 1);
  passwd["path"] = "/etc/passwd";
  Json shadow = window("X:w2", "text_view", 2, 2);
  shadow["path"] = "/etc/shadow";
  h.open_room(Json{{"windows", {{"X:w1", passwd}, {"X:w2", shadow}}}, {"version", 2}});
  h.advance(Ms(1000));
  EXPECT_EQ(h.journal_count("create_window"), 0u);
  EXPECT_EQ(h.engine.stats().uncreatable, 2u);
  ASSERT_EQ(h.engine.not_created().count("X:w1"), 1u);
  EXPECT_NE(h.engine.not_created().at("X:w1").find("--allow-path"), std::string::npos);
  EXPECT_TRUE(h.deltas().empty());  // they stay in the room
}

TEST(SyncEngine, PathWindowsOpenOnlyInsideTheAllowedFolders) {
  bridge::EngineConfig c = Harness::config("A");
  c.paths = bridge::PathPolicy({"/home/a"}, nullptr);  // lexical resolution
  Harness h(c);
  h.start();
  auto tv = [](const std::string& id, const std::string& path) {
    Json w = window(id, "text_view", 1, 1);
    w["path"] = path;
    return w;
  };
  h.open_room(Json{{"windows",
                    {{"X:w1", tv("X:w1", "/home/a/notes.txt")},
                     {"X:w2", tv("X:w2", "/home/ab/notes.txt")},
                     {"X:w3", tv("X:w3", "/home/a/../b/secret.txt")}}},
                   {"version", 3}});
  h.advance(Ms(1000));
  EXPECT_EQ(h.journal_count("create_window"), 1u);
  ASSERT_NE(find_type(*h.app, "text_view"), nullptr);
  EXPECT_EQ(find_type(*h.app, "text_view")->path, "/home/a/notes.txt");
  EXPECT_EQ(h.engine.not_created().size(), 2u);
}

TEST(SyncEngine, WindowsFromTheRoomAreBoundedAndTheRestFollowWhenThereIsRoom) {
  bridge::EngineConfig c = Harness::config("A");
  c.max_room_windows = 5;
  Harness h(c);
  h.start();
  h.open_room(Json{{"windows", peer_windows(12)}, {"version", 12}});
  h.advance(Ms(2000));
  EXPECT_EQ(h.app->desktop().windows().size(), 5u);
  EXPECT_EQ(h.engine.stats().over_window_bound, 7u);
  EXPECT_TRUE(h.engine.idle());  // held windows are not a reason to keep working
  // Local windows are not bounded by it and still reach the room.
  ASSERT_TRUE(h.app->open(spec("cube", 50, 20, 20, 8)).ok());
  h.advance(Ms(300));
  ASSERT_FALSE(h.deltas().empty());
  // The room drops most of its windows: the held ones are shown now.
  Json remove = Json::array();
  for (int i = 0; i < 9; ++i) remove.push_back("X:w" + std::to_string(i + 10));
  h.deliver(remote_delta(Json{{"remove", remove}}, 14));
  h.advance(Ms(2000));
  EXPECT_EQ(h.app->desktop().windows().size(), 4u);  // 3 from the room + the cube
  EXPECT_EQ(h.engine.stats().over_window_bound, 7u);  // counted once each
}

TEST(SyncEngine, IpcRequestsStayWithinTheRateBound) {
  bridge::EngineConfig c = Harness::config("A");
  c.max_ipc_per_second = 10;
  c.ipc_burst = 3;
  Harness h(c);
  h.start();
  h.open_room(Json{{"windows", peer_windows(40)}, {"version", 40}});
  const std::size_t at_open = h.app->journal().size();
  EXPECT_LE(at_open, 3u);  // the burst
  h.advance(Ms(1000));
  // One second later: at most the burst plus the rate.
  EXPECT_LE(h.app->journal().size(), 3u + 10u + 1u);
  EXPECT_GT(h.engine.stats().ipc_throttled, 0u);
  h.advance(Ms(10000));
  EXPECT_EQ(h.journal_count("create_window"), 40u);  // everything arrives, just not at once
}

TEST(SyncEngine, ChatFloodsAndPresenceListsAreBounded) {
  bridge::EngineConfig c = Harness::config("A");
  c.relay_chat = true;
  c.max_chat_per_second = 5;
  c.chat_burst = 5;
  c.max_presence = 10;
  Harness h(c);
  ASSERT_TRUE(h.app->open(spec("room_chat", 0, 0, 40, 20)).ok());
  h.start();
  h.open_room();
  Json conns = Json::array();
  for (int i = 0; i < 500; ++i) conns.push_back("c" + std::to_string(i));
  h.deliver(Json{{"type", "presence"}, {"event", "sync"}, {"connections", conns}, {"count", 500}, {"self", "c7"}});
  h.advance(Ms(100));
  EXPECT_LE(h.app->presence().size(), 10u);
  EXPECT_EQ(h.engine.stats().presence_skipped, 490u);
  for (int i = 0; i < 100; ++i)
    h.deliver(Json{{"type", "chat_msg"}, {"sender", "spam"}, {"text", "line " + std::to_string(i)}, {"from", "c1"}});
  h.advance(Ms(2000));
  EXPECT_EQ(h.engine.stats().chat_in, 5u);
  EXPECT_EQ(h.engine.stats().chat_dropped, 95u);
}

TEST(SyncEngine, TheEventOfItsOwnCreateStartsNoPoll) {
  Harness h;
  h.start();
  h.open_room();
  h.advance(Ms(300));
  const std::size_t polls_before = h.journal_count("get_state");
  h.deliver(remote_delta(Json{{"add", {window("B:w1", "cube", 3, 3)}}}, 1));
  ASSERT_EQ(h.journal_count("create_window"), 1u);
  const auto id = *h.engine.local_id_of("B:w1");
  // The app announces the window it created for us: no poll for that.
  h.feed(h.engine.on_ipc_event(R"({"type":"event","seq":1,"event":"state_changed","payload":{"id":")" + id + R"("}})", h.now));
  EXPECT_EQ(h.journal_count("get_state"), polls_before);
  // Another client's window does start one at once.
  h.feed(h.engine.on_ipc_event(R"({"type":"event","seq":2,"event":"state_changed","payload":{"id":"w77"}})", h.now));
  EXPECT_EQ(h.journal_count("get_state"), polls_before + 1);
}

TEST(SyncEngine, AMemberOnTheEarlierBridgeIsNoticedOnce) {
  Harness h;
  h.start();
  h.open_room();
  EXPECT_FALSE(h.engine.mixed_room());
  h.deliver(remote_delta(Json{{"add", {window("B:w1", "cube", 1, 1)}}}, 1));
  EXPECT_FALSE(h.engine.mixed_room());  // this bridge's room-id form
  h.deliver(remote_delta(Json{{"add", {window("w3", "verse", 2, 2)}}}, 2));  // the earlier bridge's bare local id
  EXPECT_TRUE(h.engine.mixed_room());
}

TEST(SyncEngine, ChatIsReadAndShownOnlyWhileAChatWindowIsOpen) {
  bridge::EngineConfig c = Harness::config("A");
  c.relay_chat = true;
  Harness h(c);
  h.start();
  h.open_room();
  h.deliver(Json{{"type", "chat_msg"}, {"sender", "bob"}, {"text", "hi there"}, {"from", "c1"}});
  h.advance(Ms(2000));
  // No room_chat window: nothing to read, nowhere to show a line; the line waits.
  EXPECT_EQ(h.journal_count("room_chat_pending"), 0u);
  EXPECT_EQ(h.journal_count("room_chat_receive"), 0u);
  EXPECT_EQ(h.engine.stats().chat_in, 0u);
  ASSERT_TRUE(h.app->open(spec("room_chat", 0, 0, 40, 20)).ok());
  h.advance(Ms(600));
  EXPECT_EQ(h.engine.stats().chat_in, 1u);
  EXPECT_GT(h.journal_count("room_chat_pending"), 0u);
}

// A restart the bridge never saw as unreachable (the app came back between
// two polls): its event numbering starting over proves the new process,
// while a reused window id does not (spec/wibwob-ipc.md, "Window ids").
TEST(SyncEngine, AnEventSequenceThatStartsOverIsANewAppProcess) {
  Harness h;
  ASSERT_TRUE(h.app->open(spec("verse", 1, 1, 30, 10)).ok());
  h.start();
  h.open_room();
  h.advance(Ms(300));
  auto event = [&](int seq) {
    h.feed(h.engine.on_ipc_event(
        R"({"type":"event","seq":)" + std::to_string(seq) + R"(,"event":"state_changed","payload":{"id":"w9"}})", h.now));
  };
  event(41);
  event(42);
  h.advance(Ms(300));
  EXPECT_EQ(h.engine.stats().app_restarts, 0u);  // a growing sequence: the same process
  h.app->restart({spec("cube", 0, 0, 20, 10)});
  event(1);
  h.advance(Ms(300));
  EXPECT_EQ(h.engine.stats().app_restarts, 1u);
  ASSERT_NE(find_type(*h.app, "verse"), nullptr);  // the room's window is back on the new process
  ASSERT_NE(find_type(*h.app, "cube"), nullptr);
  EXPECT_TRUE(h.engine.room_id_of(find_type(*h.app, "cube")->id).has_value());
}

// The room removed a window while the bridge's poll was on its way; the poll
// shows the window moved by a person before the close reached the app. The
// move is of a window the room no longer has: it must not bring it back
// (seen in the simulator: a peer dragged its copy of a removed window, and
// the update re-created it in the room).
TEST(SyncEngine, AMoveOfAWindowTheRoomRemovedIsNotSent) {
  Harness h;
  h.start();
  h.open_room(Json{{"windows", peer_windows(1)}, {"version", 1}});
  const auto* shown = find_type(*h.app, "verse");
  ASSERT_NE(shown, nullptr);
  const std::string local = shown->id;
  h.advance(Ms(1000));
  ASSERT_TRUE(h.engine.idle());
  h.hold_ipc = true;
  h.advance(Ms(300));  // the next poll is asked for and held
  ASSERT_EQ(h.held.size(), 1u);
  ASSERT_TRUE(h.app->person_move(local, 50, 20));
  h.deliver(remote_delta(Json{{"remove", {"X:w10"}}}, 2));
  h.release_ipc();
  h.advance(Ms(1000));
  for (const auto& d : h.deltas()) EXPECT_FALSE(d.contains("update")) << d.dump();
  EXPECT_EQ(h.app->desktop().find(local), nullptr);  // and the app closed it
  EXPECT_EQ(h.engine.target().count("X:w10"), 0u);
}

namespace {

// Two bridge runs beside one app process (same identity) and one room.
bridge::EngineConfig run_config(std::string origin, std::optional<bridge::Handover> handover = {},
                                std::string app_key = "app-1") {
  bridge::EngineConfig c = Harness::config(std::move(origin));
  c.app_key = std::move(app_key);
  c.room_key = "ws://room:1/parties/main/r";
  c.handover = std::move(handover);
  return c;
}

std::vector<const fakewibwob::DesktopWindow*> of_type(const fakewibwob::FakeApp& app, const std::string& type) {
  std::vector<const fakewibwob::DesktopWindow*> out;
  for (const auto& w : app.desktop().windows())
    if (w.type == type) out.push_back(&w);
  return out;
}

}  // namespace

// sync.md requirement 8: a peer moved a window while no bridge ran beside
// this app. Matching by content cannot recognise it; the handover can.
TEST(SyncEngine, ABridgeRestartResumesTheMappingSoARemoteMoveMeanwhileIsNoDuplicate) {
  fakewibwob::FakeApp app;
  std::optional<bridge::Handover> handover;
  {
    Harness first(run_config("A"), &app);
    first.start();
    first.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 1}});
    first.advance(Ms(1000));
    ASSERT_EQ(of_type(app, "orbit").size(), 1u);
    handover = first.engine.take_handover();
    ASSERT_TRUE(handover.has_value());
    EXPECT_FALSE(first.engine.take_handover().has_value());  // nothing changed since
  }
  const Json moved{{"windows", {{"B:w1", window("B:w1", "orbit", 50, 20)}}}, {"version", 2}};
  Harness second(run_config("A2", handover), &app);
  second.start();
  second.advance(Ms(300));
  second.open_room(moved);
  second.advance(Ms(2000));
  const auto orbits = of_type(app, "orbit");
  ASSERT_EQ(orbits.size(), 1u);
  EXPECT_EQ(orbits[0]->bounds.x, 50);
  EXPECT_TRUE(second.deltas().empty()) << second.deltas()[0].dump();
  EXPECT_EQ(second.engine.local_id_of("B:w1"), orbits[0]->id);
}

// The handover belongs to one app process: another one (here: restarted,
// its new orbit got the old one's id) is matched by content, never through
// a mapping made for the old process.
TEST(SyncEngine, AHandoverForAnotherAppProcessIsNotResumed) {
  std::optional<bridge::Handover> handover;
  {
    fakewibwob::FakeApp old_app;
    Harness first(run_config("A"), &old_app);
    first.start();
    first.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 1}});
    first.advance(Ms(1000));
    handover = first.engine.take_handover();
    ASSERT_TRUE(handover.has_value());
  }
  fakewibwob::FakeApp new_app;
  auto own = new_app.open(spec("orbit", 60, 30, 20, 10));
  ASSERT_TRUE(own.ok());
  Harness second(run_config("A2", handover, "app-2"), &new_app);
  second.start();
  second.advance(Ms(300));
  second.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 1}});
  second.advance(Ms(2000));
  EXPECT_EQ(of_type(new_app, "orbit").size(), 2u);  // the room's, and the person's own
  ASSERT_EQ(second.deltas().size(), 1u);
  EXPECT_EQ(second.deltas()[0]["add"][0]["x"], 60);
  EXPECT_FALSE(second.deltas()[0].contains("update"));
}

// The bridge stopped after sending create_window and before its reply: the
// next run finds the window unmapped and takes it for the one it created.
TEST(SyncEngine, ACreateInFlightAtARestartIsNotCreatedTwice) {
  fakewibwob::FakeApp app;
  std::optional<bridge::Handover> handover;
  {
    Harness first(run_config("A"), &app);
    first.start();
    first.open_room();
    first.advance(Ms(300));
    first.hold_ipc = true;
    first.deliver(remote_delta(Json{{"add", {window("B:w1", "cube", 7, 8)}}}, 1));
    ASSERT_EQ(first.held.size(), 1u);
    ASSERT_NE(first.held[0].line.find("create_window"), std::string::npos);
    handover = first.engine.take_handover();
    ASSERT_TRUE(handover.has_value());
    EXPECT_EQ(handover->creating.count("B:w1"), 1u);
    (void)app.handle_request(first.held[0].line, first.now);  // the app made it; the reply is lost
    first.held.clear();
  }
  ASSERT_EQ(of_type(app, "cube").size(), 1u);
  // Meanwhile a peer moved it, so matching by content would not find it.
  Harness second(run_config("A2", handover), &app);
  second.start();
  second.advance(Ms(300));
  second.open_room(Json{{"windows", {{"B:w1", window("B:w1", "cube", 70, 8)}}}, {"version", 2}});
  second.advance(Ms(2000));
  ASSERT_EQ(of_type(app, "cube").size(), 1u);
  EXPECT_EQ(of_type(app, "cube")[0]->bounds.x, 70);
  EXPECT_TRUE(second.deltas().empty()) << second.deltas()[0].dump();
}

// Issue 14: the revision tag (docs/bridge.md, "After a reconnect").
TEST(SyncEngine, TheRevisionTagNeverReachesTheAppNorCountsAsALayoutDifference) {
  Harness h;
  h.start();
  Json w = window("B:w1", "orbit", 3, 4);
  w["_rev"] = Json{{"by", "B#7"}, {"seen", 1}};
  w["from_a_newer_bridge"] = Json{{"nested", true}};
  h.open_room(Json{{"windows", {{"B:w1", w}}}, {"version", 2}});
  ASSERT_EQ(h.journal_count("create_window"), 1u);
  for (const auto& j : h.app->journal()) {
    EXPECT_EQ(j.raw.find("_rev"), std::string::npos) << j.raw;
    EXPECT_EQ(j.raw.find("newer"), std::string::npos) << j.raw;
  }
  const auto commands = h.app->journal().size();
  // Another writer's tag on the same fields is no change for the app.
  w["_rev"] = Json{{"by", "C#2"}, {"seen", 2}};
  h.deliver(remote_delta(Json{{"update", {w}}}, 3));
  h.advance(Ms(1000));
  std::size_t window_commands = 0;
  for (std::size_t i = commands; i < h.app->journal().size(); ++i)
    window_commands += h.app->journal()[i].command.name != "get_state";
  EXPECT_EQ(window_commands, 0u);
  EXPECT_TRUE(h.deltas().empty());
  EXPECT_TRUE(h.engine.idle());
}

TEST(SyncEngine, EveryWindowEntryItSendsIsTagged) {
  Harness h;
  auto id = h.app->open(spec("verse", 1, 1, 30, 10));
  h.start();
  h.open_room(Json{{"windows", Json::object()}, {"version", 4}});
  ASSERT_EQ(h.deltas().size(), 1u);
  EXPECT_EQ(h.deltas()[0]["add"][0]["_rev"], (Json{{"by", "A#1"}, {"seen", 4}}));
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});
  ASSERT_TRUE(h.app->person_close(*id));
  h.advance(Ms(300));
  ASSERT_EQ(h.deltas().size(), 2u);
  EXPECT_EQ(h.deltas()[1]["_removed"]["A:" + *id], (Json{{"by", "A#2"}, {"seen", 5}}));
}

TEST(SyncEngine, OfflineDraggingIsSentAsOneEntryAfterTheReconnect) {
  Harness h;
  auto id = h.app->open(spec("verse", 1, 1, 30, 10));
  h.start();
  h.open_room();
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});
  const Json landed = h.deltas()[0]["add"][0];
  h.feed(h.engine.on_room_closed(h.now));
  const auto before = h.engine.stats().offline_changes;
  for (int i = 0; i < 40; ++i) {  // ten seconds of dragging at four polls a second
    ASSERT_TRUE(h.app->person_move(*id, i, 5));
    h.advance(Ms(250));
  }
  EXPECT_EQ(h.engine.stats().offline_changes - before, 40u);
  EXPECT_EQ(h.engine.offline_deltas(), 1u);  // one window
  const auto sent_before = h.deltas().size();
  h.open_room(Json{{"windows", {{landed["id"].get<std::string>(), landed}}}, {"version", 1}});
  ASSERT_EQ(h.deltas().size(), sent_before + 1);
  EXPECT_EQ(h.deltas().back()["update"][0]["x"], 39);
  EXPECT_EQ(h.engine.stats().resent_deltas, 1u);
  EXPECT_EQ(h.engine.stats().resent_entries, 1u);
}

TEST(SyncEngine, AWindowItRemovedThatALateReSendBringsBackIsRemovedAgain) {
  Harness h;
  h.start();
  h.open_room(Json{{"windows", {{"B:w1", window("B:w1", "orbit", 3, 4)}}}, {"version", 1}});
  h.advance(Ms(300));
  auto local = h.engine.local_id_of("B:w1");
  ASSERT_TRUE(local);
  ASSERT_TRUE(h.app->person_close(*local));
  h.advance(Ms(300));
  ASSERT_EQ(h.deltas().size(), 1u);
  h.deliver(Json{{"type", "pong"}, {"ts", 1}});  // our removal is version 2
  // B re-sends its add after a reconnect (it could not tell it had landed).
  h.deliver(remote_delta(Json{{"add", {window("B:w1", "orbit", 3, 4)}}}, 3));
  ASSERT_EQ(h.deltas().size(), 2u);
  EXPECT_EQ(h.deltas()[1]["remove"], Json::array({"B:w1"}));
  EXPECT_EQ(h.engine.stats().came_back, 1u);
  h.advance(Ms(1000));
  EXPECT_EQ(h.journal_count("create_window"), 1u);  // not shown again meanwhile
}

// The shell reports another identity for the app (its socket was made
// again): a new process, so the old mapping is dropped at the next poll and
// the app is adopted afresh; the same identity again changes nothing.
TEST(SyncEngine, AChangedAppIdentityIsANewProcess) {
  Harness h(run_config("A"));
  ASSERT_TRUE(h.app->open(spec("verse", 1, 1, 30, 10)).ok());
  h.start();
  h.open_room();
  h.advance(Ms(300));
  h.feed(h.engine.on_app_identity("app-1", h.now));
  h.advance(Ms(300));
  EXPECT_EQ(h.engine.stats().app_restarts, 0u);
  h.feed(h.engine.on_app_identity("app-2", h.now));
  h.advance(Ms(300));
  EXPECT_EQ(h.engine.stats().app_restarts, 1u);
  EXPECT_TRUE(std::any_of(h.logs.begin(), h.logs.end(), [](const std::string& l) {
    return l.find("identity changed") != std::string::npos;
  }));
}
