#include "bridge/core/sync_engine.hpp"

#include <algorithm>
#include <utility>

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
namespace room = protocol::room;
using protocol::Json;
using protocol::Layout;

namespace {

// (Built in steps: GCC 12 at -O3 sees a false memcpy overflow in the
// inlined `"b" + std::to_string(...)`.)
std::string base_origin(const EngineConfig& c) {
  if (!c.origin.empty()) return c.origin;
  std::string o = std::to_string(c.seed);
  o.insert(o.begin(), 'b');
  return o;
}


}  // namespace

SyncEngine::SyncEngine(EngineConfig config)
    : cfg_(std::move(config)),
      rng_(cfg_.seed),
      backoff_(cfg_.backoff),
      ledger_(cfg_.limits, base_origin(cfg_), cfg_.resend_rule),
      mirror_(base_origin(cfg_)),
      reconciler_(CreatePolicy{cfg_.paths, cfg_.max_room_windows}),
      chat_(cfg_.max_chat_queue, cfg_.max_presence, TokenBucket(cfg_.max_chat_per_second, cfg_.chat_burst)),
      ipc_rate_(cfg_.max_ipc_per_second, cfg_.ipc_burst) {}

// --- lifecycle -----------------------------------------------------------------

Effects SyncEngine::start(Ms now) {
  now_ = now;
  Effects out;
  log(out, LogLevel::info, "bridge engine starting: origin " + origin() + ", poll every " +
                               std::to_string(cfg_.poll_interval.count()) + " ms" +
                               (cfg_.sync_layout ? "" : ", layout sync off (chat and presence only)"));
  mirror_.set_app_key(cfg_.app_key);
  if (cfg_.sync_layout) resume_ = std::move(cfg_.handover);
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
  consider(throttled_until_);
  consider(connect_at_);
  consider(sync_deadline_);
  return d;
}

Effects SyncEngine::on_timer(Ms now) {
  now_ = now;
  Effects out;
  if (throttled_until_ && now >= *throttled_until_) throttled_until_.reset();
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
  if (inflight_ || throttled_until_ || pending_deltas() != 0) return false;
  if (cfg_.relay_chat && chat_.has_work(chat_window_open_)) return false;
  if (!cfg_.sync_layout) return true;
  // A new app process (or an unreachable app) is not adopted yet.
  if (!mirror_.adopted() || mirror_.unreachable() || link_ != Link::synced) return false;
  const Layout& t = target();
  const Layout& app = mirror_.believed();
  for (const auto& [id, w] : t)
    if (!reconciler_.excused(id) && (!app.count(id) || !app.at(id).same_synced(w))) return false;
  for (const auto& [id, w] : app)
    if (!t.count(id)) return false;
  return true;
}

std::optional<std::int64_t> SyncEngine::confirmed_version() const {
  if (!ledger_.confirmed()) return std::nullopt;
  return ledger_.confirmed()->version;
}

const Layout& SyncEngine::target() const {
  if (!target_ || target_->first != ledger_.revision())
    target_.emplace(ledger_.revision(), typed_view(ledger_.target_state(), cfg_.limits));
  return target_->second;
}

// --- room side -------------------------------------------------------------------

Effects SyncEngine::on_room_open(Ms now) {
  now_ = now;
  Effects out;
  link_ = Link::open_unsynced;
  backoff_.on_connected(now);
  sync_deadline_ = now + cfg_.sync_timeout;
  log(out, LogLevel::info, "room connection open; waiting for state_sync");
  return out;
}

Effects SyncEngine::on_room_closed(Ms now) {
  now_ = now;
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
  now_ = now;
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
          handle_presence(m, out);
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
  notice_legacy_ids(m.state, out);
  auto r = ledger_.on_state_sync(std::move(m.state));
  if (!cfg_.sync_layout) {
    ledger_.forget_local();
    return;
  }
  // Sent but not proven sequenced, and changed offline: folded into one
  // entry per window, minus what the fresh state already shows (RoomLedger).
  stats_.unproven_windows += r.unproven;
  stats_.unproven_dropped += r.unproven_dropped;
  if (r.delta) {
    ++stats_.resent_deltas;
    stats_.resent_entries += r.entries;
    stats_.resent_entries_peak = std::max<std::uint64_t>(stats_.resent_entries_peak, r.entries);
    send_tagged(std::move(*r.delta), out);
  }
  if (r.unproven || r.offline)
    log(out, LogLevel::info,
        "after (re)connect: " + std::to_string(r.entries) + " window change(s) sent in " + (r.delta ? "one delta" : "no delta") +
            " (windows: " + std::to_string(r.offline) + " changed offline, " + std::to_string(r.unproven) +
            " sent without proof of which " + std::to_string(r.unproven_dropped) +
            " not re-sent as the room shows a later write)");
  remove_came_back(out);
  if (!mirror_.adopted() && mirror_.has_poll()) adopt(out);
}

// Windows this bridge saw removed came back (a late re-send, or a move
// sequenced after the removal): remove them again, as the removal decided.
void SyncEngine::remove_came_back(Effects& out) {
  const auto ids = ledger_.take_came_back();
  if (ids.empty()) return;
  stats_.came_back += ids.size();
  log(out, LogLevel::info, "window " + ids.front() + (ids.size() > 1 ? " and " + std::to_string(ids.size() - 1) + " more" : "") +
                               " removed earlier is back (a late re-send or a move sequenced after the removal): removing it again");
  protocol::Delta d;
  d.remove = ids;
  send_delta(d, out);
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
  remove_came_back(out);
  if (!mixed_room_ && m.delta) {
    protocol::RoomState added;  // only what this delta adds or updates
    protocol::apply_room_delta(added, &*m.delta);
    notice_legacy_ids(added, out);
  }
  if (placed.content_skipped) {
    ++stats_.bad_room_messages;
    log_once(out, "room:delta-content", LogLevel::warn,
             "a remote delta had entries this bridge cannot use; they are kept in the room state but not applied");
  }
}

// The earlier Python bridge puts its local ids ("w3") into the room as they
// are. It can apply changes only to windows whose ids it knows, so windows
// from this bridge ("<origin>:w3") do not reach its app: say so once, and
// show it in the status (docs/bridge.md, "Mixed rooms").
void SyncEngine::notice_legacy_ids(const protocol::RoomState& state, Effects& out) {
  if (mixed_room_) return;
  for (const auto& [id, w] : state.windows) {
    if (!protocol::ipc::is_app_window_id(id)) continue;
    mixed_room_ = true;
    log(out, LogLevel::warn,
        "a member of this room runs the earlier bridge (window id '" + id +
            "'): changes from here do not reach its desktop. Upgrade every instance of the room together.");
    return;
  }
}

void SyncEngine::handle_pong(Effects& out) {
  ledger_.on_pong();
  remove_came_back(out);
  if (!ledger_.confirmed()) return;
  const auto bytes = ledger_.confirmed()->to_json().dump().size();
  if (bytes > cfg_.state_warn_bytes)
    log_once(out, "room:state-size", LogLevel::error,
             "the room state is " + std::to_string(bytes / 1024) +
                 " KiB; the room server stops saving and broadcasting past 128 KiB. Close windows to stay under it.");
}

void SyncEngine::handle_chat(room::ChatMsg&& m, Effects& out) {
  if (!cfg_.relay_chat) return;
  auto c = chat_.on_chat(std::move(m), now_);
  stats_.chat_dropped += c.dropped;
  if (c.rate_limited) ++stats_.chat_over_rate;
  if (c.overflowed)
    log_once(out, "chat:overflow", LogLevel::warn, "incoming chat faster than the app takes it; dropping oldest");
  if (c.rate_limited)
    log_once(out, "chat:rate", LogLevel::warn,
             "room chat over " + std::to_string(cfg_.max_chat_per_second) +
                 " lines/s; lines over the rate are dropped and counted (--max-chat-per-second)");
}

void SyncEngine::handle_presence(const room::Presence& p, Effects& out) {
  auto c = chat_.on_presence(p);
  stats_.presence_skipped += c.presence_skipped;
  if (c.presence_skipped)
    log_once(out, "presence:bound", LogLevel::warn,
             "the room lists more than " + std::to_string(cfg_.max_presence) +
                 " participants; the rest are not shown (--max-presence)");
}

void SyncEngine::send_room(const room::Message& m, Effects& out) {
  auto text = room::encode(m);
  if (!text) {
    log(out, LogLevel::error, "cannot send " + std::string(room::type_name(m)) + ": " + protocol::to_string(text.error()));
    return;
  }
  out.emplace_back(effect::SendRoom{std::move(*text)});
}

void SyncEngine::send_delta(const protocol::Delta& change, Effects& out) {
  if (link_ != Link::synced) {
    ledger_.on_offline(change);
    ++stats_.offline_changes;
    stats_.offline_peak = std::max<std::uint64_t>(stats_.offline_peak, ledger_.offline());
    return;
  }
  send_tagged(ledger_.tag(protocol::to_json(change)), out);
}

void SyncEngine::send_tagged(Json delta, Effects& out) {
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

// --- logging ---------------------------------------------------------------------

void SyncEngine::log(Effects& out, LogLevel level, std::string text) {
  out.emplace_back(effect::Log{level, std::move(text)});
}

void SyncEngine::log_once(Effects& out, const std::string& kind, LogLevel level, std::string text) {
  if (logged_kinds_.size() < 1024 && logged_kinds_.insert(kind).second) log(out, level, std::move(text));
}

}  // namespace wibwob::bridge
