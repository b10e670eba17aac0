#include "orchestrator/core/supervisor.hpp"

#include <stdexcept>

#include "protocol/ipc.hpp"

namespace wibwob::orchestrator {

namespace ipc = protocol::ipc;

const char* to_string(Role r) noexcept { return r == Role::app ? "app" : "bridge"; }

namespace {

std::string shorten(std::string_view s) {
  std::string r;
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    r += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > 80) r += "...";
  return r;
}

std::string secs(Ms d) {
  const auto ms = d.count();
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

}  // namespace

std::optional<std::string> probe_problem(const ProbeReply& r) {
  if (!r.delivered) return r.text.empty() ? std::string("no reply") : r.text;
  if (ipc::parse_challenge(r.text))
    return std::string("the app answered with its auth challenge only; a challenge is not a reply to a command");
  if (ipc::classify_auth_result(r.text) == ipc::AuthResult::failed)
    return std::string("the app refused authentication");
  if (auto s = ipc::parse_get_state(r.text); !s)
    return "get_state reply is not a parsable state (" + protocol::to_string(s.error()) + "): '" + shorten(r.text) + "'";
  return std::nullopt;
}

Supervisor::Supervisor(Plan plan, SupervisorConfig config, std::function<std::string()> make_secret)
    : plan_(std::move(plan)), config_(config), make_secret_(std::move(make_secret)), rng_(config.seed) {
  if (plan_.rooms.empty()) throw std::invalid_argument("Supervisor: no rooms");
  if (!make_secret_) throw std::invalid_argument("Supervisor: no secret source");
  rooms_.resize(plan_.rooms.size());
  for (auto& r : rooms_) {
    r.app.backoff = Backoff(config_.app_backoff);
    r.bridge.backoff = Backoff(config_.bridge_backoff);
  }
}

double Supervisor::draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

void Supervisor::log(Effects& out, Level level, std::size_t room, std::string text) const {
  out.push_back(effect::Log{level, plan_.rooms[room].room.room_id, std::move(text)});
}

Effects Supervisor::start(Ms now) {
  Effects out;
  if (started_ || stopping_) return out;
  started_ = true;
  for (std::size_t i = 0; i < rooms_.size(); ++i) start_app(i, now, out);
  finish(now, out);
  return out;
}

void Supervisor::start_app(std::size_t i, Ms /*now*/, Effects& out) {
  RoomState& r = rooms_[i];
  r.secret = make_secret_();
  r.healthy = false;
  r.app.restart_at.reset();
  r.app.starting = true;
  out.push_back(effect::Start{i, Role::app, app_launch(plan_, i, r.secret)});
}

void Supervisor::start_bridge(std::size_t i, Ms /*now*/, Effects& out) {
  RoomState& r = rooms_[i];
  r.bridge.restart_at.reset();
  r.bridge.starting = true;
  out.push_back(effect::Start{i, Role::bridge, bridge_launch(plan_, i, r.secret)});
}

void Supervisor::signal(std::size_t i, Role role, Proc& p, Sig sig, Ms now, Effects& out) {
  if (p.pid <= 0) return;
  if (sig == Sig::term) {
    p.state = ProcState::stopping;
    p.kill_at = now + config_.stop_grace;
    p.killed = false;
  } else {
    p.state = ProcState::stopping;
    p.killed = true;
    p.kill_at.reset();
  }
  out.push_back(effect::Signal{i, role, p.pid, sig});
}

Effects Supervisor::on_started(std::size_t i, Role role, int pid, Ms now) {
  Effects out;
  if (i >= rooms_.size()) return out;
  RoomState& r = rooms_[i];
  Proc& p = role == Role::app ? r.app : r.bridge;
  p.starting = false;
  p.state = ProcState::running;
  p.pid = pid;
  p.started_at = now;
  p.stop_is_failure = false;
  ++p.starts;
  if (role == Role::app) {
    r.next_probe_at = now + config_.first_probe_after;
    r.ready_deadline = now + config_.app_ready_timeout;
    r.probe_in_flight = false;
    r.last_probe_problem.clear();
    log(out, Level::info, i, "app started (pid " + std::to_string(pid) + ", start #" + std::to_string(p.starts) +
                                 "); waiting for it to answer an authenticated get_state on " +
                                 plan_.rooms[i].socket_path);
  } else {
    // Stability is measured from the start: a bridge that stays up for
    // stable_after resets the attempt count when it next fails.
    p.backoff.on_connected(now);
    log(out, Level::info, i, "bridge started (pid " + std::to_string(pid) + ", start #" + std::to_string(p.starts) + ")");
  }
  if (stopping_) signal(i, role, p, Sig::term, now, out);  // raced a stop: end it at once
  finish(now, out);
  return out;
}

Effects Supervisor::on_start_failed(std::size_t i, Role role, const std::string& why, Ms now) {
  Effects out;
  if (i >= rooms_.size()) return out;
  Proc& p = role == Role::app ? rooms_[i].app : rooms_[i].bridge;
  p.starting = false;
  p.state = ProcState::down;
  p.pid = 0;
  if (!stopping_) {
    if (role == Role::app)
      app_failed(i, "could not be started: " + why, now, out);
    else
      bridge_failed(i, "could not be started: " + why, now, out);
  }
  finish(now, out);
  return out;
}

void Supervisor::app_failed(std::size_t i, const std::string& why, Ms now, Effects& out) {
  RoomState& r = rooms_[i];
  r.app.state = ProcState::down;
  r.app.pid = 0;
  r.app.kill_at.reset();
  r.healthy = false;
  r.probe_in_flight = false;
  r.next_probe_at.reset();
  r.ready_deadline.reset();
  const Ms delay = r.app.backoff.on_failure(now, draw());
  r.app.restart_at = now + delay;
  log(out, Level::warn, i, "app " + why + "; restarting it in " + std::to_string(delay.count()) + " ms (attempt " +
                               std::to_string(r.app.backoff.attempt()) + ") with a fresh secret");
  // The bridge holds the old app's secret: end it; it starts again once the
  // new app is healthy. Not the bridge's failure, so its backoff is untouched.
  r.bridge.restart_at.reset();
  if (r.bridge.state == ProcState::running) {
    log(out, Level::info, i, "stopping the bridge (pid " + std::to_string(r.bridge.pid) + ") until the app is back");
    r.bridge.stop_is_failure = false;
    signal(i, Role::bridge, r.bridge, Sig::term, now, out);
  }
}

void Supervisor::bridge_failed(std::size_t i, const std::string& why, Ms now, Effects& out) {
  RoomState& r = rooms_[i];
  r.bridge.state = ProcState::down;
  r.bridge.pid = 0;
  r.bridge.kill_at.reset();
  const Ms delay = r.bridge.backoff.on_failure(now, draw());
  r.bridge.restart_at = now + delay;
  log(out, Level::warn, i, "bridge " + why + "; restarting it in " + std::to_string(delay.count()) + " ms (attempt " +
                               std::to_string(r.bridge.backoff.attempt()) + "); the app keeps running");
}

Effects Supervisor::on_exited(int pid, const std::string& how, Ms now) {
  Effects out;
  if (pid <= 0) return out;
  for (std::size_t i = 0; i < rooms_.size(); ++i) {
    RoomState& r = rooms_[i];
    if (r.app.pid == pid && r.app.state != ProcState::down) {
      const bool we_stopped = r.app.state == ProcState::stopping;
      const Ms up = now - r.app.started_at;
      if (stopping_) {
        r.app.state = ProcState::down;
        r.app.pid = 0;
        r.app.kill_at.reset();
        r.healthy = false;
        log(out, Level::info, i, "app (pid " + std::to_string(pid) + ") stopped: " + how);
      } else if (we_stopped && r.app.stop_is_failure) {
        app_failed(i, "did not become healthy in time and was stopped (" + how + ")", now, out);
      } else {
        app_failed(i, "(pid " + std::to_string(pid) + ") exited unexpectedly after " + secs(up) + ": " + how, now, out);
      }
      finish(now, out);
      return out;
    }
    if (r.bridge.pid == pid && r.bridge.state != ProcState::down) {
      const bool we_stopped = r.bridge.state == ProcState::stopping;
      const Ms up = now - r.bridge.started_at;
      if (stopping_ || (we_stopped && !r.bridge.stop_is_failure)) {
        r.bridge.state = ProcState::down;
        r.bridge.pid = 0;
        r.bridge.kill_at.reset();
        log(out, Level::info, i, "bridge (pid " + std::to_string(pid) + ") stopped: " + how);
        if (!stopping_ && r.healthy && !r.bridge.restart_at) start_bridge(i, now, out);
      } else {
        bridge_failed(i, "(pid " + std::to_string(pid) + ") exited unexpectedly after " + secs(up) + ": " + how, now,
                      out);
      }
      finish(now, out);
      return out;
    }
  }
  out.push_back(effect::Log{Level::debug, "", "reaped pid " + std::to_string(pid) + " (not ours any more): " + how});
  return out;
}

Effects Supervisor::on_probe_result(std::size_t i, std::uint64_t id, const ProbeReply& reply, Ms now) {
  Effects out;
  if (i >= rooms_.size()) return out;
  RoomState& r = rooms_[i];
  if (stopping_ || !r.probe_in_flight || id != r.probe_id || r.app.state != ProcState::running) return out;
  r.probe_in_flight = false;
  if (auto problem = probe_problem(reply)) {
    log(out, *problem == r.last_probe_problem ? Level::debug : Level::info, i, "app not ready: " + *problem);
    r.last_probe_problem = *problem;
    r.next_probe_at = now + config_.probe_interval;
    finish(now, out);
    return out;
  }
  r.healthy = true;
  r.ready_deadline.reset();
  r.next_probe_at.reset();
  r.app.backoff.on_connected(now);
  log(out, Level::info, i, "app is healthy: answered an authenticated get_state " +
                               std::to_string((now - r.app.started_at).count()) + " ms after it started");
  if (plan_.rooms[i].bridge && r.bridge.state == ProcState::down && !r.bridge.starting &&
      (!r.bridge.restart_at || *r.bridge.restart_at <= now))
    start_bridge(i, now, out);
  finish(now, out);
  return out;
}

Effects Supervisor::on_timer(Ms now) {
  Effects out;
  for (std::size_t i = 0; i < rooms_.size(); ++i) {
    RoomState& r = rooms_[i];
    for (Role role : {Role::bridge, Role::app}) {
      Proc& p = role == Role::app ? r.app : r.bridge;
      if (p.state == ProcState::stopping && !p.killed && p.kill_at && *p.kill_at <= now) {
        log(out, Level::warn, i, std::string(to_string(role)) + " (pid " + std::to_string(p.pid) +
                                     ") did not exit within " + std::to_string(config_.stop_grace.count()) +
                                     " ms of SIGTERM: SIGKILL");
        signal(i, role, p, Sig::kill, now, out);
      }
    }
    if (stopping_) continue;
    if (r.app.state == ProcState::down && !r.app.starting && r.app.restart_at && *r.app.restart_at <= now) {
      start_app(i, now, out);
      continue;
    }
    if (r.app.state == ProcState::running && !r.healthy) {
      if (r.ready_deadline && *r.ready_deadline <= now) {
        r.ready_deadline.reset();
        r.next_probe_at.reset();
        r.probe_in_flight = false;
        log(out, Level::error, i, "app did not answer an authenticated get_state within " +
                                      std::to_string(config_.app_ready_timeout.count()) + " ms (last: " +
                                      (r.last_probe_problem.empty() ? "no probe finished" : r.last_probe_problem) +
                                      "); stopping it to restart");
        r.app.stop_is_failure = true;
        signal(i, Role::app, r.app, Sig::term, now, out);
        continue;
      }
      if (!r.probe_in_flight && r.next_probe_at && *r.next_probe_at <= now) {
        r.next_probe_at.reset();
        r.probe_in_flight = true;
        r.probe_id = next_probe_id_++;
        out.push_back(effect::Probe{i, r.probe_id, plan_.rooms[i].socket_path, r.secret});
      }
    }
    if (plan_.rooms[i].bridge && r.healthy && r.bridge.state == ProcState::down && !r.bridge.starting &&
        r.bridge.restart_at && *r.bridge.restart_at <= now)
      start_bridge(i, now, out);
  }
  finish(now, out);
  return out;
}

Effects Supervisor::request_stop(Ms now) {
  Effects out;
  if (finished_) return out;
  if (stopping_) {
    out.push_back(effect::Log{Level::warn, "", "second stop request: killing everything still running"});
    for (std::size_t i = 0; i < rooms_.size(); ++i)
      for (Role role : {Role::bridge, Role::app}) {
        Proc& p = role == Role::app ? rooms_[i].app : rooms_[i].bridge;
        if (p.state != ProcState::down && !p.killed) signal(i, role, p, Sig::kill, now, out);
      }
    finish(now, out);
    return out;
  }
  stopping_ = true;
  out.push_back(effect::Log{Level::info, "", "stopping: bridges first (SIGTERM, SIGKILL after " +
                                                 std::to_string(config_.stop_grace.count()) + " ms), then apps"});
  for (std::size_t i = 0; i < rooms_.size(); ++i) {
    RoomState& r = rooms_[i];
    r.app.restart_at.reset();
    r.bridge.restart_at.reset();
    r.probe_in_flight = false;
    r.next_probe_at.reset();
    r.ready_deadline.reset();
    if (r.bridge.state == ProcState::running) signal(i, Role::bridge, r.bridge, Sig::term, now, out);
  }
  finish(now, out);
  return out;
}

void Supervisor::advance_stop(Ms now, Effects& out) {
  if (!apps_phase_) {
    for (const auto& r : rooms_)
      if (r.bridge.state != ProcState::down) return;
    apps_phase_ = true;
    out.push_back(effect::Log{Level::info, "", "no bridge is running; stopping the apps"});
    for (std::size_t i = 0; i < rooms_.size(); ++i)
      if (rooms_[i].app.state == ProcState::running) signal(i, Role::app, rooms_[i].app, Sig::term, now, out);
  }
  for (const auto& r : rooms_)
    if (r.app.state != ProcState::down) return;
  if (!finished_) {
    finished_ = true;
    out.push_back(effect::Log{Level::info, "", "all rooms stopped"});
    out.push_back(effect::Finished{});
  }
}

void Supervisor::finish(Ms now, Effects& out) {
  if (stopping_) advance_stop(now, out);
  std::optional<Ms> next;
  auto consider = [&](const std::optional<Ms>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& r : rooms_) {
    for (const Proc* p : {&r.app, &r.bridge})
      if (p->state == ProcState::stopping && !p->killed) consider(p->kill_at);
    if (stopping_) continue;
    if (r.app.state == ProcState::down) consider(r.app.restart_at);
    if (r.app.state == ProcState::running && !r.healthy) {
      consider(r.ready_deadline);
      if (!r.probe_in_flight) consider(r.next_probe_at);
    }
    if (r.healthy && r.bridge.state == ProcState::down) consider(r.bridge.restart_at);
  }
  if (next) out.push_back(effect::WakeAt{*next});
}

RoomView Supervisor::view(std::size_t i) const {
  RoomView v;
  const RoomState& r = rooms_.at(i);
  auto pv = [](const Proc& p) {
    return ProcView{p.state, p.pid, p.backoff.attempt(), p.starts, p.restart_at};
  };
  v.app = pv(r.app);
  v.bridge = pv(r.bridge);
  v.healthy = r.healthy;
  v.secret = r.secret;
  return v;
}

}  // namespace wibwob::orchestrator
