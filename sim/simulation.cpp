// The run, the event queue, and the simulated wiring between the cores:
// bridge engine <-> IPC <-> fake app, bridge engine <-> network <-> room server.
#include "sim/simulation.hpp"

#include <sstream>

#include "protocol/room_message.hpp"

namespace wibwob::sim {

namespace detail {

using bridge::IpcFailure;
using bridge::IpcOutcome;
namespace ipc = protocol::ipc;
namespace room = protocol::room;

namespace {

// Whether a room frame (JSON as nlohmann writes it: ASCII never escaped) can
// be a chat line or a delta that adds windows, the frames the probes read.
bool names_chat_or_add(const std::string& text) {
  return text.find("\"chat_msg\"") != std::string::npos || text.find("\"add\"") != std::string::npos;
}

}  // namespace

Simulation::Simulation(const SimConfig& c, const std::function<void(const std::string&)>& progress)
    : cfg_(c), progress_(progress), rng_(c.seed), chat_(c.instances),
      open_probes_(static_cast<std::size_t>(c.instances)) {
  report_.seed = c.seed;
  act_until_ = c.recovery ? std::min(c.recovery->at, c.active) : c.active;
  for (int i = 0; i < c.instances; ++i) {
    auto inst = std::make_unique<Instance>();
    inst->index = i;
    fakewibwob::CoreConfig ac;
    ac.display_name = "person" + std::to_string(i);
    ac.id_reuse.enabled = c.id_reuse;
    ac.id_reuse.seed = c.seed * 7717u + static_cast<std::uint64_t>(i);
    inst->app = std::make_unique<fakewibwob::FakeApp>(ac);
    // The room's app opens its chat window at start; chat and presence need it.
    inst->app->restart(app_layout());
    instances_.push_back(std::move(inst));
  }
}

SimReport Simulation::run() {
  for (auto& inst : instances_) start_bridge(*inst);
  // Active phase: people act, faults happen.
  schedule_poisson(Ms(0), cfg_.actions_per_second, [this] { act(); });
  if (cfg_.chat) schedule_poisson(Ms(0), cfg_.chat_per_second, [this] { type_chat(); });
  if (cfg_.faults && !cfg_.recovery) schedule_poisson(Ms(0), cfg_.faults_per_second, [this] { fault(); });
  schedule_long_outages();
  if (cfg_.recovery) {
    run_until(cfg_.recovery->at);
    measure_recovery();
  }
  run_until(cfg_.active);
  say("active phase over at " + std::to_string(now_.count()) + " ms: " + std::to_string(report_.actions) +
      " actions, " + std::to_string(report_.faults) + " faults; settling");
  heal_all();
  settle_and_check();
  finish_report();
  return std::move(report_);
}

void Simulation::settle_and_check() {
  const Ms deadline = now_ + cfg_.settle_limit;
  const Ms settle_from = now_;
  while (now_ < deadline) {
    run_until(now_ + Ms(100));
    if (quiescent()) break;
  }
  report_.settled_after = now_ - settle_from;
  if (!quiescent())
    return fail("not quiescent " + std::to_string(cfg_.settle_limit.count()) + " ms after the active phase: " + why_busy());
  report_.converged = true;
  if (auto d = divergence(); !d.empty()) return fail(d);
  if (!chat_.failure().empty()) return fail("chat: " + chat_.failure());
  if (auto p = presence_problem(); !p.empty()) return fail(p);
  if (!duplicate_.empty()) return fail(duplicate_);
  if (auto o = oracle_.check(); !o.empty()) return fail(o);
  check_quiet();
  close_probes();
}

void Simulation::finish_report() {
  for (auto& inst : instances_) {
    report_.deltas_sent += inst->engine->stats().deltas_sent + inst->retired_deltas;
    report_.ipc_commands += inst->engine->stats().ipc_commands + inst->retired_ipc;
  }
  report_.room_windows = room_state().windows.size();
  finish_reconnect_report();
  report_.chat = chat_.counts();
  report_.trace_hash = hash_;
}

void Simulation::run_until(Ms end) {
  while (!queue_.empty() && queue_.begin()->first.first <= end) {
    auto node = queue_.extract(queue_.begin());
    now_ = node.key().first;
    node.mapped()();
  }
  now_ = std::max(now_, end);
}

void Simulation::trace(const std::string& line) {
  for (char c : line) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  hash_ = (hash_ ^ static_cast<std::uint64_t>(now_.count())) * 1099511628211ull;
  if (cfg_.keep_trace) report_.trace.push_back("[" + std::to_string(now_.count()) + "] " + line);
}

void Simulation::say(const std::string& s) {
  trace(s);
  if (progress_) progress_(s);
}

void Simulation::fail(const std::string& why) {
  report_.converged = false;
  if (report_.failure.empty()) report_.failure = why;
}

// --- bridges -------------------------------------------------------------------

void Simulation::start_bridge(Instance& inst) {
  if (inst.engine) {
    inst.retired_deltas += inst.engine->stats().deltas_sent;
    inst.retired_ipc += inst.engine->stats().ipc_commands;
    add_reconnect_stats(inst.engine->stats());
    oracle_.bridge_ended(inst.origin);
    chat_.bridge_restarted(inst.index);
  }
  close_conn(inst, /*notify=*/false);
  bridge::EngineConfig c;
  c.origin = "i" + std::to_string(inst.index) + "b" + std::to_string(inst.bridges_started++);
  c.poll_interval = cfg_.poll_interval;
  c.seed = cfg_.seed * 1000003u + static_cast<std::uint64_t>(inst.index) * 7919u + inst.bridges_started;
  c.relay_chat = cfg_.chat;
  // The people's files live in /home/user (people.cpp); every instance's
  // operator allowed that folder, as wibwob-rooms does with a room's content.
  c.paths = bridge::PathPolicy({"/home/user"}, nullptr);
  // The next run resumes the last run's mapping, like wibwob-bridge with its
  // handover file; the app's identity is its process generation.
  if (cfg_.handover) c.handover = inst.handover;
  c.app_key = app_key(inst);
  c.room_key = "sim-room";
  if (cfg_.legacy_resend) c.resend_rule = bridge::ResendRule::legacy_minus_shown;
  inst.origin = c.origin;
  inst.engine = std::make_unique<bridge::SyncEngine>(c);
  ++inst.engine_gen;
  inst.timer_at.reset();
  apply(inst, inst.engine->start(now_));
}

void Simulation::apply(Instance& inst, bridge::Effects fx) {
  const auto gen = inst.engine_gen;
  for (auto& e : fx) std::visit([&](auto&& ef) { effect(inst, gen, std::move(ef)); }, std::move(e));
  if (auto h = inst.engine->take_handover()) inst.handover = std::move(*h);
  arm_timer(inst);
}

// Runs `fn` later for this instance unless its bridge was replaced.
void Simulation::later(Instance& inst, Ms t, std::uint64_t gen, std::function<void()> fn) {
  ++inst.inflight;
  at(t, [this, &inst, gen, fn = std::move(fn)] {
    --inst.inflight;
    if (gen == inst.engine_gen) fn();
  });
}

void Simulation::arm_timer(Instance& inst) {
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

// --- IPC ---------------------------------------------------------------------------

// When the app takes a request sent now: after the connect latency, at the
// next free UI tick when the app has one (one connection per tick).
Ms Simulation::ipc_arrival(Instance& inst) {
  Ms t = now_ + uniform(cfg_.ipc_latency_min, cfg_.ipc_latency_max);
  if (cfg_.app_tick.count() > 0) {
    const auto tick = cfg_.app_tick.count();
    t = std::max(Ms((t.count() + tick - 1) / tick * tick), inst.app_free);
    inst.app_free = t + cfg_.app_tick;
  }
  return t;
}

void Simulation::effect(Instance& inst, std::uint64_t gen, bridge::effect::SendIpc&& s) {
  trace("i" + std::to_string(inst.index) + " ipc> " + s.line.substr(0, s.line.size() - 1));
  const auto app_gen = inst.app_gen;
  later(inst, ipc_arrival(inst), gen, [this, &inst, gen, app_gen, s] { serve_ipc(inst, gen, app_gen, s); });
}

void Simulation::serve_ipc(Instance& inst, std::uint64_t gen, std::uint64_t app_gen, const bridge::effect::SendIpc& s) {
  IpcOutcome o;
  const auto cmd = ipc::parse_request(s.line);
  std::optional<std::string> created;
  if (!inst.app_up || inst.app_gen != app_gen) {
    o = IpcOutcome{IpcFailure::unreachable, "connection refused"};
  } else {
    note_closes(inst, cmd.name, cmd.params.count("id") ? cmd.params.at("id") : std::string());
    auto r = inst.app->handle_request(s.line, now_);
    o = IpcOutcome{IpcFailure::none, r.reply.value_or("")};
    // The sim reads the replies of these three only; the rest (get_state
    // above all, the largest) are the engine's to parse.
    const bool read_reply = cmd.name == "room_chat_pending" || cmd.name == "room_chat_receive" || cmd.name == "create_window";
    const auto reply = read_reply ? ipc::classify_reply(o.text) : ipc::Reply{};
    if (cmd.name == "room_chat_pending" && reply.kind == ipc::ReplyKind::data) {
      std::vector<std::string> texts;
      for (const auto& t : reply.data)
        if (t.is_string()) texts.push_back(t.get<std::string>());
      chat_.read(inst.index, texts);
    } else if (cmd.name == "room_chat_receive" && cmd.params.count("text")) {
      chat_.shown(inst.index, cmd.params.at("text"), reply.kind == ipc::ReplyKind::ok);
    } else if (cmd.name == "create_window" && reply.kind == ipc::ReplyKind::success && reply.id) {
      created = reply.id;
    }
    deliver_events(inst, gen);
  }
  later(inst, now_ + uniform(Ms(0), cfg_.ipc_latency_max / 2), gen, [this, &inst, id = s.id, o, created] {
    apply(inst, inst.engine->on_ipc_reply(id, o, now_));
    if (created) probe_created(inst, *created);
  });
}

void Simulation::deliver_events(Instance& inst, std::uint64_t gen) {
  for (const auto& ev : inst.app->take_events()) {
    std::string line = ipc::format_event(ev);
    inst.events_free = std::max(inst.events_free, now_ + uniform(Ms(0), Ms(5)));
    later(inst, inst.events_free, gen, [this, &inst, line] { apply(inst, inst.engine->on_ipc_event(line, now_)); });
  }
}

// --- network and room server ------------------------------------------------------------

void Simulation::effect(Instance& inst, std::uint64_t gen, bridge::effect::SendRoom&& s) {
  if (s.text.find("\"chat_msg\"") != std::string::npos) {
    if (auto m = room::decode(s.text); m && std::holds_alternative<room::ChatMsg>(*m))
      chat_.sent(inst.index, std::get<room::ChatMsg>(*m).text, inst.conn.has_value());
  }
  if (s.text.find("\"state_delta\"") != std::string::npos) oracle_sent(inst, s.text);
  if (!inst.conn) return;  // a send on a closed connection is lost
  const Ms t = std::max(inst.up_free, now_ + uniform(cfg_.net_latency_min, cfg_.net_latency_max));
  inst.up_free = t;
  const auto cg = inst.conn_gen;
  later(inst, t, gen, [this, &inst, cg, text = std::move(s.text)] {
    if (inst.conn_gen != cg || !inst.conn) return;
    trace("i" + std::to_string(inst.index) + " room> " + text.substr(0, 200));
    frame_at_server(inst, text);
  });
}

// The room server handles one frame from the instance's connection.
void Simulation::frame_at_server(Instance& inst, const std::string& text) {
  const std::int64_t version_before = room_state().version;
  auto fx = room_.on_text(inst.socket, text, now_.count());
  if (room_state().version != version_before) oracle_sequenced(inst, text, version_before);
  // The probes read chat lines and added windows only; a frame naming
  // neither (most: moves, pings) is not parsed a second time here.
  if (!names_chat_or_add(text)) return room_effects(std::move(fx));
  auto msg = ipc::parse_json(text);
  const std::string type = msg && msg->is_object() ? msg->value("type", "") : "";
  if (type == "state_delta") probe_delta_at_server(inst, *msg);
  if (type == "chat_msg" && (*msg)["text"].is_string()) {
    std::vector<int> to;
    for (const auto& e : fx)
      if (auto* send = std::get_if<mockparty::Send>(&e); send && send->type == "chat_msg" && conns_.count(send->to))
        to.push_back(conns_.at(send->to)->index);
    chat_.at_server((*msg)["text"].get<std::string>(), to);
  }
  room_effects(std::move(fx));
}

void Simulation::effect(Instance& inst, std::uint64_t gen, bridge::effect::ConnectRoom&&) {
  later(inst, now_ + uniform(cfg_.net_latency_min, cfg_.net_latency_max * 2), gen, [this, &inst, gen] {
    if (room_down_ || cut_off(inst)) {
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

void Simulation::effect(Instance& inst, std::uint64_t gen, bridge::effect::CloseRoom&& c) {
  trace("i" + std::to_string(inst.index) + " closes: " + c.reason);
  close_conn(inst, false);
  later(inst, now_ + Ms(1), gen, [this, &inst] { apply(inst, inst.engine->on_room_closed(now_)); });
}

void Simulation::effect(Instance& inst, std::uint64_t, bridge::effect::Log&& l) {
  if (l.text.rfind("app restart detected", 0) == 0) inst.restart_detected = "at " + std::to_string(now_.count()) + " ms: " + l.text;
  if (cfg_.keep_trace) trace("i" + std::to_string(inst.index) + " log: " + l.text);
}

// Executes the room core's effects: frames down the simulated network,
// closes as drops, saves kept for a server restart.
void Simulation::room_effects(mockparty::Effects fx) {
  for (auto& e : fx) {
    if (auto* send = std::get_if<mockparty::Send>(&e)) {
      send_down(send->to, std::move(send->text), std::move(send->type));
    } else if (auto* close = std::get_if<mockparty::Close>(&e)) {
      auto it = conns_.find(close->to);
      if (it != conns_.end()) close_conn(*it->second, true);
    } else if (auto* save = std::get_if<mockparty::Persist>(&e)) {
      persisted_ = std::move(save->state_json);
    }
  }
}

void Simulation::send_down(mockparty::SocketId socket, std::string text, std::string type) {
  auto it = conns_.find(socket);
  if (it == conns_.end()) return;
  Instance& inst = *it->second;
  const Ms t = std::max(inst.down_free, now_ + uniform(cfg_.net_latency_min, cfg_.net_latency_max));
  inst.down_free = t;
  const auto cg = inst.conn_gen;
  later(inst, t, inst.engine_gen, [this, &inst, cg, text = std::move(text), type = std::move(type)] {
    if (inst.conn_gen != cg || !inst.conn) return;
    frame_at_bridge(inst, text, type);
  });
}

void Simulation::frame_at_bridge(Instance& inst, const std::string& text, const std::string& type) {
  if ((type == "chat_msg" || type == "state_delta") && names_chat_or_add(text)) {
    auto msg = ipc::parse_json(text);
    if (msg && type == "chat_msg" && (*msg)["text"].is_string()) chat_.delivered(inst.index, (*msg)["text"].get<std::string>());
    if (msg && type == "state_delta") probe_delta_at_bridge(inst, *msg);
  }
  // Only with keep_trace (as the engine's log lines): the hash of a run
  // without a trace stays what it was.
  if (cfg_.keep_trace) trace("i" + std::to_string(inst.index) + " <room " + text.substr(0, 200));
  const auto over_rate = inst.engine->stats().chat_over_rate;
  auto fx = inst.engine->on_room_message(text, now_);
  if (type == "state_sync") note_sync(fx);
  if (inst.engine->stats().chat_over_rate != over_rate) note_chat_over_rate(inst, text);
  apply(inst, std::move(fx));
}

// Drops the connection on both ends; in-flight messages are lost.
void Simulation::close_conn(Instance& inst, bool notify) {
  if (!inst.conn) return;
  disturb(inst);
  chat_.connection_dropped(inst.index);
  conns_.erase(inst.socket);
  inst.conn.reset();
  ++inst.conn_gen;
  room_effects(room_.on_close(inst.socket));
  if (notify) {
    const auto gen = inst.engine_gen;
    later(inst, now_ + uniform(Ms(1), Ms(300)), gen, [this, &inst] { apply(inst, inst.engine->on_room_closed(now_)); });
  }
}

// The room server process goes away (every connection drops) and comes back
// after `down_for` with the state it last saved, like `partykit dev` restarted.
void Simulation::restart_room_server(Ms down_for) {
  room_down_ = true;
  for (auto& inst : instances_) close_conn(*inst, true);
  room_ = mockparty::PartyCore();
  if (auto saved = ipc::parse_json(persisted_); saved) {
    if (auto st = protocol::parse_room_state(*saved); st) room_.load_room(kRoom, std::move(*st));
  }
  at(now_ + down_for, [this] { room_down_ = false; });
}

}  // namespace detail

std::string replay_command(const SimConfig& c) {
  std::ostringstream o;
  o << "wibwob-sim --seed " << c.seed << " --instances " << c.instances << " --active-ms " << c.active.count()
    << " --poll-ms " << c.poll_interval.count() << " --net-latency-ms " << c.net_latency_max.count()
    << " --ipc-latency-ms " << c.ipc_latency_max.count() << " --actions-per-second " << c.actions_per_second
    << " --faults-per-second " << c.faults_per_second << " --app-tick-ms " << c.app_tick.count()
    << " --chat-per-second " << c.chat_per_second << (c.faults ? "" : " --no-faults") << (c.chat ? "" : " --no-chat")
    << (c.desktop_actions ? "" : " --no-desktop-actions") << (c.id_reuse ? "" : " --no-id-reuse")
    << (c.handover ? "" : " --no-handover");
  if (c.long_outages)
    o << " --long-outages " << c.long_outages << " --long-outage-ms " << c.long_outage.count()
      << " --busy-actions-per-second " << c.busy_actions_per_second;
  if (c.legacy_resend) o << " --resend-rule legacy";
  if (c.settle_limit != SimConfig{}.settle_limit) o << " --settle-limit-ms " << c.settle_limit.count();
  if (c.recovery)
    o << " --recovery " << (c.recovery->kind == RecoveryProbe::Kind::drop ? "drop" : "room-restart")
      << " --recovery-at-ms " << c.recovery->at.count() << " --server-down-ms " << c.recovery->server_down.count();
  o << " --verbose";
  return o.str();
}

SimReport run_simulation(const SimConfig& config, const std::function<void(const std::string&)>& progress) {
  detail::Simulation s(config, progress);
  return s.run();
}

}  // namespace wibwob::sim
