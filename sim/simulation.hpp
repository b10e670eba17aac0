// The simulation behind run_simulation (sim/simulator.hpp), split over
// files by concern:
//   simulation.cpp  the run, the event queue, bridges, IPC, network, room server
//   people.cpp      what people and assistants do, and the faults
//   checks.cpp      quiescence, convergence, a quiet room, presence
//   probes.cpp      measurements for the acceptance criteria (AC-1, AC-2, AC-4)
// and the chat bookkeeping in chat_ledger.hpp.
// Internal to sim/: not part of the simulator's interface.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "bridge/core/sync_engine.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "mockparty/core/party_core.hpp"
#include "protocol/ipc.hpp"
#include "protocol/window.hpp"
#include "sim/chat_ledger.hpp"
#include "sim/oracle.hpp"
#include "sim/simulator.hpp"

namespace wibwob::sim::detail {

inline const std::string kRoom = "sim-room";

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
  Ms events_free{0};                // the event subscription is FIFO too
  Ms app_free{0};                   // the app serves one IPC connection per tick
  std::optional<Ms> timer_at;
  std::uint64_t bridges_started = 0;
  std::uint64_t retired_deltas = 0, retired_ipc = 0;
  std::size_t inflight = 0;  // scheduled callbacks that concern this instance
  Ms disturbed_at{-1};       // last fault that touched this instance (probes exclude it)
  bool saved_workspace = false;  // the assistant saved one (files survive app restarts)
  std::string restart_detected;  // the bridge's last "app restart detected" log, for diagnoses
  std::optional<bridge::Handover> handover;  // the bridge's handover file (survives a bridge restart)
  // Bumped whenever the window holding a local id closes: with id reuse, an
  // id can name another window later (AC-2's duplicate check needs identity).
  std::map<std::string, std::uint64_t> closes;
  Ms cut_off_until{-1};  // a long outage: the room is unreachable from here until then
  std::string origin;    // the running bridge's origin (its writer id in revision tags)
};

// AC-1: a window opened on an instance, waiting to reach the room.
struct OpenProbe {
  std::string local_id;
  Ms at{0};
};

class Simulation {
 public:
  Simulation(const SimConfig& c, const std::function<void(const std::string&)>& progress);
  SimReport run();

 private:
  // --- simulation.cpp: event queue -------------------------------------------------
  void at(Ms t, std::function<void()> fn) { queue_.emplace(std::make_pair(std::max(t, now_), seq_++), std::move(fn)); }
  void run_until(Ms end);
  Ms uniform(Ms lo, Ms hi) { return Ms(std::uniform_int_distribution<std::int64_t>(lo.count(), hi.count())(rng_)); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  double unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  void trace(const std::string& line);
  void say(const std::string& s);
  void fail(const std::string& why);
  void settle_and_check();
  void measure_recovery();
  void finish_report();

  // --- simulation.cpp: bridges, IPC, network, room --------------------------------
  void start_bridge(Instance& inst);
  // The app process's identity as the bridge's shell reports it.
  static std::string app_key(const Instance& inst) { return inst.app_up ? "app" + std::to_string(inst.app_gen) : ""; }
  void apply(Instance& inst, bridge::Effects fx);
  void later(Instance& inst, Ms t, std::uint64_t gen, std::function<void()> fn);
  void arm_timer(Instance& inst);
  void effect(Instance& inst, std::uint64_t gen, bridge::effect::SendIpc&& s);
  void effect(Instance& inst, std::uint64_t gen, bridge::effect::SendRoom&& s);
  void effect(Instance& inst, std::uint64_t gen, bridge::effect::ConnectRoom&&);
  void effect(Instance& inst, std::uint64_t gen, bridge::effect::CloseRoom&& c);
  void effect(Instance& inst, std::uint64_t gen, bridge::effect::Log&& l);
  Ms ipc_arrival(Instance& inst);
  void serve_ipc(Instance& inst, std::uint64_t gen, std::uint64_t app_gen, const bridge::effect::SendIpc& s);
  void deliver_events(Instance& inst, std::uint64_t gen);
  void frame_at_server(Instance& inst, const std::string& text);
  void room_effects(mockparty::Effects fx);
  void send_down(mockparty::SocketId socket, std::string text, std::string type);
  void frame_at_bridge(Instance& inst, const std::string& text, const std::string& type);
  void close_conn(Instance& inst, bool notify);
  void restart_room_server(Ms down_for);

  // --- people.cpp -------------------------------------------------------------------
  void schedule_poisson(Ms from, double per_second, std::function<void()> fn);
  std::vector<std::string> window_ids(const fakewibwob::FakeApp& app) const;
  fakewibwob::OpenSpec random_spec();
  std::vector<fakewibwob::OpenSpec> app_layout();
  void act();
  void act_on_window(Instance& inst, int kind, const std::string& target);
  void ipc_request(Instance& inst, const std::string& name, const protocol::ipc::Params& p);
  void assistant_acts(Instance& inst);
  void person_drags(Instance& inst, const std::string& target);
  void type_chat();
  void fault();
  void crash_app(Instance& inst);
  void heal_all();
  bool closes_last_chat_window(const Instance& inst, const std::string& id) const;

  // --- reconnects.cpp: long outages, busy people, what (re)joins send, the oracle ---
  void schedule_long_outages();
  void begin_long_outage(Instance& inst);
  void busy_person_acts(Instance& inst);
  bool cut_off(const Instance& inst) const { return now_ < inst.cut_off_until; }
  void end_long_outages();
  void oracle_sent(Instance& inst, const std::string& text);
  void oracle_sequenced(Instance& inst, const std::string& text, std::int64_t version_before);
  void note_sync(const bridge::Effects& fx);
  void note_chat_over_rate(Instance& inst, const std::string& text);
  void add_reconnect_stats(const bridge::EngineStats& s);
  void finish_reconnect_report();

  // --- checks.cpp -----------------------------------------------------------------------
  bool quiescent() const;
  std::string why_busy() const;
  std::string divergence() const;
  std::string presence_problem();
  protocol::Layout room_view() const;
  const protocol::RoomState& room_state() const;
  void check_quiet();
  bool in_sync() const;

  // --- probes.cpp ---------------------------------------------------------------------
  void disturb(Instance& inst) { inst.disturbed_at = now_; }
  // Every window the request `name` closes (before it runs): ids may be reused.
  void note_closes(Instance& inst, const std::string& name, const std::string& id);
  void probe_opened(Instance& inst, const std::string& local_id);
  bool opened_over_mapped_id(const Instance& inst, const fakewibwob::DesktopWindow& w) const;
  void probe_delta_at_server(Instance& inst, const protocol::Json& msg);
  void probe_delta_at_bridge(Instance& inst, const protocol::Json& msg);
  void probe_created(Instance& inst, const std::string& local_id);
  void close_probes();

  SimConfig cfg_;
  std::function<void(const std::string&)> progress_;
  std::mt19937_64 rng_;
  SimReport report_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::map<std::pair<Ms, std::uint64_t>, std::function<void()>> queue_;
  std::uint64_t seq_ = 0;
  Ms now_{0};
  std::uint64_t hash_ = 1469598103934665603ull;
  Ms act_until_{0};  // people act until then

  // The real server's semantics, defects included (mockparty's own core).
  mockparty::PartyCore room_;
  std::string persisted_;  // the room's last saved state (survives a server restart)
  std::map<mockparty::SocketId, Instance*> conns_;
  mockparty::SocketId next_socket_ = 1;
  std::uint64_t next_conn_ = 1;
  bool room_down_ = false;
  Ms last_action_at_{0};

  ChatLedger chat_;
  WriteOracle oracle_;
  // probes
  std::vector<std::vector<OpenProbe>> open_probes_;        // per instance
  std::map<std::pair<int, std::string>, Ms> remote_adds_;  // (instance, room id) -> delta arrival
  struct Created {
    std::uint64_t app_gen = 0, engine_gen = 0;  // which app process, which bridge run
    std::uint64_t closes = 0;                      // Instance::closes of the local id then
    std::string local_id;
  };
  std::map<std::pair<int, std::string>, Created> created_;  // (instance, room id) -> last create
  std::string duplicate_;  // the first duplicate create, described
};

}  // namespace wibwob::sim::detail
