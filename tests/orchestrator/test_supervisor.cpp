// The supervisor state machine (orchestrator/core/supervisor.hpp), driven by
// hand on virtual time: the lifecycle rules of shared/spec/rooms.md.
#include <map>

#include <gtest/gtest.h>

#include "orchestrator/core/supervisor.hpp"
#include "protocol/ipc.hpp"

using namespace wibwob::orchestrator;
using namespace std::chrono_literals;
namespace ipc = wibwob::protocol::ipc;

namespace {

Room room(std::string id, int inst, bool mp) {
  Room r;
  r.source = id + ".md";
  r.room_id = id;
  r.display_name = id;
  r.instance_id = inst;
  r.ttyd_port = 7680 + inst;
  r.multiplayer = mp;
  if (mp) {
    r.partykit_room = "pk";
    r.partykit_server = "http://127.0.0.1:1999";
  }
  return r;
}

Plan plan() {
  PlanOptions o;
  o.socket_dir = "/sockets";
  o.app_command = *parse_command_template("app {instance_id}");
  o.bridge_command = *parse_command_template("bridge");
  return make_plan({room("shared", 2, true), room("solo", 3, false)}, o);
}

SupervisorConfig exact_config() {
  SupervisorConfig c;
  c.app_backoff.jitter = 0.0;
  c.bridge_backoff.jitter = 0.0;
  return c;
}

template <class T>
std::vector<T> all(const Effects& es) {
  std::vector<T> out;
  for (const auto& e : es)
    if (auto* p = std::get_if<T>(&e)) out.push_back(*p);
  return out;
}

std::vector<effect::Start> starts(const Effects& es, Role role) {
  std::vector<effect::Start> out;
  for (auto& s : all<effect::Start>(es))
    if (s.role == role) out.push_back(s);
  return out;
}

std::string env(const Launch& l, const std::string& k) {
  for (const auto& [key, v] : l.set)
    if (key == k) return v;
  return "<unset>";
}

const std::string kState = R"({"windows":[],"chat_log":[]})";

// Runs a Supervisor and remembers everything it asked for.
struct Harness {
  int next_secret = 0;
  Supervisor sup{plan(), exact_config(), [this] { return "secret-" + std::to_string(++next_secret); }};
  Effects log;  // every effect so far

  explicit Harness(SupervisorConfig c = exact_config())
      : sup(plan(), c, [this] { return "secret-" + std::to_string(++next_secret); }) {}

  Effects take(Effects es) {
    log.insert(log.end(), es.begin(), es.end());
    return es;
  }
  std::map<std::size_t, std::uint64_t> pending;  // probes asked for, not yet answered
  Effects timer(Ms now) {
    auto es = take(sup.on_timer(now));
    for (auto& p : all<effect::Probe>(es)) pending[p.room] = p.id;
    return es;
  }
  // Runs the timer at `now` (when room i's probe is due) and answers room i's
  // probe with `reply`.
  Effects probe(std::size_t i, Ms now, ProbeReply reply) {
    auto es = timer(now);
    auto it = pending.find(i);
    if (it == pending.end()) {
      ADD_FAILURE() << "no probe for room " << i << " at " << now.count();
      return es;
    }
    const auto id = it->second;
    pending.erase(it);
    auto more = take(sup.on_probe_result(i, id, reply, now));
    es.insert(es.end(), more.begin(), more.end());
    return es;
  }
  // Starts both apps (pids 100, 101) and makes both healthy; the bridge gets pid 200.
  void bring_up() {
    auto es = take(sup.start(0ms));
    ASSERT_EQ(starts(es, Role::app).size(), 2u);
    take(sup.on_started(0, Role::app, 100, 0ms));
    take(sup.on_started(1, Role::app, 101, 0ms));
    auto up0 = probe(0, 50ms, {true, kState});
    ASSERT_EQ(starts(up0, Role::bridge).size(), 1u);
    take(sup.on_started(0, Role::bridge, 200, 50ms));
    auto up1 = probe(1, 50ms, {true, kState});
    ASSERT_TRUE(starts(up1, Role::bridge).empty());
  }
};

}  // namespace

TEST(OrchSupervisor, ProbeVerdicts) {
  EXPECT_EQ(probe_problem({true, kState}), std::nullopt);
  const std::string challenge = ipc::format_challenge("0123456789abcdef0123456789abcdef");
  auto p = probe_problem({true, challenge.substr(0, challenge.size() - 1)});
  ASSERT_TRUE(p);
  EXPECT_NE(p->find("challenge"), std::string::npos) << *p;
  EXPECT_TRUE(probe_problem({true, R"({"error":"auth_failed"})"}));
  EXPECT_TRUE(probe_problem({true, "ok"}));
  EXPECT_TRUE(probe_problem({true, "err unknown cmd"}));
  EXPECT_TRUE(probe_problem({true, R"({"windows":[{"id":"w1","title":"a)" "\x01" R"("}]})"}));
  EXPECT_TRUE(probe_problem({true, ""}));
  EXPECT_EQ(*probe_problem({false, "connection refused"}), "connection refused");
}

TEST(OrchSupervisor, AppsStartFirstAndTheBridgeWaitsForAnAuthenticatedProbe) {
  Harness h;
  auto es = h.take(h.sup.start(0ms));
  auto apps = starts(es, Role::app);
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_TRUE(starts(es, Role::bridge).empty());
  EXPECT_EQ(env(apps[0].launch, "WIBWOB_AUTH_SECRET"), "secret-1");
  EXPECT_EQ(env(apps[1].launch, "WIBWOB_AUTH_SECRET"), "secret-2");
  EXPECT_EQ(apps[0].launch.argv, (std::vector<std::string>{"app", "2"}));
  h.take(h.sup.on_started(0, Role::app, 100, 0ms));
  h.take(h.sup.on_started(1, Role::app, 101, 0ms));

  // Nothing before the first probe is due.
  EXPECT_TRUE(all<effect::Probe>(h.take(h.sup.on_timer(10ms))).empty());
  // The probe carries the app's secret and socket.
  auto t = h.timer(50ms);
  auto probes = all<effect::Probe>(t);
  ASSERT_EQ(probes.size(), 2u);
  EXPECT_EQ(probes[0].secret, "secret-1");
  EXPECT_EQ(probes[0].socket_path, "/sockets/wibwob_2.sock");
  // The socket is not there yet, then only the challenge, then auth refused: no bridge.
  h.pending.erase(0);
  EXPECT_TRUE(starts(h.take(h.sup.on_probe_result(0, probes[0].id, {false, "no such file"}, 60ms)), Role::bridge).empty());
  const std::string challenge = ipc::format_challenge("0123456789abcdef0123456789abcdef");
  auto es2 = h.probe(0, 310ms, {true, challenge});
  EXPECT_TRUE(starts(es2, Role::bridge).empty());
  EXPECT_FALSE(h.sup.view(0).healthy);
  EXPECT_TRUE(starts(h.probe(0, 560ms, {true, R"({"error":"auth_failed"})"}), Role::bridge).empty());
  EXPECT_TRUE(starts(h.probe(0, 810ms, {true, "err unknown cmd"}), Role::bridge).empty());
  // A stale probe id is ignored.
  EXPECT_TRUE(h.take(h.sup.on_probe_result(0, 999, {true, kState}, 820ms)).empty());
  EXPECT_FALSE(h.sup.view(0).healthy);

  // A real get_state reply: healthy, and the bridge starts with the contract's env.
  auto es3 = h.probe(0, 1060ms, {true, kState});
  auto bridges = starts(es3, Role::bridge);
  ASSERT_EQ(bridges.size(), 1u);
  EXPECT_EQ(bridges[0].room, 0u);
  EXPECT_EQ(env(bridges[0].launch, "WIBWOB_INSTANCE"), "2");
  EXPECT_EQ(env(bridges[0].launch, "WIBWOB_AUTH_SECRET"), "secret-1");
  EXPECT_EQ(env(bridges[0].launch, "WIBWOB_PARTYKIT_URL"), "http://127.0.0.1:1999");
  EXPECT_EQ(env(bridges[0].launch, "WIBWOB_PARTYKIT_ROOM"), "pk");
  // The single-player room never gets one.
  auto es4 = h.probe(1, 1060ms, {true, kState});
  EXPECT_TRUE(h.sup.view(1).healthy);
  EXPECT_TRUE(starts(es4, Role::bridge).empty());
  for (Ms t2 = 1100ms; t2 < 60s; t2 += 1s) EXPECT_TRUE(starts(h.take(h.sup.on_timer(t2)), Role::bridge).empty());
  for (const auto& s : all<effect::Start>(h.log)) EXPECT_FALSE(s.room == 1 && s.role == Role::bridge);
}

TEST(OrchSupervisor, DeadBridgeRestartsWithGrowingBackoffAndTheAppIsLeftAlone) {
  Harness h;
  h.bring_up();
  const auto cfg = exact_config().bridge_backoff;
  Ms now = 100ms;
  int pid = 200;
  std::vector<Ms> delays;
  for (int i = 0; i < 6; ++i) {
    auto es = h.take(h.sup.on_exited(pid, "exit 1", now));
    ASSERT_TRUE(all<effect::Start>(es).empty()) << "restarted without waiting";
    const auto at = h.sup.view(0).bridge.restart_at;
    ASSERT_TRUE(at);
    delays.push_back(*at - now);
    ASSERT_EQ(all<effect::WakeAt>(es).back().at, *at);
    // Not a moment early.
    EXPECT_TRUE(starts(h.take(h.sup.on_timer(*at - 1ms)), Role::bridge).empty());
    auto again = starts(h.take(h.sup.on_timer(*at)), Role::bridge);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(env(again[0].launch, "WIBWOB_AUTH_SECRET"), "secret-1");  // same app, same secret
    now = *at + 10ms;
    h.take(h.sup.on_started(0, Role::bridge, ++pid, *at));
  }
  EXPECT_EQ(delays[0], cfg.first);
  for (std::size_t i = 1; i < delays.size(); ++i) EXPECT_EQ(delays[i], std::min(cfg.cap, delays[i - 1] * 2));
  // The app was never signalled nor restarted.
  EXPECT_EQ(h.sup.view(0).app.starts, 1u);
  EXPECT_EQ(h.sup.view(0).app.pid, 100);
  for (const auto& s : all<effect::Signal>(h.log)) EXPECT_NE(s.role, Role::app);
  EXPECT_EQ(starts(h.log, Role::app).size(), 2u);

  // Up for longer than stable_after: the next failure starts from the first delay.
  now += cfg.stable_after;
  h.take(h.sup.on_exited(pid, "signal 9", now));
  EXPECT_EQ(*h.sup.view(0).bridge.restart_at - now, cfg.first);
  EXPECT_EQ(h.sup.view(0).bridge.attempt, 1u);
}

TEST(OrchSupervisor, StopEndsBridgesFirstThenAppsAndRestartsNothing) {
  Harness h;
  h.bring_up();
  // A bridge death just before the stop leaves a restart pending.
  h.take(h.sup.on_exited(200, "exit 1", 1000ms));
  h.take(h.sup.on_timer(*h.sup.view(0).bridge.restart_at));
  h.take(h.sup.on_started(0, Role::bridge, 201, 1500ms));
  const std::size_t before = h.log.size();

  auto es = h.take(h.sup.request_stop(2000ms));
  auto sigs = all<effect::Signal>(es);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].role, Role::bridge);
  EXPECT_EQ(sigs[0].pid, 201);
  EXPECT_EQ(sigs[0].sig, Sig::term);
  // Apps are untouched while a bridge lives, however much time passes before the grace.
  EXPECT_TRUE(all<effect::Signal>(h.take(h.sup.on_timer(3000ms))).empty());
  // An app that dies during the stop is not restarted.
  auto died = h.take(h.sup.on_exited(101, "exit 3", 3500ms));
  EXPECT_TRUE(all<effect::Start>(died).empty());
  // The bridge exits: now the remaining app gets SIGTERM.
  auto es2 = h.take(h.sup.on_exited(201, "signal 15", 4000ms));
  auto sigs2 = all<effect::Signal>(es2);
  ASSERT_EQ(sigs2.size(), 1u);
  EXPECT_EQ(sigs2[0].role, Role::app);
  EXPECT_EQ(sigs2[0].pid, 100);
  EXPECT_EQ(sigs2[0].sig, Sig::term);
  EXPECT_TRUE(all<effect::Finished>(es2).empty());
  // Timers far in the future start nothing.
  EXPECT_TRUE(all<effect::Start>(h.take(h.sup.on_timer(4100ms))).empty());
  auto es3 = h.take(h.sup.on_exited(100, "exit 0", 4200ms));
  EXPECT_EQ(all<effect::Finished>(es3).size(), 1u);
  EXPECT_TRUE(h.sup.finished());
  for (std::size_t i = before; i < h.log.size(); ++i) EXPECT_FALSE(std::holds_alternative<effect::Start>(h.log[i]));
  for (std::size_t i = before; i < h.log.size(); ++i) EXPECT_FALSE(std::holds_alternative<effect::Probe>(h.log[i]));
}

TEST(OrchSupervisor, StopEscalatesToSigkillAfterTheGrace) {
  Harness h;
  h.bring_up();
  const Ms grace = exact_config().stop_grace;
  auto es = h.take(h.sup.request_stop(1000ms));
  EXPECT_EQ(all<effect::WakeAt>(es).back().at, 1000ms + grace);
  EXPECT_TRUE(all<effect::Signal>(h.take(h.sup.on_timer(1000ms + grace - 1ms))).empty());
  auto kill = all<effect::Signal>(h.take(h.sup.on_timer(1000ms + grace)));
  ASSERT_EQ(kill.size(), 1u);
  EXPECT_EQ(kill[0].pid, 200);
  EXPECT_EQ(kill[0].sig, Sig::kill);
  auto apps = all<effect::Signal>(h.take(h.sup.on_exited(200, "signal 9", 1000ms + grace + 5ms)));
  ASSERT_EQ(apps.size(), 2u);
  for (auto& s : apps) EXPECT_EQ(s.sig, Sig::term);
  // Apps that ignore SIGTERM are killed too.
  auto kill2 = all<effect::Signal>(h.take(h.sup.on_timer(1000ms + 2 * grace + 5ms)));
  EXPECT_EQ(kill2.size(), 2u);
  for (auto& s : kill2) EXPECT_EQ(s.sig, Sig::kill);
}

TEST(OrchSupervisor, SecondStopKillsEverything) {
  Harness h;
  h.bring_up();
  h.take(h.sup.request_stop(1000ms));
  auto es = all<effect::Signal>(h.take(h.sup.request_stop(1100ms)));
  ASSERT_EQ(es.size(), 3u);
  for (auto& s : es) EXPECT_EQ(s.sig, Sig::kill);
}

TEST(OrchSupervisor, StopBeforeAnythingIsHealthyFinishes) {
  Harness h;
  h.take(h.sup.start(0ms));
  h.take(h.sup.on_started(0, Role::app, 100, 0ms));
  h.take(h.sup.on_start_failed(1, Role::app, "no such file", 0ms));
  auto es = h.take(h.sup.request_stop(10ms));
  auto sigs = all<effect::Signal>(es);
  ASSERT_EQ(sigs.size(), 1u);  // no bridge: straight to the one running app
  EXPECT_EQ(sigs[0].pid, 100);
  EXPECT_EQ(all<effect::Finished>(h.take(h.sup.on_exited(100, "exit 0", 20ms))).size(), 1u);
  EXPECT_TRUE(all<effect::Start>(h.take(h.sup.on_timer(100s))).empty());
}

TEST(OrchSupervisor, AFailingAppBacksOffForeverWithoutARetryLimit) {
  Harness h;
  h.take(h.sup.start(0ms));
  h.take(h.sup.on_started(1, Role::app, 101, 0ms));
  const auto cfg = exact_config().app_backoff;
  Ms now = 0ms;
  Ms last{0};
  for (int i = 1; i <= 200; ++i) {
    h.take(h.sup.on_start_failed(0, Role::app, "exec failed", now));
    const Ms delay = *h.sup.view(0).app.restart_at - now;
    EXPECT_GE(delay, last);
    EXPECT_LE(delay, cfg.cap);
    last = delay;
    now += delay;
    auto es = h.take(h.sup.on_timer(now));
    ASSERT_EQ(starts(es, Role::app).size(), 1u) << "gave up after " << i;
  }
  EXPECT_EQ(last, cfg.cap);
  // Each start had a fresh secret.
  auto apps = starts(h.log, Role::app);
  EXPECT_NE(env(apps[apps.size() - 1].launch, "WIBWOB_AUTH_SECRET"),
            env(apps[apps.size() - 2].launch, "WIBWOB_AUTH_SECRET"));
}

TEST(OrchSupervisor, AppExitRestartsItWithAFreshSecretAndRestartsTheBridgeAfter) {
  Harness h;
  h.bring_up();
  const std::uint32_t bridge_attempts = h.sup.view(0).bridge.attempt;
  auto es = h.take(h.sup.on_exited(100, "signal 9", 5000ms));
  // The bridge with the old secret is stopped; the app is scheduled.
  auto sigs = all<effect::Signal>(es);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].pid, 200);
  EXPECT_EQ(sigs[0].sig, Sig::term);
  const Ms at = *h.sup.view(0).app.restart_at;
  EXPECT_EQ(at - 5000ms, exact_config().app_backoff.first);
  auto es2 = h.take(h.sup.on_timer(at));
  auto apps = starts(es2, Role::app);
  ASSERT_EQ(apps.size(), 1u);
  const std::string fresh = env(apps[0].launch, "WIBWOB_AUTH_SECRET");
  EXPECT_NE(fresh, "secret-1");
  h.take(h.sup.on_started(0, Role::app, 110, at));
  // The old bridge exits (our SIGTERM: not a failure); the new app is not healthy yet: no bridge.
  EXPECT_TRUE(starts(h.take(h.sup.on_exited(200, "signal 15", at + 10ms)), Role::bridge).empty());
  EXPECT_EQ(h.sup.view(0).bridge.attempt, bridge_attempts);
  auto es3 = h.probe(0, at + 50ms, {true, kState});
  auto b = starts(es3, Role::bridge);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(env(b[0].launch, "WIBWOB_AUTH_SECRET"), fresh);
}

TEST(OrchSupervisor, AppThatNeverAnswersIsRestarted) {
  Harness h;
  h.take(h.sup.start(0ms));
  h.take(h.sup.on_started(0, Role::app, 100, 0ms));
  h.take(h.sup.on_started(1, Role::app, 101, 0ms));
  const Ms deadline = exact_config().app_ready_timeout;
  Ms now = 50ms;
  h.probe(1, now, {true, kState});
  while (now < deadline) {
    h.probe(0, now, {true, ipc::format_challenge("0123456789abcdef0123456789abcdef")});
    now += exact_config().probe_interval;
  }
  auto es = h.take(h.sup.on_timer(deadline));
  auto sigs = all<effect::Signal>(es);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].pid, 100);
  EXPECT_EQ(sigs[0].sig, Sig::term);
  h.take(h.sup.on_exited(100, "signal 15", deadline + 5ms));
  EXPECT_TRUE(h.sup.view(0).app.restart_at);
  EXPECT_EQ(h.sup.view(0).app.attempt, 1u);
  EXPECT_TRUE(starts(h.log, Role::bridge).empty());
}

TEST(OrchSupervisor, UnknownPidsAndLateReportsAreHarmless) {
  Harness h;
  h.bring_up();
  EXPECT_TRUE(all<effect::Start>(h.take(h.sup.on_exited(4242, "exit 0", 100ms))).empty());
  EXPECT_TRUE(h.take(h.sup.on_probe_result(7, 1, {true, kState}, 100ms)).empty());
  EXPECT_TRUE(h.take(h.sup.on_started(9, Role::app, 5, 100ms)).empty());
  EXPECT_EQ(h.sup.view(0).bridge.pid, 200);
}
