#include "bridge/core/sync_engine.hpp"

#include <utility>

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
namespace room = protocol::room;
using protocol::Json;
using protocol::Layout;

namespace {

std::string base_origin(const EngineConfig& c) { return c.origin.empty() ? "b" + std::to_string(c.seed) : c.origin; }

const char* verb(WindowCommand::Kind k) {
  switch (k) {
    case WindowCommand::Kind::create: return "create";
    case WindowCommand::Kind::move: return "move";
    case WindowCommand::Kind::resize: return "resize";
    case WindowCommand::Kind::close: return "close";
  }
  return "?";
}

}  // namespace

SyncEngine::SyncEngine(EngineConfig config)
    : cfg_(std::move(config)),
      rng_(cfg_.seed),
      backoff_(cfg_.backoff),
      ledger_(cfg_.limits),
      mirror_(base_origin(cfg_)),
      reconciler_(CreatePolicy{cfg_.allowed_path_prefixes}),
      chat_(cfg_.max_chat_queue, cfg_.max_presence) {}

// --- lifecycle -----------------------------------------------------------------

Effects SyncEngine::start(Ms now) {
  Effects out;
  log(out, LogLevel::info, "bridge engine starting: origin " + origin() + ", poll every " +
                               std::to_string(cfg_.poll_interval.count()) + " ms" +
                               (cfg_.sync_layout ? "" : ", layout sync off (chat and presence only)"));
  next_poll_at_ = now;
  next_chat_at_ = now;
  link_ = Link::connecting;
  ++stats_.connects;
  out.emplace_back(effect::ConnectRoom{});
  pump(out);
  return out;
}

std::optional<Ms> SyncEngine::next_deadline() const {
  std::optional<Ms> d = next_poll_at_;
  auto consider = [&](std::optional<Ms> t) {
    if (t && *t < *d) d = t;
  };
  if (cfg_.relay_chat) consider(next_chat_at_);
  consider(connect_at_);
  consider(sync_deadline_);
  return d;
}

Effects SyncEngine::on_timer(Ms now) {
  Effects out;
  if (now >= next_poll_at_) {
    poll_wanted_ = true;
    next_poll_at_ = now + cfg_.poll_interval;
  }
  if (cfg_.relay_chat && now >= next_chat_at_) {
    chat_.want_pending();
    next_chat_at_ = now + cfg_.chat_poll_interval;
  }
  if (connect_at_ && now >= *connect_at_) {
    connect_at_.reset();
    link_ = Link::connecting;
    ++stats_.connects;
    out.emplace_back(effect::ConnectRoom{});
  }
  if (sync_deadline_ && now >= *sync_deadline_) {
    sync_deadline_.reset();
    close_room("no state_sync within " + std::to_string(cfg_.sync_timeout.count()) + " ms", out);
  }
  pump(out);
  return out;
}

bool SyncEngine::idle() const noexcept {
  if (inflight_ || pending_deltas() != 0) return false;
  if (!cfg_.sync_layout) return true;
  if (!mirror_.adopted() || link_ != Link::synced) return false;
  const Layout t = target();
  const Layout& app = mirror_.believed();
  for (const auto& [id, w] : t)
    if (!reconciler_.refused(id) && (!app.count(id) || !app.at(id).same_synced(w))) return false;
  for (const auto& [id, w] : app)
    if (!t.count(id)) return false;
  return true;
}

std::optional<std::int64_t> SyncEngine::confirmed_version() const {
  if (!ledger_.confirmed()) return std::nullopt;
  return ledger_.confirmed()->version;
}

Layout SyncEngine::target() const { return typed_view(ledger_.target_state(), cfg_.limits); }

// --- room side -------------------------------------------------------------------

Effects SyncEngine::on_room_open(Ms now) {
  Effects out;
  link_ = Link::open_unsynced;
  backoff_.on_connected(now);
  sync_deadline_ = now + cfg_.sync_timeout;
  log(out, LogLevel::info, "room connection open; waiting for state_sync");
  return out;
}

Effects SyncEngine::on_room_closed(Ms now) {
  Effects out;
  if (link_ == Link::down) return out;  // already handled
  const bool was_synced = link_ == Link::synced;
  link_ = Link::down;
  sync_deadline_.reset();
  ledger_.on_connection_lost();
  chat_.on_link_down();
  schedule_reconnect(now, out);
  if (was_synced)
    log(out, LogLevel::warn, "room connection lost; " + std::to_string(pending_deltas()) + " local change(s) kept for re-send");
  pump(out);
  return out;
}

void SyncEngine::schedule_reconnect(Ms now, Effects& out) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const Ms delay = backoff_.on_failure(now, u(rng_));
  connect_at_ = now + delay;
  log(out, LogLevel::info, "reconnecting in " + std::to_string(delay.count()) + " ms (attempt " +
                               std::to_string(backoff_.attempt()) + ")");
}

void SyncEngine::close_room(const std::string& reason, Effects& out) {
  link_ = Link::closing;  // nothing more is read from this connection
  sync_deadline_.reset();
  out.emplace_back(effect::CloseRoom{reason});
}

Effects SyncEngine::on_room_message(std::string_view text, Ms now) {
  Effects out;
  if (link_ != Link::open_unsynced && link_ != Link::synced) return out;  // closing: late frames
  auto msg = room::decode(text, cfg_.limits);
  if (!msg) {
    ++stats_.bad_room_messages;
    log_once(out, std::string("room:") + protocol::to_string(msg.error().code), LogLevel::warn,
             "skipping malformed room message: " + protocol::to_string(msg.error()) +
                 " (further ones of this kind are counted, not logged)");
    return out;
  }
  dispatch_room(std::move(*msg), now, out);
  pump(out);
  return out;
}

void SyncEngine::dispatch_room(room::Message&& msg, Ms now, Effects& out) {
  (void)now;
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, room::StateSync>) {
          handle_state_sync(std::move(m), out);
        } else if constexpr (std::is_same_v<T, room::StateDelta>) {
          handle_remote_delta(m, out);
        } else if constexpr (std::is_same_v<T, room::Pong>) {
          handle_pong(out);
        } else if constexpr (std::is_same_v<T, room::Presence>) {
          chat_.on_presence(m);
        } else if constexpr (std::is_same_v<T, room::ChatMsg>) {
          handle_chat(std::move(m), out);
        } else if constexpr (std::is_same_v<T, room::Rename>) {
          chat_.on_rename(m);
        } else if constexpr (std::is_same_v<T, room::Unknown>) {
          log_once(out, "room:unknown:" + m.type.substr(0, 32), LogLevel::debug,
                   "ignoring room message of unknown type '" + m.type.substr(0, 32) + "'");
        }
        // ping and cursor_pos from the room carry nothing for the bridge.
      },
      std::move(msg));
}

void SyncEngine::handle_state_sync(room::StateSync&& m, Effects& out) {
  sync_deadline_.reset();
  const bool first = !ledger_.has_state();
  std::uint64_t skipped = 0;
  (void)typed_view(m.state, cfg_.limits, &skipped);
  log(out, LogLevel::info, std::string(first ? "joined" : "rejoined") + " room '" + m.room + "' at version " +
                               std::to_string(m.state.version) + " with " + std::to_string(m.state.windows.size()) +
                               " window(s)" + (skipped ? " (" + std::to_string(skipped) + " not usable here)" : ""));
  link_ = Link::synced;
  auto resend = ledger_.on_state_sync(std::move(m.state));
  if (!cfg_.sync_layout) {
    ledger_.forget_local();
    return;
  }
  // Sent but not proven sequenced, then changed offline: re-sent, minus what
  // the fresh state already shows.
  for (auto& d : resend) send_delta(std::move(d), out);
  if (!resend.empty())
    log(out, LogLevel::info, "re-sent " + std::to_string(resend.size()) + " local change(s) after (re)connect");
  if (!mirror_.adopted() && mirror_.has_poll()) adopt(out);
}

void SyncEngine::handle_remote_delta(const room::StateDelta& m, Effects& out) {
  if (!cfg_.sync_layout || link_ != Link::synced) return;  // before state_sync: cannot place it
  if (!m.version) {
    ++stats_.bad_room_messages;
    log_once(out, "room:delta-no-version", LogLevel::warn, "skipping state_delta without version");
    return;
  }
  auto placed = ledger_.on_remote_delta(*m.version, m.delta ? &*m.delta : nullptr);
  if (!placed.ok) {
    ++stats_.resyncs;
    log(out, LogLevel::warn, "lost track of the room's order (" + placed.why + "); reconnecting for a fresh state_sync");
    close_room("resync: " + placed.why, out);
    return;
  }
  ++stats_.deltas_received;
  if (placed.content_skipped) {
    ++stats_.bad_room_messages;
    log_once(out, "room:delta-content", LogLevel::warn,
             "a remote delta had entries this bridge cannot use; they are kept in the room state but not applied");
  }
}

void SyncEngine::handle_pong(Effects& out) {
  ledger_.on_pong();
  if (!ledger_.confirmed()) return;
  const auto bytes = ledger_.confirmed()->to_json().dump().size();
  if (bytes > cfg_.state_warn_bytes)
    log_once(out, "room:state-size", LogLevel::error,
             "the room state is " + std::to_string(bytes / 1024) +
                 " KiB; the room server stops saving and broadcasting past 128 KiB. Close windows to stay under it.");
}

void SyncEngine::handle_chat(room::ChatMsg&& m, Effects& out) {
  if (!cfg_.relay_chat) return;
  auto c = chat_.on_chat(std::move(m));
  stats_.chat_dropped += c.dropped;
  if (c.overflowed)
    log_once(out, "chat:overflow", LogLevel::warn, "incoming chat faster than the app takes it; dropping oldest");
}

void SyncEngine::send_room(const room::Message& m, Effects& out) {
  auto text = room::encode(m);
  if (!text) {
    log(out, LogLevel::error, "cannot send " + std::string(room::type_name(m)) + ": " + protocol::to_string(text.error()));
    return;
  }
  out.emplace_back(effect::SendRoom{std::move(*text)});
}

void SyncEngine::send_delta(Json delta, Effects& out) {
  if (link_ != Link::synced) {
    ledger_.on_offline(std::move(delta));
    return;
  }
  auto text = room::encode(room::Message{room::StateDelta{delta, std::nullopt, std::nullopt}});
  if (!text) {
    log(out, LogLevel::error, "local change too large to send (" + protocol::to_string(text.error()) + "); dropped");
    return;
  }
  ledger_.on_sent(std::move(delta));
  out.emplace_back(effect::SendRoom{std::move(*text)});
  ++stats_.deltas_sent;
  // The barrier: its pong proves this delta was sequenced.
  send_room(room::Message{room::Ping{}}, out);
}

// --- app side --------------------------------------------------------------------

Effects SyncEngine::on_ipc_event(std::string_view line, Ms now) {
  (void)now;
  Effects out;
  auto ev = ipc::parse_event_line(line);
  if (!ev) {
    ++stats_.bad_ipc_replies;
    log_once(out, "ipc:event", LogLevel::warn, "skipping malformed IPC event line: " + protocol::to_string(ev.error()));
    return out;
  }
  // Any window event may be a change a poll would only see later: poll now.
  if (std::holds_alternative<ipc::Event>(*ev)) poll_wanted_ = true;
  pump(out);
  return out;
}

Effects SyncEngine::on_app_unreachable(Ms now) {
  (void)now;
  Effects out;
  if (!mirror_.unreachable()) log(out, LogLevel::warn, "app not reachable over IPC (event subscription refused)");
  mirror_.mark_unreachable();
  pump(out);
  return out;
}

Effects SyncEngine::on_ipc_reply(std::uint64_t id, const IpcOutcome& o, Ms now) {
  (void)now;
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
  if (auto* cmd = std::get_if<WindowCommand>(&op)) reconciler_.block(cmd->room_id);
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
  if (auto restart = mirror_.observe_poll(std::move(state->windows))) {
    ++stats_.app_restarts;
    log(out, LogLevel::warn, "app restart detected (" + *restart + "): old window mapping discarded");
  }
  reconciler_.on_poll(target());
  if (!cfg_.sync_layout) return;
  if (!mirror_.adopted()) {
    if (ledger_.has_state()) adopt(out);
    return;
  }
  const protocol::Delta d = mirror_.take_local_changes();
  if (d.empty()) return;
  send_delta(protocol::to_json(d), out);
  log(out, LogLevel::debug, "local change: +" + std::to_string(d.add.size()) + " ~" + std::to_string(d.update.size()) +
                                " -" + std::to_string(d.remove.size()));
}

void SyncEngine::adopt(Effects& out) {
  // First contact between this app and the room (bridge start, app restart):
  // match local windows to room windows by content, push the rest.
  auto a = mirror_.adopt(target());
  log(out, LogLevel::info, "matched " + std::to_string(a.matched) + " local window(s) to the room, pushing " +
                               std::to_string(a.push.add.size()) + " new one(s)");
  if (!a.push.empty()) send_delta(protocol::to_json(a.push), out);
}

void SyncEngine::handle_window_reply(const WindowCommand& cmd, const IpcOutcome& o, Effects& out) {
  using Kind = WindowCommand::Kind;
  const auto r = ipc::classify_reply(o.text);
  const bool ok = r.kind == ipc::ReplyKind::success || r.kind == ipc::ReplyKind::ok;
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

void SyncEngine::issue(Op op, std::string line, Effects& out) {
  const std::uint64_t id = next_ipc_id_++;
  ++stats_.ipc_commands;
  inflight_.emplace(id, std::move(op));
  out.emplace_back(effect::SendIpc{id, std::move(line)});
}

// Polls first (they are how the bridge sees the app), then window commands,
// then chat: one request at a time on the app's single IPC slot.
void SyncEngine::pump(Effects& out) {
  if (inflight_) return;
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
  const Layout t = target();
  while (auto step = reconciler_.next_step(t, mirror_)) {
    if (auto* cmd = std::get_if<WindowCommand>(&*step)) {
      std::string line = std::move(cmd->line);
      issue(std::move(*cmd), std::move(line), out);
      return true;
    }
    if (auto* refusal = std::get_if<Refusal>(&*step)) {
      ++stats_.uncreatable;
      log_once(out, "uncreatable:" + refusal->why, LogLevel::info,
               "room window " + refusal->room_id + " (" + refusal->type + ") is not shown here: " + refusal->why);
      reconciler_.refuse(*refusal);
    } else {
      reconciler_.block(std::get<Deferral>(*step).room_id);
    }
  }
  return false;
}

bool SyncEngine::pump_chat(Effects& out) {
  if (!cfg_.relay_chat) return false;
  ChatRelay::Counts counts;
  auto req = chat_.take_request(link_ == Link::synced, counts);
  stats_.chat_dropped += counts.dropped;
  if (counts.too_long)
    log_once(out, "chat:too-long", LogLevel::warn, "a room chat message is too long for the app's IPC; dropped");
  if (!req) return false;
  issue(req->kind, std::move(req->line), out);
  return true;
}

// --- logging ---------------------------------------------------------------------

void SyncEngine::log(Effects& out, LogLevel level, std::string text) {
  out.emplace_back(effect::Log{level, std::move(text)});
}

void SyncEngine::log_once(Effects& out, const std::string& kind, LogLevel level, std::string text) {
  if (logged_kinds_.size() < 1024 && logged_kinds_.insert(kind).second) log(out, level, std::move(text));
}

}  // namespace wibwob::bridge
