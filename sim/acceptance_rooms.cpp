// AC-3 on virtual time: two room files (one multiplayer, one single-player,
// in a random order) go through the orchestrator's pure core: parse, plan,
// supervisor. Processes start after a random delay, apps answer the health
// probe once they have booted (a random while), and the multiplayer room's
// bridge crashes at a random time. The scenario checks who got a bridge, with
// which environment, and that the crash restarted the bridge only.
#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include "fakewibwob/core/fake_app.hpp"
#include "orchestrator/core/plan.hpp"
#include "orchestrator/core/room_file.hpp"
#include "orchestrator/core/supervisor.hpp"
#include "sim/acceptance.hpp"

namespace wibwob::sim {

namespace {

namespace orch = wibwob::orchestrator;

const char* const kMultiplayerRoom =
    "---\nroom_id: shared\ninstance_id: 2\nttyd_port: 7682\nmultiplayer: true\npartykit_room: wibwob-shared\n"
    "partykit_server: https://rooms.example.partykit.dev\nmax_players: 3\n---\n# Shared\n";
const char* const kSinglePlayerRoom = "---\nroom_id: solo\ninstance_id: 3\nttyd_port: 7683\n---\n# Solo\n";

bool has_var(const orch::Launch& l, const std::string& name) {
  return std::any_of(l.set.begin(), l.set.end(), [&](const orch::EnvVar& v) { return v.first == name; });
}

class RoomsScenario {
 public:
  explicit RoomsScenario(std::uint64_t seed) : rng_(seed), seed_(seed) {}

  RoomsOutcome run() {
    auto plan = make_plan();
    if (!plan) return out_;
    sup_ = std::make_unique<orch::Supervisor>(std::move(*plan), supervisor_config(), [this] { return secret(); });
    handle(sup_->start(now_));
    const std::size_t mp = multiplayer_index();
    if (!run_until([&] { return sup_->view(mp).bridge.state == orch::ProcState::running; }, Ms(30000)))
      return failed("the multiplayer room's bridge never ran");
    run_for(uniform(200, 5000));  // the bridge runs a while, then crashes
    const int pid = sup_->view(mp).bridge.pid;
    const Ms crashed = now_;
    handle(sup_->on_exited(pid, "signal 9", now_));
    if (!run_until([&] { return sup_->view(mp).bridge.state == orch::ProcState::running; }, Ms(30000)))
      return failed("the crashed bridge was never restarted");
    out_.restart = now_ - crashed;
    run_for(Ms(2000));
    check_starts(mp);
    return out_;
  }

 private:
  std::optional<orch::Plan> make_plan() {
    std::vector<orch::Room> rooms;
    const bool mp_first = std::uniform_int_distribution<int>(0, 1)(rng_) == 1;
    for (const char* text : mp_first ? std::vector{kMultiplayerRoom, kSinglePlayerRoom}
                                     : std::vector{kSinglePlayerRoom, kMultiplayerRoom}) {
      auto parsed = orch::parse_room_file("rooms/room.md", text);
      if (!parsed.ok()) {
        failed("room file refused: " + (parsed.diagnostics.empty() ? "" : orch::format(parsed.diagnostics[0])));
        return std::nullopt;
      }
      rooms.push_back(*parsed.room);
    }
    orch::PlanOptions o;
    o.socket_dir = "sockets";
    o.app_command = *orch::parse_command_template("fakewibwob --socket {socket}");
    o.bridge_command = *orch::parse_command_template("wibwob-bridge");
    return orch::make_plan(std::move(rooms), std::move(o));
  }

  orch::SupervisorConfig supervisor_config() const {
    orch::SupervisorConfig c;
    c.seed = seed_;
    return c;
  }

  std::string secret() { return std::string(64, static_cast<char>('a' + (secrets_++ % 6))); }
  Ms uniform(std::int64_t lo, std::int64_t hi) { return Ms(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_)); }

  std::size_t multiplayer_index() const {
    for (std::size_t i = 0; i < sup_->plan().rooms.size(); ++i)
      if (sup_->plan().rooms[i].room.multiplayer) return i;
    return 0;
  }

  RoomsOutcome failed(std::string why) {
    if (out_.failure.empty()) out_.failure = std::move(why);
    return out_;
  }

  void handle(orch::Effects fx) {
    for (auto& e : fx) std::visit([&](auto&& ef) { effect(ef); }, e);
  }
  void effect(const orch::effect::Start& s) {
    starts_.push_back(s);
    const int pid = next_pid_++;
    if (s.role == orch::Role::app) ready_at_[s.room] = now_ + uniform(50, 800);
    at(now_ + uniform(1, 50), [this, s, pid] { handle(sup_->on_started(s.room, s.role, pid, now_)); });
  }
  void effect(const orch::effect::Probe& p) {
    at(now_ + uniform(1, 30), [this, p] {
      orch::ProbeReply r;
      r.delivered = now_ >= ready_at_[p.room];
      r.text = r.delivered ? fakewibwob::FakeApp().get_state_line() : "connection refused";
      handle(sup_->on_probe_result(p.room, p.id, r, now_));
    });
  }
  void effect(const orch::effect::WakeAt& w) {
    const auto token = ++wake_token_;
    at(w.at, [this, token] {
      if (token == wake_token_) handle(sup_->on_timer(now_));
    });
  }
  void effect(const orch::effect::Signal& s) {
    at(now_ + Ms(5), [this, s] { handle(sup_->on_exited(s.pid, "signal 15", now_)); });
  }
  template <class Other>
  void effect(const Other&) {}

  void at(Ms t, std::function<void()> fn) { queue_.emplace(std::make_pair(t, seq_++), std::move(fn)); }
  void step() {
    auto node = queue_.extract(queue_.begin());
    now_ = std::max(now_, node.key().first);
    node.mapped()();
  }
  bool run_until(const std::function<bool()>& done, Ms limit) {
    const Ms end = now_ + limit;
    while (!done()) {
      if (queue_.empty() || queue_.begin()->first.first > end) return false;
      step();
    }
    return true;
  }
  void run_for(Ms d) {
    const Ms end = now_ + d;
    while (!queue_.empty() && queue_.begin()->first.first <= end) step();
    now_ = end;
  }

  void check_starts(std::size_t mp) {
    int mp_apps = 0, bridges = 0;
    for (const auto& s : starts_) {
      const bool is_mp = s.room == mp;
      if (s.role == orch::Role::bridge) {
        ++bridges;
        if (!is_mp) return (void)failed("the single-player room got a bridge");
        if (!has_var(s.launch, orch::env_partykit_url) || !has_var(s.launch, orch::env_partykit_room) ||
            !has_var(s.launch, orch::env_secret))
          return (void)failed("the bridge was started without its PartyKit variables or secret");
      } else if (is_mp) {
        ++mp_apps;
      } else {
        if (has_var(s.launch, orch::env_partykit_url)) return (void)failed("the single-player app got PartyKit variables");
        out_.single_player_checked = true;
      }
    }
    if (mp_apps != 1) failed("the bridge crash restarted the app too (" + std::to_string(mp_apps) + " app starts)");
    if (bridges != 2) failed(std::to_string(bridges) + " bridge starts, expected the first and one restart");
  }

  std::mt19937_64 rng_;
  std::uint64_t seed_;
  std::unique_ptr<orch::Supervisor> sup_;
  std::map<std::pair<Ms, std::uint64_t>, std::function<void()>> queue_;
  std::uint64_t seq_ = 0;
  Ms now_{0};
  int next_pid_ = 1000;
  std::uint64_t wake_token_ = 0;
  int secrets_ = 0;
  std::map<std::size_t, Ms> ready_at_;
  std::vector<orch::effect::Start> starts_;
  RoomsOutcome out_;
};

}  // namespace

RoomsOutcome run_rooms_scenario(std::uint64_t seed) { return RoomsScenario(seed).run(); }

}  // namespace wibwob::sim
