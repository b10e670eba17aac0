// PartyCore (mockparty/core): every sequence of spec/partykit-room.md, each
// defect option, and bad input, on the pure core (no sockets, no clock).
#include "mockparty/core/party_core.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace wibwob::mockparty {
namespace {

constexpr std::int64_t now = 1700000000123;

// Frames sent to one socket, parsed.
std::vector<Json> sent_to(const Effects& effects, SocketId s) {
  std::vector<Json> out;
  for (const auto& e : effects)
    if (const auto* send = std::get_if<Send>(&e); send && send->to == s) out.push_back(Json::parse(send->text));
  return out;
}

std::size_t count_sends(const Effects& effects) {
  std::size_t n = 0;
  for (const auto& e : effects) n += std::holds_alternative<Send>(e) ? 1 : 0;
  return n;
}

template <class T>
std::vector<T> all_of_kind(const Effects& effects) {
  std::vector<T> out;
  for (const auto& e : effects)
    if (const auto* t = std::get_if<T>(&e)) out.push_back(*t);
  return out;
}

const Json add_x = Json::parse(R"({"add":[{"id":"x","type":"verse","x":1,"y":2,"w":30,"h":10}]})");

std::string delta_msg(const Json& delta) { return Json{{"type", "state_delta"}, {"delta", delta}}.dump(); }

TEST(PartyCore, JoinerGetsStateSyncThenPresenceSyncOthersGetJoin) {
  PartyCore core;
  auto a = core.on_open(1, "lobby", "c1");
  auto to_a = sent_to(a, 1);
  ASSERT_EQ(to_a.size(), 2u);
  EXPECT_EQ(to_a[0], Json::parse(R"({"type":"state_sync","state":{"windows":{},"version":0},"room":"lobby"})"));
  EXPECT_EQ(to_a[1],
            Json::parse(R"({"type":"presence","event":"sync","connections":["c1"],"count":1,"self":"c1"})"));
  EXPECT_EQ(count_sends(a), 2u);

  auto b = core.on_open(2, "lobby", "c2");
  auto to_b = sent_to(b, 2);
  ASSERT_EQ(to_b.size(), 2u);
  EXPECT_EQ(to_b[0]["type"], "state_sync");
  EXPECT_EQ(to_b[1],
            Json::parse(R"({"type":"presence","event":"sync","connections":["c1","c2"],"count":2,"self":"c2"})"));
  auto to_a2 = sent_to(b, 1);
  ASSERT_EQ(to_a2.size(), 1u);
  EXPECT_EQ(to_a2[0], Json::parse(R"({"type":"presence","event":"join","id":"c2","count":2})"));
}

TEST(PartyCore, StateDeltaIsAppliedVersionedAndBroadcastToOthersOnly) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  (void)core.on_open(3, "r", "c3");
  auto e = core.on_text(1, delta_msg(add_x), now);
  EXPECT_TRUE(sent_to(e, 1).empty());  // no ack to the sender
  for (SocketId s : {2, 3}) {
    auto got = sent_to(e, s);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], (Json{{"type", "state_delta"}, {"delta", add_x}, {"version", 1}, {"from", "c1"}}));
  }
  ASSERT_EQ(core.state("r")->version, 1);
  EXPECT_EQ(core.state("r")->windows.at("x")["w"], 30);
  auto persisted = all_of_kind<Persist>(e);
  ASSERT_EQ(persisted.size(), 1u);
  EXPECT_EQ(Json::parse(persisted[0].state_json), core.state("r")->to_json());

  // The next delta is version 2, and a later joiner's state_sync carries it.
  auto e2 = core.on_text(2, delta_msg(Json::parse(R"({"update":[{"id":"x","x":9}]})")), now);
  EXPECT_EQ(sent_to(e2, 1).at(0)["version"], 2);
  EXPECT_EQ(sent_to(e2, 1).at(0)["from"], "c2");
  auto j = core.on_open(4, "r", "c4");
  auto sync = sent_to(j, 4).at(0);
  EXPECT_EQ(sync["state"]["version"], 2);
  EXPECT_EQ(sync["state"]["windows"]["x"]["x"], 9);
  EXPECT_EQ(sync["state"]["windows"]["x"]["w"], 30);  // shallow merge kept the rest
}

TEST(PartyCore, DeltaWithoutDeltaChangesNothing) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  for (const char* m : {R"({"type":"state_delta"})", R"({"type":"state_delta","delta":null})"}) {
    auto e = core.on_text(1, m, now);
    EXPECT_EQ(count_sends(e), 0u) << m;
    EXPECT_TRUE(all_of_kind<Persist>(e).empty());
    EXPECT_EQ(core.state("r")->version, 0);
    EXPECT_EQ(core.socket(1)->room, "r");  // connection kept
  }
}

TEST(PartyCore, NullInAddChangesMemoryButNothingIsSavedOrBroadcast) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto e = core.on_text(
      1, delta_msg(Json::parse(R"({"add":[{"id":"a","type":"verse","x":0,"y":0,"w":1,"h":1},null]})")), now);
  EXPECT_EQ(count_sends(e), 0u);
  EXPECT_TRUE(all_of_kind<Persist>(e).empty());
  EXPECT_EQ(core.state("r")->version, 0);
  EXPECT_EQ(core.state("r")->windows.count("a"), 1u);  // memory changed half-way
  // The next accepted delta is version 1: the failed one took no version.
  auto next = core.on_text(1, delta_msg(add_x), now);
  EXPECT_EQ(sent_to(next, 2).at(0)["version"], 1);
}

TEST(PartyCore, ProtoIdsAreOrdinaryKeys) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto e = core.on_text(
      1, delta_msg(Json::parse(R"({"add":[{"id":"__proto__","type":"verse","x":0,"y":0,"w":1,"h":1}]})")), now);
  ASSERT_EQ(sent_to(e, 2).size(), 1u);
  EXPECT_EQ(core.state("r")->version, 1);
  EXPECT_EQ(core.state("r")->windows.count("__proto__"), 1u);
}

TEST(PartyCore, ChatCursorRenameAreRelayedWithFrom) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto chat = core.on_text(1, R"({"type":"chat_msg","sender":"ann","text":"hi","extra":true})", now);
  EXPECT_TRUE(sent_to(chat, 1).empty());
  EXPECT_EQ(sent_to(chat, 2).at(0),
            Json::parse(R"({"type":"chat_msg","sender":"ann","text":"hi","extra":true,"ts":1700000000123,"from":"c1"})"));
  auto chat_ts = core.on_text(1, R"({"type":"chat_msg","sender":"ann","text":"hi","ts":5})", now);
  EXPECT_EQ(sent_to(chat_ts, 2).at(0)["ts"], 5);  // kept when present
  auto cur = core.on_text(2, R"({"type":"cursor_pos","sender":"bob","x":3,"y":4})", now);
  EXPECT_EQ(sent_to(cur, 1).at(0), Json::parse(R"({"type":"cursor_pos","sender":"bob","x":3,"y":4,"from":"c2"})"));
  auto ren = core.on_text(2, R"({"type":"rename","conn_id":"c2","name":"Bob"})", now);
  EXPECT_EQ(sent_to(ren, 1).at(0), Json::parse(R"({"type":"rename","conn_id":"c2","name":"Bob","from":"c2"})"));
  EXPECT_TRUE(sent_to(ren, 2).empty());
}

TEST(PartyCore, PingGetsPongToSenderOnly) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto e = core.on_text(1, R"({"type":"ping"})", now);
  ASSERT_EQ(count_sends(e), 1u);
  EXPECT_EQ(sent_to(e, 1).at(0), (Json{{"type", "pong"}, {"ts", now}}));
}

TEST(PartyCore, BadInputIsIgnoredAndTheConnectionKept) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  const std::vector<std::string> bad = {
      "", "not json", "{\"type\":", "[1,2]", "42", R"({"notype":1})", R"({"type":7})", R"({"type":"whatever"})",
      R"({"type":"state_sync","state":{}})", R"({"type":"presence","event":"join"})", "{\"type\":\"ping\"}\xff",
      std::string(10000, '[') + std::string(10000, ']'), std::string("{\"type\":\"ping\"}\0x", 17)};
  for (const auto& m : bad) {
    auto e = core.on_text(1, m, now);
    EXPECT_EQ(count_sends(e), 0u) << m;
    EXPECT_TRUE(all_of_kind<Close>(e).empty()) << m;
    EXPECT_EQ(all_of_kind<Log>(e).size(), 1u) << m;  // logged once
  }
  auto bin = core.on_binary(1, 100);
  EXPECT_EQ(count_sends(bin), 0u);
  EXPECT_TRUE(all_of_kind<Close>(bin).empty());
  EXPECT_EQ(core.stats().ignored, bad.size() + 1);
  EXPECT_EQ(core.state("r")->version, 0);
  // Still connected and served.
  EXPECT_EQ(sent_to(core.on_text(1, R"({"type":"ping"})", now), 1).size(), 1u);
}

TEST(PartyCore, OversizedFrameClosesWith1009) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  const std::string big = R"({"type":"chat_msg","sender":"a","text":")" + std::string(protocol::max_frame_bytes, 'x') + "\"}";
  auto e = core.on_text(1, big, now);
  auto closes = all_of_kind<Close>(e);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].to, 1u);
  EXPECT_EQ(closes[0].code, 1009);
  EXPECT_EQ(count_sends(e), 0u);
  // Exactly at the limit is fine.
  std::string at = R"({"type":"chat_msg","sender":"a","text":")";
  at += std::string(protocol::max_frame_bytes - at.size() - 2, 'x') + "\"}";
  ASSERT_EQ(at.size(), protocol::max_frame_bytes);
  EXPECT_TRUE(all_of_kind<Close>(core.on_text(1, at, now)).empty());
}

TEST(PartyCore, LeaveCountIsOneTooLowByDefault) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  (void)core.on_open(3, "r", "c3");
  auto e = core.on_close(3);
  for (SocketId s : {1, 2})
    EXPECT_EQ(sent_to(e, s).at(0), Json::parse(R"({"type":"presence","event":"leave","id":"c3","count":1})"));
  EXPECT_TRUE(sent_to(e, 3).empty());
  EXPECT_EQ(core.socket(3), nullptr);
  // The spec's example: c2 leaves a room of two, c1 hears count 0.
  auto e2 = core.on_close(2);
  EXPECT_EQ(sent_to(e2, 1).at(0)["count"], 0);
  EXPECT_TRUE(core.on_close(2).empty());  // idempotent
}

TEST(PartyCore, LeaveCountIsExactWithTheDefectOff) {
  Options o;
  o.defects.leave_count_off_by_one = false;
  PartyCore core(o);
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  EXPECT_EQ(sent_to(core.on_close(2), 1).at(0)["count"], 1);
}

TEST(PartyCore, DuplicatePkMakesAGhostThatGetsNoBroadcasts) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto g = core.on_open(3, "r", "c1");  // reconnect reusing _pk while 1 is open
  ASSERT_TRUE(core.socket(3)->ghost);
  auto to_ghost = sent_to(g, 3);
  ASSERT_EQ(to_ghost.size(), 2u);  // it still gets state_sync and presence sync
  EXPECT_EQ(to_ghost[0]["type"], "state_sync");
  EXPECT_EQ(to_ghost[1]["self"], "c1");

  auto d = core.on_text(2, delta_msg(add_x), now);
  EXPECT_EQ(sent_to(d, 1).size(), 1u);
  EXPECT_TRUE(sent_to(d, 3).empty());  // the ghost

  // Its own messages are handled (from its id) and it gets direct replies.
  auto gd = core.on_text(3, delta_msg(Json::parse(R"({"remove":["x"]})")), now);
  EXPECT_EQ(sent_to(gd, 2).at(0)["from"], "c1");
  EXPECT_EQ(sent_to(gd, 2).at(0)["version"], 2);
  EXPECT_EQ(sent_to(core.on_text(3, R"({"type":"ping"})", now), 3).size(), 1u);

  // Still a ghost after the old socket is gone.
  (void)core.on_close(1);
  auto d2 = core.on_text(2, delta_msg(add_x), now);
  EXPECT_TRUE(sent_to(d2, 3).empty());
}

TEST(PartyCore, DuplicatePkWithTheDefectOffIsAnOrdinaryConnection) {
  Options o;
  o.defects.duplicate_pk_ghost = false;
  PartyCore core(o);
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  (void)core.on_open(3, "r", "c1");
  EXPECT_FALSE(core.socket(3)->ghost);
  auto d = core.on_text(2, delta_msg(add_x), now);
  EXPECT_EQ(sent_to(d, 1).size(), 1u);
  EXPECT_EQ(sent_to(d, 3).size(), 1u);
  auto d3 = core.on_text(3, delta_msg(add_x), now);  // only the sending socket is skipped
  EXPECT_EQ(sent_to(d3, 1).size(), 1u);
  EXPECT_TRUE(sent_to(d3, 3).empty());
}

Json big_window(const std::string& id, std::size_t bytes) {
  return Json{{"id", id}, {"type", "verse"}, {"x", 0}, {"y", 0}, {"w", 1}, {"h", 1}, {"pad", std::string(bytes, 'p')}};
}

TEST(PartyCore, StateOverTheLimitChangesMemoryButIsNotSavedOrBroadcast) {
  PartyCore core;  // the real 128 KiB limit
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto small = core.on_text(1, delta_msg(Json{{"add", {big_window("a", 1000)}}}), now);
  EXPECT_EQ(sent_to(small, 2).at(0)["version"], 1);

  auto over = core.on_text(1, delta_msg(Json{{"add", {big_window("b", protocol::max_state_bytes)}}}), now);
  EXPECT_EQ(count_sends(over), 0u);
  EXPECT_TRUE(all_of_kind<Persist>(over).empty());
  EXPECT_EQ(core.state("r")->version, 2);           // memory moved on...
  EXPECT_EQ(core.state("r")->windows.count("b"), 1u);
  EXPECT_EQ(core.stats().over_limit, 1u);

  // ...so once the state fits again, peers see a version gap they did not cause.
  auto back = core.on_text(1, delta_msg(Json::parse(R"({"remove":["b"]})")), now);
  EXPECT_EQ(sent_to(back, 2).at(0)["version"], 3);
  EXPECT_EQ(all_of_kind<Persist>(back).size(), 1u);
}

TEST(PartyCore, StateLimitOffSavesAndBroadcastsEverything) {
  Options o;
  o.defects.state_limit_silent = false;
  PartyCore core(o);
  (void)core.on_open(1, "r", "c1");
  (void)core.on_open(2, "r", "c2");
  auto over = core.on_text(1, delta_msg(Json{{"add", {big_window("b", protocol::max_state_bytes)}}}), now);
  EXPECT_EQ(sent_to(over, 2).at(0)["version"], 1);
  EXPECT_EQ(all_of_kind<Persist>(over).size(), 1u);
}

TEST(PartyCore, RoomsAreIsolated) {
  PartyCore core;
  (void)core.on_open(1, "a", "c1");
  (void)core.on_open(2, "b", "c2");
  auto e = core.on_text(1, delta_msg(add_x), now);
  EXPECT_EQ(count_sends(e), 0u);
  EXPECT_EQ(core.state("a")->version, 1);
  EXPECT_EQ(core.state("b")->version, 0);
  EXPECT_EQ(sent_to(core.on_open(3, "b", "c3"), 2).at(0)["count"], 2);
}

TEST(PartyCore, LoadedStateIsWhatAJoinerGets) {
  PartyCore core;
  protocol::RoomState st;
  st.version = 41;
  st.windows["old"] = Json::parse(R"({"id":"old","type":"verse","x":1,"y":1,"w":2,"h":2})");
  ASSERT_TRUE(core.load_room("r", st));
  EXPECT_FALSE(core.load_room("r", st));  // only before the room exists
  auto e = core.on_open(1, "r", "c1");
  EXPECT_EQ(sent_to(e, 1).at(0)["state"], st.to_json());
  (void)core.on_open(2, "r", "c2");
  EXPECT_EQ(sent_to(core.on_text(1, delta_msg(add_x), now), 2).at(0)["version"], 42);
}

TEST(PartyCore, DropRoomClosesEverySocketOfThatRoom) {
  PartyCore core;
  (void)core.on_open(1, "a", "c1");
  (void)core.on_open(2, "a", "c2");
  (void)core.on_open(3, "b", "c3");
  auto closes = all_of_kind<Close>(core.drop_room("a", 1012));
  ASSERT_EQ(closes.size(), 2u);
  EXPECT_EQ(closes[0].to, 1u);
  EXPECT_EQ(closes[1].to, 2u);
  EXPECT_EQ(closes[0].code, 1012);
  EXPECT_TRUE(core.drop_room("nope").empty());
}

TEST(PartyCore, IncomingMessagesAreLoggedWithVersion) {
  PartyCore core;
  (void)core.on_open(1, "r", "c1");
  auto logs = all_of_kind<Log>(core.on_text(1, delta_msg(add_x), now));
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs[0], (Log{"r", "c1", "in", "state_delta", 1, ""}));
}

// Any interleaving of deltas from any members: the server sequences them,
// every other member receives each exactly once in version order, the
// sender receives none of its own, and the state is the sequential apply.
RC_GTEST_PROP(PartyCoreProperty, DeltasAreSequencedAndFannedOutInOrder, ()) {
  const auto members = *rc::gen::inRange<SocketId>(1, 6);
  const auto senders = *rc::gen::container<std::vector<SocketId>>(rc::gen::inRange<SocketId>(1, members + 1));
  PartyCore core;
  for (SocketId s = 1; s <= members; ++s) (void)core.on_open(s, "r", "c" + std::to_string(s));
  std::map<SocketId, std::vector<std::int64_t>> seen;
  protocol::RoomState model;
  for (std::size_t i = 0; i < senders.size(); ++i) {
    const Json delta = {{"add", {{{"id", "w" + std::to_string(i % 4)}, {"n", i}}}}, {"remove", {"w" + std::to_string(i % 3)}}};
    RC_ASSERT(protocol::apply_room_delta(model, &delta) == protocol::ApplyOutcome::applied);
    auto e = core.on_text(senders[i], delta_msg(delta), now);
    for (const auto& eff : e) {
      if (const auto* send = std::get_if<Send>(&eff)) {
        RC_ASSERT(send->to != senders[i]);
        auto j = Json::parse(send->text);
        RC_ASSERT(j["delta"] == delta);
        seen[send->to].push_back(j["version"].get<std::int64_t>());
      }
    }
  }
  RC_ASSERT(*core.state("r") == model);
  for (SocketId s = 1; s <= members; ++s) {
    std::vector<std::int64_t> expected;
    for (std::size_t i = 0; i < senders.size(); ++i)
      if (senders[i] != s) expected.push_back(static_cast<std::int64_t>(i) + 1);
    RC_ASSERT(seen[s] == expected);
  }
}

}  // namespace
}  // namespace wibwob::mockparty
