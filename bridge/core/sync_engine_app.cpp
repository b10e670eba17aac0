// SyncEngine, app side: IPC replies and events, the poll that finds local
// changes, adoption, and the order in which polls, window commands and chat
// take the app's single IPC slot. (The room side is in sync_engine.cpp.)
#include "bridge/core/sync_engine.hpp"

#include <algorithm>

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
namespace room = protocol::room;
using protocol::Layout;

namespace {

const char* verb(WindowCommand::Kind k) {
  switch (k) {
    case WindowCommand::Kind::create: return "create";
    case WindowCommand::Kind::move: return "move";
    case WindowCommand::Kind::resize: return "resize";
    case WindowCommand::Kind::close: return "close";
  }
  return "?";
}

// A person moved or resized a window the room has already removed (the
// close is still on its way to the app): the change is made on a window
// that no longer exists in the room, so it must not bring it back. The
// reconciler closes the window.
void drop_updates_of_removed(protocol::Delta& d, const Layout& target) {
  std::erase_if(d.update, [&](const protocol::Window& w) { return !target.count(w.id); });
}

}  // namespace

// --- app side --------------------------------------------------------------------

Effects SyncEngine::on_ipc_event(std::string_view line, Ms now) {
  now_ = now;
  Effects out;
  auto ev = ipc::parse_event_line(line);
  if (!ev) {
    ++stats_.bad_ipc_replies;
    log_once(out, "ipc:event", LogLevel::warn, "skipping malformed IPC event line: " + protocol::to_string(ev.error()));
    return out;
  }
  auto* e = std::get_if<ipc::Event>(&*ev);
  if (!e) {
    pump(out);
    return out;
  }
  // The app numbers events per process from 1: a sequence that starts over
  // is a new app process (ids are no proof: they come back within one).
  if (last_event_seq_ && e->seq <= *last_event_seq_) {
    log(out, LogLevel::info, "the app's event sequence started over: a new app process");
    mirror_.mark_unreachable();
    poll_wanted_ = true;
  }
  last_event_seq_ = e->seq;
  // A window event may be a change a poll would only see later: poll now,
  // unless the bridge's own command caused it.
  if (!own_events_.consume(e->window_id())) poll_wanted_ = true;
  pump(out);
  return out;
}

Effects SyncEngine::on_app_unreachable(Ms now) {
  now_ = now;
  Effects out;
  if (!mirror_.unreachable()) log(out, LogLevel::warn, "app not reachable over IPC (event subscription refused)");
  mirror_.mark_unreachable();
  pump(out);
  return out;
}

Effects SyncEngine::on_ipc_reply(std::uint64_t id, const IpcOutcome& o, Ms now) {
  now_ = now;
  Effects out;
  if (!inflight_ || inflight_->first != id) {
    log(out, LogLevel::error, "IPC reply " + std::to_string(id) + " matches no request in flight (a shell bug); ignored");
    return out;
  }
  const Op op = std::move(inflight_->second);
  inflight_.reset();
  if (o.failure != IpcFailure::none) {
    handle_ipc_failure(op, o, out);
  } else if (std::holds_alternative<Poll>(op)) {
    handle_poll_reply(o, out);
  } else if (auto* cmd = std::get_if<WindowCommand>(&op)) {
    handle_window_reply(*cmd, o, out);
  } else {
    handle_chat_reply(std::get<ChatRelay::Kind>(op), o, out);
  }
  pump(out);
  return out;
}

void SyncEngine::handle_ipc_failure(const Op& op, const IpcOutcome& o, Effects& out) {
  ++stats_.ipc_failures;
  if (o.failure == IpcFailure::unreachable) {
    if (!mirror_.unreachable()) log(out, LogLevel::warn, "app not reachable over IPC (" + o.text + "); will keep polling");
    mirror_.mark_unreachable();
  } else {
    log_once(out, "ipc:failure:" + std::to_string(static_cast<int>(o.failure)), LogLevel::warn,
             "IPC request failed: " + o.text);
  }
  // A window command that failed waits for the next poll; a chat line that
  // was not shown stays at the front of the inbox.
  if (auto* cmd = std::get_if<WindowCommand>(&op)) {
    reconciler_.block(cmd->room_id);
    settle_own_event(*cmd, false, std::nullopt);
  }
  if (auto* kind = std::get_if<ChatRelay::Kind>(&op)) chat_.on_request_failed(*kind);
}

void SyncEngine::handle_poll_reply(const IpcOutcome& o, Effects& out) {
  auto state = ipc::parse_get_state(o.text);
  if (!state) {
    ++stats_.bad_ipc_replies;
    log_once(out, "ipc:get_state", LogLevel::warn,
             "skipping an unparsable get_state reply (" + protocol::to_string(state.error()) +
                 "); retrying at the next poll");
    return;
  }
  ++stats_.polls;
  const bool was_unreachable = mirror_.unreachable();
  chat_window_open_ = std::any_of(state->windows.begin(), state->windows.end(),
                                  [](const ipc::AppWindow& a) { return a.type == "room_chat"; });
  const auto restart = mirror_.observe_poll(std::move(state->windows));
  if (restart) {
    ++stats_.app_restarts;
    log(out, LogLevel::warn, "app restart detected (" + *restart + "): old window mapping discarded");
  }
  if (restart || was_unreachable) chat_.on_new_app_process();
  // The new process numbers its events from 1 again.
  if (restart) last_event_seq_.reset();
  reconciler_.on_poll(target());
  own_events_.on_poll();
  if (!cfg_.sync_layout) return;
  if (!mirror_.adopted()) {
    resume_or_adopt(out);
    if (!mirror_.adopted()) return;
  }
  protocol::Delta d = mirror_.take_local_changes();
  drop_updates_of_removed(d, target());
  if (d.empty()) return;
  send_delta(d, out);
  log(out, LogLevel::debug, "local change: +" + std::to_string(d.add.size()) + " ~" + std::to_string(d.update.size()) +
                                " -" + std::to_string(d.remove.size()));
}

void SyncEngine::adopt(Effects& out) {
  // First contact between this app and the room (bridge start, app restart):
  // match local windows to room windows by content, push the rest.
  auto a = mirror_.adopt(target());
  log(out, LogLevel::info, "matched " + std::to_string(a.matched) + " local window(s) to the room, pushing " +
                               std::to_string(a.push.add.size()) + " new one(s)");
  if (!a.push.empty()) send_delta(a.push, out);
}

// The first poll of this bridge run: the previous run's mapping when it was
// made for this app process and this room, else adoption by content once
// the room's state is known.
void SyncEngine::resume_or_adopt(Effects& out) {
  if (resume_) {
    Handover h = std::move(*resume_);
    resume_.reset();
    if (h.app_key.empty() || h.app_key != mirror_.app_key()) {
      log(out, LogLevel::info, "the previous bridge run's mapping is for another app process; matching by content");
    } else if (h.room_key != cfg_.room_key) {
      log(out, LogLevel::info, "the previous bridge run's mapping is for another room; matching by content");
    } else {
      mirror_.resume(h);
      log(out, LogLevel::info, "resumed the previous bridge run's mapping of " +
                                   std::to_string(h.room_to_local.size()) + " window(s)");
      return;
    }
  }
  if (ledger_.has_state()) adopt(out);
}

std::optional<Handover> SyncEngine::take_handover() {
  // Nothing to hand over before this run adopted the app, and the previous
  // run's handover must survive until it is resumed.
  if (!cfg_.sync_layout || resume_ || !mirror_.adopted()) return std::nullopt;
  const WindowCommand* creating = nullptr;
  if (inflight_)
    if (const auto* cmd = std::get_if<WindowCommand>(&inflight_->second); cmd && cmd->kind == WindowCommand::Kind::create)
      creating = cmd;
  const std::pair<std::uint64_t, std::uint64_t> now{mirror_.revision(), creating ? inflight_->first : 0};
  if (handover_taken_ == now) return std::nullopt;
  handover_taken_ = now;
  Handover h = mirror_.handover();
  h.room_key = cfg_.room_key;
  if (creating) h.creating[creating->room_id] = creating->target;
  return h;
}

Effects SyncEngine::on_app_identity(std::string key, Ms now) {
  now_ = now;
  Effects out;
  if (mirror_.set_app_key(std::move(key))) {
    log(out, LogLevel::info, "the app's identity changed: a new process (the next poll re-adopts it)");
    poll_wanted_ = true;
  }
  pump(out);
  return out;
}

void SyncEngine::handle_window_reply(const WindowCommand& cmd, const IpcOutcome& o, Effects& out) {
  using Kind = WindowCommand::Kind;
  const auto r = ipc::classify_reply(o.text);
  const bool ok = r.kind == ipc::ReplyKind::success || r.kind == ipc::ReplyKind::ok;
  settle_own_event(cmd, ok, r.id);
  if (cmd.kind == Kind::create && !ok) {
    ++stats_.uncreatable;
    reconciler_.refuse(Refusal{cmd.room_id, cmd.target.type, "the app refused: " + r.message});
    log_once(out, "create:" + cmd.target.type, LogLevel::warn,
             "app refused to create a '" + cmd.target.type + "' window (" + r.message +
                 "); it stays in the room, not shown here");
    return;
  }
  const bool gone = cmd.kind == Kind::close && r.kind == ipc::ReplyKind::failure && r.message == "Window not found";
  if (!ok && !gone) {
    reconciler_.block(cmd.room_id);  // the next poll tells what happened
    if (cmd.kind != Kind::close) poll_wanted_ = true;
    log(out, LogLevel::debug, std::string(verb(cmd.kind)) + " of " + cmd.room_id + " failed: " + r.message);
    return;
  }
  switch (cmd.kind) {
    case Kind::create:
      mirror_.on_created(cmd.room_id, cmd.target, r.id);
      if (!r.id) poll_wanted_ = true;  // the id comes with the next poll
      break;
    case Kind::move: mirror_.on_moved(cmd.room_id, cmd.target.x, cmd.target.y); break;
    case Kind::resize: mirror_.on_resized(cmd.room_id, cmd.target.w, cmd.target.h); break;
    case Kind::close: mirror_.on_closed(cmd.room_id); break;
  }
}

void SyncEngine::handle_chat_reply(ChatRelay::Kind kind, const IpcOutcome& o, Effects& out) {
  auto d = chat_.on_reply(kind, o, origin());
  for (auto& m : d.to_room) {
    send_room(room::Message{std::move(m)}, out);
    ++stats_.chat_out;
  }
  if (d.delivered) ++stats_.chat_in;
  if (d.bad_reply) ++stats_.bad_ipc_replies;
  if (!d.refused.empty())
    log_once(out, "ipc:chat:" + std::to_string(static_cast<int>(kind)), LogLevel::info,
             "app did not take room chat or presence: " + d.refused);
}

// --- the IPC slot ------------------------------------------------------------------

void SyncEngine::expect_own_event(const WindowCommand& cmd) {
  if (cmd.kind == WindowCommand::Kind::create)
    own_events_.create_sent();
  else if (auto local = mirror_.local_id_of(cmd.room_id))
    own_events_.change_sent(*local);
}

void SyncEngine::settle_own_event(const WindowCommand& cmd, bool ok, const std::optional<std::string>& id) {
  if (cmd.kind == WindowCommand::Kind::create) {
    if (own_events_.create_done(ok ? id : std::nullopt)) poll_wanted_ = true;
  } else if (auto local = mirror_.local_id_of(cmd.room_id)) {
    own_events_.change_done(*local, ok);
  }
}

void SyncEngine::issue(Op op, std::string line, Effects& out) {
  const std::uint64_t id = next_ipc_id_++;
  (void)ipc_rate_.try_take(now_);  // pump() saw a token available
  ++stats_.ipc_commands;
  inflight_.emplace(id, std::move(op));
  out.emplace_back(effect::SendIpc{id, std::move(line)});
}

// Polls first (they are how the bridge sees the app), then window commands,
// then chat: one request at a time on the app's single IPC slot.
void SyncEngine::pump(Effects& out) {
  if (inflight_ || throttled_until_) return;
  // The app serves one connection per 20 ms UI tick for everyone: leave
  // room for the person's tools (max_ipc_per_second).
  if (const Ms next = ipc_rate_.next_available(now_); next > now_) {
    throttled_until_ = next;
    ++stats_.ipc_throttled;
    return;
  }
  if (poll_wanted_) {
    poll_wanted_ = false;
    if (auto line = ipc::build_request("get_state", {})) return issue(Poll{}, std::move(*line), out);
  }
  if (mirror_.unreachable()) return;  // only polls probe a missing app
  if (pump_windows(out)) return;
  pump_chat(out);
}

bool SyncEngine::pump_windows(Effects& out) {
  if (!cfg_.sync_layout || !mirror_.adopted() || !ledger_.has_state()) return false;
  const Layout& t = target();  // nothing below changes the ledger
  while (auto step = reconciler_.next_step(t, mirror_)) {
    if (auto* cmd = std::get_if<WindowCommand>(&*step)) {
      expect_own_event(*cmd);
      std::string line = std::move(cmd->line);
      issue(std::move(*cmd), std::move(line), out);
      return true;
    }
    if (auto* refusal = std::get_if<Refusal>(&*step)) {
      ++stats_.uncreatable;
      log_once(out, "uncreatable:" + refusal->why, LogLevel::info,
               "room window " + refusal->room_id + " (" + refusal->type + ") is not shown here: " + refusal->why);
      reconciler_.refuse(*refusal);
    } else if (auto* held = std::get_if<OverBound>(&*step)) {
      if (reconciler_.hold(held->room_id)) ++stats_.over_window_bound;
      log_once(out, "window-bound", LogLevel::warn,
               "the room has more windows than this desktop shows from it (" + std::to_string(cfg_.max_room_windows) +
                   "); the rest are held back and counted (--max-room-windows)");
    } else {
      reconciler_.block(std::get<Deferral>(*step).room_id);
    }
  }
  return false;
}

bool SyncEngine::pump_chat(Effects& out) {
  if (!cfg_.relay_chat) return false;
  ChatRelay::Counts counts;
  auto req = chat_.take_request(link_ == Link::synced, chat_window_open_, counts);
  stats_.chat_dropped += counts.dropped;
  if (counts.too_long)
    log_once(out, "chat:too-long", LogLevel::warn, "a room chat message is too long for the app's IPC; dropped");
  if (!req) return false;
  issue(req->kind, std::move(req->line), out);
  return true;
}

}  // namespace wibwob::bridge
