#include "sim/simulator.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "bridge/core/sync_engine.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "protocol/ipc.hpp"
#include "protocol/room_message.hpp"
#include "protocol/window.hpp"
#include "mockparty/core/party_core.hpp"

namespace wibwob::sim {

namespace {

using bridge::Effects;
using bridge::IpcFailure;
using bridge::IpcOutcome;
using protocol::Json;
namespace ipc = protocol::ipc;

// Types people open in the simulation: creatable ones with every creation
// rule (path, text, no id in the reply) plus an internal one.
const std::string kRoom = "sim-room";

const std::vector<std::string> kActionTypes = {"verse", "cube", "orbit", "life", "text_view",
                                               "figlet_text", "text_editor", "room_chat"};

class Simulation {
 public:
  Simulation(const SimConfig& c, const std::function<void(const std::string&)>& progress)
      : cfg_(c), progress_(progress), rng_(c.seed) {
    report_.seed = c.seed;
    for (int i = 0; i < c.instances; ++i) {
      auto inst = std::make_unique<Instance>();
      inst->index = i;
      inst->app = std::make_unique<fakewibwob::FakeApp>();
      instances_.push_back(std::move(inst));
    }
  }

  SimReport run() {
    for (auto& inst : instances_) start_bridge(*inst);
    // Active phase: people act, faults happen.
    schedule_poisson(Ms(0), cfg_.actions_per_second, [this] { act(); });
    if (cfg_.faults) schedule_poisson(Ms(0), cfg_.faults_per_second, [this] { fault(); });
    run_until(cfg_.active);
    say("active phase over at " + std::to_string(now_.count()) + " ms: " + std::to_string(report_.actions) +
        " actions, " + std::to_string(report_.faults) + " faults; settling");
    heal_all();
    // Settle: wait for quiescence, then check.
    const Ms deadline = cfg_.active + cfg_.settle_limit;
    while (now_ < deadline) {
      run_until(now_ + Ms(100));
      if (quiescent()) break;
    }
    report_.settled_after = now_ - cfg_.active;
    if (!quiescent()) {
      fail("not quiescent " + std::to_string(cfg_.settle_limit.count()) + " ms after the active phase: " + why_busy());
    } else {
      check_convergence();
      if (report_.converged) check_quiet();
    }
    for (auto& inst : instances_) {
      report_.deltas_sent += inst->engine->stats().deltas_sent + inst->retired_deltas;
      report_.ipc_commands += inst->engine->stats().ipc_commands + inst->retired_ipc;
    }
    report_.room_windows = room_state().windows.size();
    report_.trace_hash = hash_;
    return std::move(report_);
  }

 private:
  struct Instance {
    int index = 0;
    std::unique_ptr<fakewibwob::FakeApp> app;
    std::unique_ptr<bridge::SyncEngine> engine;
    std::uint64_t engine_gen = 0;  // a bridge restart makes old callbacks stale
    std::uint64_t app_gen = 0;     // an app restart makes in-flight IPC fail
    bool app_up = true;
    // room connection
    std::uint64_t conn_gen = 0;
    std::optional<std::string> conn;  // open connection id (_pk)
    mockparty::SocketId socket = 0;
    Ms up_free{0}, down_free{0};      // FIFO per direction
    std::optional<Ms> timer_at;
    std::uint64_t bridges_started = 0;
    std::uint64_t retired_deltas = 0, retired_ipc = 0;
    std::size_t inflight = 0;  // scheduled callbacks that concern this instance
  };

  // --- event queue ---------------------------------------------------------------

  void at(Ms t, std::function<void()> fn) { queue_.emplace(std::make_pair(std::max(t, now_), seq_++), std::move(fn)); }

  void run_until(Ms end) {
    while (!queue_.empty() && queue_.begin()->first.first <= end) {
      auto node = queue_.extract(queue_.begin());
      now_ = node.key().first;
      node.mapped()();
    }
    now_ = std::max(now_, end);
  }

  Ms uniform(Ms lo, Ms hi) { return Ms(std::uniform_int_distribution<std::int64_t>(lo.count(), hi.count())(rng_)); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  double unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  void trace(const std::string& line) {
    for (char c : line) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    hash_ = (hash_ ^ static_cast<std::uint64_t>(now_.count())) * 1099511628211ull;
    if (cfg_.keep_trace) report_.trace.push_back("[" + std::to_string(now_.count()) + "] " + line);
  }
  void say(const std::string& s) {
    trace(s);
    if (progress_) progress_(s);
  }
  void fail(const std::string& why) {
    report_.converged = false;
    if (report_.failure.empty()) report_.failure = why;
  }

  // --- bridges ---------------------------------------------------------------------

  void start_bridge(Instance& inst) {
    if (inst.engine) {
      inst.retired_deltas += inst.engine->stats().deltas_sent;
      inst.retired_ipc += inst.engine->stats().ipc_commands;
    }
    close_conn(inst, /*notify=*/false);
    bridge::EngineConfig c;
    c.origin = "i" + std::to_string(inst.index) + "b" + std::to_string(inst.bridges_started++);
    c.poll_interval = cfg_.poll_interval;
    c.seed = cfg_.seed * 1000003u + static_cast<std::uint64_t>(inst.index) * 7919u + inst.bridges_started;
    c.relay_chat = false;
    inst.engine = std::make_unique<bridge::SyncEngine>(c);
    ++inst.engine_gen;
    inst.timer_at.reset();
    apply(inst, inst.engine->start(now_));
  }

  void apply(Instance& inst, Effects fx) {
    const auto gen = inst.engine_gen;
    for (auto& e : fx) {
      std::visit([&](auto&& ef) { effect(inst, gen, std::move(ef)); }, std::move(e));
    }
    arm_timer(inst);
  }

  // Runs `fn` later for this instance unless its bridge was replaced.
  void later(Instance& inst, Ms t, std::uint64_t gen, std::function<void()> fn) {
    ++inst.inflight;
    at(t, [this, &inst, gen, fn = std::move(fn)] {
      --inst.inflight;
      if (gen == inst.engine_gen) fn();
    });
  }

  void arm_timer(Instance& inst) {
    auto d = inst.engine->next_deadline();
    if (!d) return;
    if (inst.timer_at && *inst.timer_at <= *d) return;
    inst.timer_at = *d;
    const auto gen = inst.engine_gen;
    at(*d, [this, &inst, gen, when = *d] {
      if (gen != inst.engine_gen || inst.timer_at != when) return;
      inst.timer_at.reset();
      apply(inst, inst.engine->on_timer(now_));
    });
  }

  void effect(Instance& inst, std::uint64_t gen, bridge::effect::SendIpc&& s) {
    trace("i" + std::to_string(inst.index) + " ipc> " + s.line.substr(0, s.line.size() - 1));
    const auto app_gen = inst.app_gen;
    later(inst, now_ + uniform(cfg_.ipc_latency_min, cfg_.ipc_latency_max), gen, [this, &inst, gen, app_gen, s] {
      IpcOutcome o;
      if (!inst.app_up || inst.app_gen != app_gen) {
        o = IpcOutcome{IpcFailure::unreachable, "connection refused"};
      } else {
        auto r = inst.app->handle_request(s.line, now_);
        o = IpcOutcome{IpcFailure::none, r.reply.value_or("")};
        deliver_events(inst, gen);
      }
      later(inst, now_ + uniform(Ms(0), cfg_.ipc_latency_max / 2), gen,
            [this, &inst, id = s.id, o] { apply(inst, inst.engine->on_ipc_reply(id, o, now_)); });
    });
  }

  void deliver_events(Instance& inst, std::uint64_t gen) {
    for (const auto& ev : inst.app->take_events()) {
      std::string line = ipc::format_event(ev);
      later(inst, now_ + uniform(Ms(0), Ms(5)), gen,
            [this, &inst, line] { apply(inst, inst.engine->on_ipc_event(line, now_)); });
    }
  }

  void effect(Instance& inst, std::uint64_t gen, bridge::effect::SendRoom&& s) {
    if (!inst.conn) return;  // a send on a closed connection is lost
    const Ms t = std::max(inst.up_free, now_ + uniform(cfg_.net_latency_min, cfg_.net_latency_max));
    inst.up_free = t;
    const auto cg = inst.conn_gen;
    later(inst, t, gen, [this, &inst, cg, text = std::move(s.text)] {
      if (inst.conn_gen != cg || !inst.conn) return;
      trace("i" + std::to_string(inst.index) + " room> " + text.substr(0, 200));
      room_effects(room_.on_text(inst.socket, text, now_.count()));
    });
  }

  void effect(Instance& inst, std::uint64_t gen, bridge::effect::ConnectRoom&&) {
    later(inst, now_ + uniform(cfg_.net_latency_min, cfg_.net_latency_max * 2), gen, [this, &inst, gen] {
      if (room_down_) {
        later(inst, now_ + cfg_.net_latency_max, gen, [this, &inst] { apply(inst, inst.engine->on_room_closed(now_)); });
        return;
      }
      ++inst.conn_gen;
      inst.conn = "c" + std::to_string(next_conn_++);
      inst.down_free = now_;
      inst.up_free = now_;
      inst.socket = next_socket_++;
      conns_[inst.socket] = &inst;
      trace("i" + std::to_string(inst.index) + " connected as " + *inst.conn);
      apply(inst, inst.engine->on_room_open(now_));
      room_effects(room_.on_open(inst.socket, kRoom, *inst.conn));
    });
  }

  void effect(Instance& inst, std::uint64_t gen, bridge::effect::CloseRoom&& c) {
    trace("i" + std::to_string(inst.index) + " closes: " + c.reason);
    close_conn(inst, false);
    later(inst, now_ + Ms(1), gen, [this, &inst] { apply(inst, inst.engine->on_room_closed(now_)); });
  }

  void effect(Instance& inst, std::uint64_t, bridge::effect::Log&& l) {
    if (cfg_.keep_trace) trace("i" + std::to_string(inst.index) + " log: " + l.text);
  }

  // Executes the room core's effects: frames down the simulated network,
  // closes as drops. (Persist and Log concern the real server's shell.)
  void room_effects(mockparty::Effects fx) {
    for (auto& e : fx) {
      if (auto* send = std::get_if<mockparty::Send>(&e)) {
        send_down(send->to, std::move(send->text));
      } else if (auto* close = std::get_if<mockparty::Close>(&e)) {
        auto it = conns_.find(close->to);
        if (it != conns_.end()) close_conn(*it->second, true);
      }
    }
  }

  void send_down(mockparty::SocketId socket, std::string text) {
    auto it = conns_.find(socket);
    if (it == conns_.end()) return;
    Instance& inst = *it->second;
    const Ms t = std::max(inst.down_free, now_ + uniform(cfg_.net_latency_min, cfg_.net_latency_max));
    inst.down_free = t;
    const auto cg = inst.conn_gen;
    later(inst, t, inst.engine_gen, [this, &inst, cg, text = std::move(text)] {
      if (inst.conn_gen != cg || !inst.conn) return;
      apply(inst, inst.engine->on_room_message(text, now_));
    });
  }

  // Drops the connection on both ends; in-flight messages are lost.
  void close_conn(Instance& inst, bool notify) {
    if (!inst.conn) return;
    conns_.erase(inst.socket);
    inst.conn.reset();
    ++inst.conn_gen;
    room_effects(room_.on_close(inst.socket));
    if (notify) {
      const auto gen = inst.engine_gen;
      later(inst, now_ + uniform(Ms(1), Ms(300)), gen, [this, &inst] { apply(inst, inst.engine->on_room_closed(now_)); });
    }
  }

  // --- people -------------------------------------------------------------------------

  // Calls `fn` at the arrival times of a Poisson process with `per_second`
  // events, until the end of the active phase.
  void schedule_poisson(Ms from, double per_second, std::function<void()> fn) {
    const double mean_ms = 1000.0 / std::max(per_second, 0.001);
    const Ms t = from + Ms(static_cast<std::int64_t>(std::exponential_distribution<double>(1.0 / mean_ms)(rng_)) + 1);
    if (t >= cfg_.active) return;
    at(t, [this, per_second, fn = std::move(fn)] {
      fn();
      schedule_poisson(now_, per_second, fn);
    });
  }

  std::vector<std::string> window_ids(const fakewibwob::FakeApp& app) {
    std::vector<std::string> ids;
    for (const auto& w : app.desktop().windows()) ids.push_back(w.id);
    return ids;
  }

  fakewibwob::OpenSpec random_spec() {
    fakewibwob::OpenSpec s;
    s.type = kActionTypes[static_cast<std::size_t>(pick(static_cast<int>(kActionTypes.size())))];
    s.bounds = fakewibwob::Rect{pick(200), pick(60), 16 + pick(60), 6 + pick(20)};
    if (s.type == "text_view") s.path = "/home/user/notes " + std::to_string(pick(5)) + ".txt";
    if (s.type == "figlet_text") s.text = "hi " + std::to_string(pick(100));
    return s;
  }

  void act() {
    Instance& inst = *instances_[static_cast<std::size_t>(pick(cfg_.instances))];
    if (!inst.app_up) return;
    ++report_.actions;
    last_action_at_ = now_;
    auto ids = window_ids(*inst.app);
    const int kind = ids.empty() ? 0 : pick(9);
    const std::string who = "i" + std::to_string(inst.index);
    std::string target = ids.empty() ? "" : ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
    auto ipc_request = [&](const std::string& name, const ipc::Params& p) {
      auto line = ipc::build_request(name, p);
      if (!line) return;
      trace(who + " other IPC client: " + line->substr(0, line->size() - 1));
      inst.app->handle_request(*line, now_);
      deliver_events(inst, inst.engine_gen);
    };
    switch (kind) {
      case 0:
      case 1: {
        auto s = random_spec();
        trace(who + " person opens " + s.type);
        (void)inst.app->open(s);
        deliver_events(inst, inst.engine_gen);
        break;
      }
      case 2: {
        auto s = random_spec();
        ipc::Params p{{"type", s.type}, {"x", std::to_string(s.bounds->x)}, {"y", std::to_string(s.bounds->y)},
                      {"w", std::to_string(s.bounds->w)}, {"h", std::to_string(s.bounds->h)}};
        if (s.path) p.emplace_back("path", *s.path);
        if (s.text) p.emplace_back("text", *s.text);
        ipc_request("create_window", p);
        break;
      }
      case 3:
        trace(who + " person moves " + target);
        inst.app->person_move(target, pick(200), pick(60));
        break;
      case 4:
        trace(who + " person resizes " + target);
        inst.app->person_resize(target, 16 + pick(60), 6 + pick(20));
        break;
      case 5:
        trace(who + " person closes " + target);
        inst.app->person_close(target);
        break;
      case 6:
        ipc_request("move_window", {{"id", target}, {"x", std::to_string(pick(200))}, {"y", std::to_string(pick(60))}});
        break;
      case 7:
        ipc_request(pick(2) ? "close_window" : "resize_window",
                    {{"id", target}, {"width", std::to_string(16 + pick(60))}, {"height", std::to_string(6 + pick(20))}});
        break;
      default:
        trace(who + " person focuses " + target);
        inst.app->person_focus(target);
        break;
    }
  }

  // --- faults ---------------------------------------------------------------------------

  void fault() {
    Instance& inst = *instances_[static_cast<std::size_t>(pick(cfg_.instances))];
    const std::string who = "i" + std::to_string(inst.index);
    ++report_.faults;
    switch (pick(5)) {
      case 0:
      case 1:
        say(who + " fault: room connection dropped");
        close_conn(inst, true);
        break;
      case 2: {
        if (!inst.app_up) break;
        say(who + " fault: app crashes and restarts");
        inst.app_up = false;
        ++inst.app_gen;
        const auto gen = inst.engine_gen;
        later(inst, now_ + Ms(20), gen, [this, &inst] { apply(inst, inst.engine->on_app_unreachable(now_)); });
        at(now_ + uniform(Ms(100), Ms(2000)), [this, &inst, app_gen = inst.app_gen] {
          if (inst.app_gen != app_gen || inst.app_up) return;  // healed already
          std::vector<fakewibwob::OpenSpec> layout;
          if (pick(2)) layout.push_back(random_spec());  // the app reloads a saved layout
          inst.app->restart(layout);
          (void)inst.app->take_events();
          inst.app_up = true;
          trace("i" + std::to_string(inst.index) + " app is back");
        });
        break;
      }
      case 3:
        say(who + " fault: bridge restarts (app keeps running)");
        start_bridge(inst);
        break;
      default:
        say("fault: room server unreachable for a while, all connections dropped");
        room_down_ = true;
        for (auto& other : instances_) close_conn(*other, true);
        at(now_ + uniform(Ms(100), Ms(3000)), [this] { room_down_ = false; });
        break;
    }
  }

  void heal_all() {
    room_down_ = false;
    for (auto& inst : instances_) {
      if (!inst->app_up) {
        inst->app->restart({});
        (void)inst->app->take_events();
        inst->app_up = true;
      }
    }
  }

  // --- checks ------------------------------------------------------------------------------

  bool quiescent() const {
    if (room_down_) return false;
    // A person's change fires no event: only a poll after it can see it.
    if (now_ < last_action_at_ + 2 * cfg_.poll_interval + cfg_.ipc_latency_max * 2) return false;
    for (const auto& inst : instances_) {
      if (!inst->app_up || !inst->conn || !inst->engine->room_synced() || !inst->engine->idle()) return false;
      if (inst->app->open_dialogs()) return false;
    }
    // Nothing in flight except timers.
    for (const auto& inst : instances_)
      if (inst->inflight) return false;
    return true;
  }

  std::string why_busy() const {
    std::ostringstream s;
    for (const auto& inst : instances_) {
      s << "i" << inst->index << "{app_up=" << inst->app_up << " conn=" << inst->conn.has_value()
        << " synced=" << inst->engine->room_synced() << " idle=" << inst->engine->idle()
        << " pending=" << inst->engine->pending_deltas() << " inflight=" << inst->inflight << "} ";
    }
    return s.str();
  }

  void check_convergence() {
    report_.converged = true;
    const protocol::Layout server = room_view();
    for (const auto& inst : instances_) {
      const std::string who = "instance " + std::to_string(inst->index);
      protocol::Layout shown;
      for (const auto& w : inst->app->desktop().windows()) {
        if (protocol::is_internal_window_type(w.type)) continue;
        auto rid = inst->engine->room_id_of(w.id);
        if (!rid) return fail(who + ": local window " + w.id + " (" + w.type + ") is not mapped to the room");
        if (shown.count(*rid)) return fail(who + ": two local windows map to " + *rid);
        protocol::Window pw;
        pw.id = *rid;
        pw.type = w.type;
        pw.x = w.bounds.x;
        pw.y = w.bounds.y;
        pw.w = w.bounds.w;
        pw.h = w.bounds.h;
        if (fakewibwob::find_window_type(w.type) && fakewibwob::find_window_type(w.type)->needs_path) pw.path = w.path;
        shown[*rid] = pw;
      }
      for (const auto& [id, w] : server) {
        auto it = shown.find(id);
        if (it == shown.end()) return fail(who + " lacks room window " + id + " (" + w.type + ")");
        if (!it->second.same_synced(w))
          return fail(who + " shows " + id + " as " + protocol::to_json(it->second).dump() + ", the room has " +
                      protocol::to_json(w).dump());
      }
      for (const auto& [id, w] : shown)
        if (!server.count(id)) return fail(who + " shows " + id + " (" + w.type + "), which the room does not have");
    }
  }

  protocol::Layout room_view() const {
    protocol::Layout out;
    for (const auto& [k, raw] : room_state().windows) {
      auto w = protocol::normalise_window(raw);
      if (w && !protocol::is_internal_window_type(w->type)) out[k] = *w;
    }
    return out;
  }

  void check_quiet() {
    std::uint64_t before = 0;
    for (const auto& inst : instances_) before += inst->engine->stats().deltas_sent;
    run_until(now_ + 2 * cfg_.poll_interval + Ms(50));
    std::uint64_t after = 0;
    for (const auto& inst : instances_) after += inst->engine->stats().deltas_sent;
    if (after != before) fail("the room is not quiet: " + std::to_string(after - before) + " state_delta after convergence");
  }

  SimConfig cfg_;
  std::function<void(const std::string&)> progress_;
  std::mt19937_64 rng_;
  SimReport report_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::map<std::pair<Ms, std::uint64_t>, std::function<void()>> queue_;
  std::uint64_t seq_ = 0;
  Ms now_{0};
  std::uint64_t hash_ = 1469598103934665603ull;
  const protocol::RoomState& room_state() const {
    static const protocol::RoomState empty;
    const auto* st = room_.state(kRoom);
    return st ? *st : empty;
  }

  // The real server's semantics, defects included (mockparty's own core).
  mockparty::PartyCore room_;
  std::map<mockparty::SocketId, Instance*> conns_;
  mockparty::SocketId next_socket_ = 1;
  std::uint64_t next_conn_ = 1;
  bool room_down_ = false;
  Ms last_action_at_{0};
};

}  // namespace

SimReport run_simulation(const SimConfig& config, const std::function<void(const std::string&)>& progress) {
  Simulation s(config, progress);
  return s.run();
}

}  // namespace wibwob::sim
