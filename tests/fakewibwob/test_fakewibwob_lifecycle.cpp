// Tests for the fake app core's lifecycle and bookkeeping: restart, layout
// files, the journal, the auth handshake, and a model-based property over
// random command sequences (with the id-reuse quirk on, as by default).
#include "fakewibwob/core/auth.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "tests/fakewibwob/fake_app_test_support.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

namespace fw = wibwob::fakewibwob;
namespace ipc = wibwob::protocol::ipc;
using fw::Millis;
using fw::test::send;
using fw::test::state_of;

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
