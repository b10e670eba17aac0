#include "bridge/core/sync_engine.hpp"

#include <algorithm>
#include <utility>

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
namespace room = protocol::room;
using protocol::Delta;
using protocol::Json;
using protocol::Layout;
using protocol::RoomState;
using protocol::Window;

namespace {

// Types the app cannot create from a delta: scramble is unsupported,
// backrooms_tv opens a modal dialog and blocks the app's UI thread until a
// person closes it (spec/wibwob-ipc.md).
bool never_create(std::string_view type) { return type == "scramble" || type == "backrooms_tv"; }

bool needs_path(std::string_view type) { return type == "frame_player" || type == "text_view"; }

// The synced view of a raw room state: valid, non-internal windows only.
Layout typed_view(const std::map<std::string, Json>& windows, const protocol::Limits& limits,
                  std::uint64_t* skipped) {
  Layout out;
  for (const auto& [key, raw] : windows) {
    auto w = protocol::normalise_window(raw, limits);
    if (!w || w->id != key) {
      if (skipped) ++*skipped;
      continue;
    }
    if (protocol::is_internal_window_type(w->type)) continue;
    out.emplace(key, std::move(*w));
  }
  return out;
}

// Drops from `delta` what the state already shows, so a re-send after a
// reconnect does not put an older write over a newer one when the first send
// did land. Returns the remaining delta (possibly empty).
Json prune_against(const Json& delta, const RoomState& state, const protocol::Limits& limits) {
  auto parsed = protocol::parse_delta(delta, limits);
  if (!parsed) return Json::object();
  Delta keep;
  auto same = [&](const Window& w) {
    auto it = state.windows.find(w.id);
    if (it == state.windows.end()) return false;
    auto cur = protocol::normalise_window(it->second, limits);
    return cur && cur->same_synced(w);
  };
  for (auto& w : parsed->delta.add)
    if (!same(w)) keep.add.push_back(w);
  for (auto& id : parsed->delta.remove)
    if (state.windows.count(id)) keep.remove.push_back(id);
  for (auto& w : parsed->delta.update)
    if (!same(w)) keep.update.push_back(w);
  return keep.empty() ? Json::object() : protocol::to_json(keep);
}

// "w17" -> 17; 0 for ids not of the app's form.
std::uint64_t local_id_number(std::string_view id) {
  if (id.size() < 2 || id.size() > 20 || id[0] != 'w') return 0;
  std::uint64_t n = 0;
  for (char c : id.substr(1)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

bool json_delta_empty(const Json& d) {
  if (!d.is_object()) return true;
  for (const char* k : {"add", "remove", "update"})
    if (auto it = d.find(k); it != d.end() && it->is_array() && !it->empty()) return false;
  return true;
}

}  // namespace

SyncEngine::SyncEngine(EngineConfig config)
    : cfg_(std::move(config)), origin_(cfg_.origin), rng_(cfg_.seed), backoff_(cfg_.backoff) {
  if (origin_.empty()) origin_ = "b" + std::to_string(cfg_.seed);
}

// --- lifecycle -----------------------------------------------------------------

Effects SyncEngine::start(Ms now) {
  Effects out;
  log(out, LogLevel::info, "bridge engine starting: origin " + origin_ + ", poll every " +
                               std::to_string(cfg_.poll_interval.count()) + " ms" +
                               (cfg_.sync_layout ? "" : ", layout sync off (chat and presence only)"));
  next_poll_at_ = now;
  next_chat_at_ = now;
  link_ = Link::connecting;
  ++stats_.connects;
  out.emplace_back(effect::ConnectRoom{});
  pump(now, out);
  return out;
}

std::optional<Ms> SyncEngine::next_deadline() const {
  std::optional<Ms> d;
  auto consider = [&](std::optional<Ms> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  consider(next_poll_at_);
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
    chat_wanted_ = true;
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
    out.emplace_back(effect::CloseRoom{"no state_sync within " + std::to_string(cfg_.sync_timeout.count()) + " ms"});
  }
  pump(now, out);
  return out;
}

bool SyncEngine::idle() const noexcept {
  if (inflight_ || !pending_.empty() || !offline_.empty()) return false;
  if (!cfg_.sync_layout) return true;
  if (!adopted_ || link_ != Link::synced) return false;
  const Layout t = target();
  for (const auto& [id, w] : t)
    if (!uncreatable_.count(id) && (!app_.count(id) || !app_.at(id).same_synced(w))) return false;
  for (const auto& [id, w] : app_)
    if (!t.count(id)) return false;
  return true;
}

std::optional<std::int64_t> SyncEngine::confirmed_version() const {
  if (!confirmed_) return std::nullopt;
  return confirmed_->version;
}

std::optional<std::string> SyncEngine::local_id_of(const std::string& room_id) const {
  auto it = room_to_local_.find(room_id);
  if (it == room_to_local_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> SyncEngine::room_id_of(const std::string& local_id) const {
  auto it = local_to_room_.find(local_id);
  if (it == local_to_room_.end()) return std::nullopt;
  return it->second;
}

Layout SyncEngine::target() const {
  RoomState view = confirmed_ ? *confirmed_ : RoomState{};
  for (const auto& p : pending_) protocol::apply_room_delta(view, &p.delta);
  for (const auto& d : offline_) protocol::apply_room_delta(view, &d);
  return typed_view(view.windows, cfg_.limits, nullptr);
}

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
  ping_marks_.clear();
  presence_.clear();
  // Pending deltas stay: their fate is unknown until the next state_sync.
  schedule_reconnect(now, out);
  if (was_synced)
    log(out, LogLevel::warn, "room connection lost; " + std::to_string(pending_.size() + offline_.size()) +
                                 " local change(s) kept for re-send");
  pump(now, out);
  return out;
}

void SyncEngine::schedule_reconnect(Ms now, Effects& out) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const Ms delay = backoff_.on_failure(now, u(rng_));
  connect_at_ = now + delay;
  log(out, LogLevel::info, "reconnecting in " + std::to_string(delay.count()) + " ms (attempt " +
                               std::to_string(backoff_.attempt()) + ")");
}

void SyncEngine::resync(const std::string& why, Ms now, Effects& out) {
  ++stats_.resyncs;
  link_ = Link::connecting;  // closing: nothing more is placed on this connection
  log(out, LogLevel::warn, "lost track of the room's order (" + why + "); reconnecting for a fresh state_sync");
  out.emplace_back(effect::CloseRoom{"resync: " + why});
  (void)now;
}

Effects SyncEngine::on_room_message(std::string_view text, Ms now) {
  Effects out;
  auto msg = room::decode(text, cfg_.limits);
  if (!msg) {
    ++stats_.bad_room_messages;
    log_once(out, std::string("room:") + protocol::to_string(msg.error().code), LogLevel::warn,
             "skipping malformed room message: " + protocol::to_string(msg.error()) +
                 " (further ones of this kind are counted, not logged)");
    return out;
  }
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, room::StateSync>) {
          handle_state_sync(std::move(m), now, out);
        } else if constexpr (std::is_same_v<T, room::StateDelta>) {
          handle_remote_delta(std::move(m), now, out);
        } else if constexpr (std::is_same_v<T, room::Pong>) {
          handle_pong(out);
        } else if constexpr (std::is_same_v<T, room::Presence>) {
          handle_presence(m, out);
        } else if constexpr (std::is_same_v<T, room::ChatMsg>) {
          if (!cfg_.relay_chat) return;
          if (chat_inbox_.size() >= cfg_.max_chat_queue) {
            chat_inbox_.pop_front();
            ++stats_.chat_dropped;
            log_once(out, "chat:overflow", LogLevel::warn, "incoming chat faster than the app takes it; dropping oldest");
          }
          chat_inbox_.push_back(std::move(m));
        } else if constexpr (std::is_same_v<T, room::Rename>) {
          if (m.name.size() <= 64) {
            names_[m.conn_id] = m.name;
            presence_dirty_ = true;
          }
        } else if constexpr (std::is_same_v<T, room::Unknown>) {
          log_once(out, "room:unknown:" + m.type.substr(0, 32), LogLevel::debug,
                   "ignoring room message of unknown type '" + m.type.substr(0, 32) + "'");
        }
        // ping and cursor_pos from the room carry nothing for the bridge.
      },
      std::move(*msg));
  pump(now, out);
  return out;
}

void SyncEngine::handle_state_sync(room::StateSync&& m, Ms now, Effects& out) {
  (void)now;
  sync_deadline_.reset();
  const bool first = !confirmed_.has_value();
  confirmed_ = std::move(m.state);
  link_ = Link::synced;
  ping_marks_.clear();
  std::uint64_t skipped = 0;
  (void)typed_view(confirmed_->windows, cfg_.limits, &skipped);
  log(out, LogLevel::info, std::string(first ? "joined" : "rejoined") + " room '" + m.room + "' at version " +
                               std::to_string(confirmed_->version) + " with " +
                               std::to_string(confirmed_->windows.size()) + " window(s)" +
                               (skipped ? " (" + std::to_string(skipped) + " not usable here)" : ""));
  if (!cfg_.sync_layout) {
    pending_.clear();
    offline_.clear();
    return;
  }
  // What we sent but cannot prove was sequenced, then what changed offline:
  // re-send, minus what the fresh state already shows.
  std::vector<Json> resend;
  for (auto& p : pending_) resend.push_back(std::move(p.delta));
  for (auto& d : offline_) resend.push_back(std::move(d));
  pending_.clear();
  offline_.clear();
  std::size_t sent = 0;
  for (auto& d : resend) {
    Json pruned = prune_against(d, *confirmed_, cfg_.limits);
    if (json_delta_empty(pruned)) continue;
    send_delta_json(std::move(pruned), out);
    ++sent;
  }
  if (sent) log(out, LogLevel::info, "re-sent " + std::to_string(sent) + " local change(s) after (re)connect");
  if (!adopted_ && local_) adopt(out);
}

void SyncEngine::handle_remote_delta(room::StateDelta&& m, Ms now, Effects& out) {
  if (!cfg_.sync_layout) return;
  if (link_ != Link::synced || !confirmed_) return;  // before state_sync: cannot place it
  if (!m.version) {
    ++stats_.bad_room_messages;
    log_once(out, "room:delta-no-version", LogLevel::warn, "skipping state_delta without version");
    return;
  }
  const std::int64_t v = *m.version;
  const std::int64_t gap = v - confirmed_->version - 1;
  if (gap < 0 || static_cast<std::uint64_t>(gap) > pending_.size()) {
    resync("delta version " + std::to_string(v) + " after " + std::to_string(confirmed_->version) + " with " +
               std::to_string(pending_.size()) + " own delta(s) unplaced",
           now, out);
    return;
  }
  // The gap is exactly our own deltas, in the order we sent them.
  for (std::int64_t i = 0; i < gap; ++i) {
    protocol::apply_room_delta(*confirmed_, &pending_.front().delta);
    pending_.pop_front();
  }
  ++stats_.deltas_received;
  // A malformed delta still occupies its version (the server sequenced it);
  // apply_room_delta applies whatever the server applied.
  if (m.delta) {
    protocol::apply_room_delta(*confirmed_, &*m.delta);
    if (auto p = protocol::parse_delta(*m.delta, cfg_.limits); !p || !p->skipped.empty()) {
      ++stats_.bad_room_messages;
      log_once(out, "room:delta-content", LogLevel::warn,
               "a remote delta had entries this bridge cannot use; they are kept in the room state but not applied");
    }
  }
  confirmed_->version = v;
}

void SyncEngine::handle_pong(Effects& out) {
  if (ping_marks_.empty() || !confirmed_) return;
  const std::uint64_t mark = ping_marks_.front();
  ping_marks_.pop_front();
  // Every broadcast sequenced before our ping reached us before this pong,
  // so our deltas sent before the ping fill the versions right after ours.
  while (!pending_.empty() && pending_.front().seq <= mark) {
    protocol::apply_room_delta(*confirmed_, &pending_.front().delta);
    pending_.pop_front();
  }
  const auto bytes = confirmed_->to_json().dump().size();
  if (bytes > cfg_.state_warn_bytes)
    log_once(out, "room:state-size", LogLevel::error,
             "the room state is " + std::to_string(bytes / 1024) +
                 " KiB; the room server stops saving and broadcasting past 128 KiB. Close windows to stay under it.");
}

void SyncEngine::handle_presence(const room::Presence& p, Effects& out) {
  (void)out;
  if (p.event == "sync") {
    presence_.clear();
    presence_.insert(p.connections.begin(), p.connections.end());
    if (p.self) self_conn_ = *p.self;
  } else if (p.event == "join" && p.id) {
    presence_.insert(*p.id);
  } else if (p.event == "leave" && p.id) {
    presence_.erase(*p.id);
    names_.erase(*p.id);
  } else {
    return;
  }
  // Bounded: a hostile room cannot make us hold an unbounded participant set.
  while (presence_.size() > 256) presence_.erase(std::prev(presence_.end()));
  presence_dirty_ = true;
}

void SyncEngine::send_room(const room::Message& m, Effects& out) {
  auto text = room::encode(m);
  if (!text) {
    log(out, LogLevel::error, "cannot send " + std::string(room::type_name(m)) + ": " + protocol::to_string(text.error()));
    return;
  }
  out.emplace_back(effect::SendRoom{std::move(*text)});
}

void SyncEngine::send_delta_json(Json delta, Effects& out) {
  if (link_ != Link::synced) {
    offline_.push_back(std::move(delta));
    return;
  }
  auto text = room::encode(room::Message{room::StateDelta{delta, std::nullopt, std::nullopt}});
  if (!text) {
    log(out, LogLevel::error, "local change too large to send (" + protocol::to_string(text.error()) + "); dropped");
    return;
  }
  const std::uint64_t seq = next_seq_++;
  pending_.push_back(Pending{std::move(delta), seq});
  out.emplace_back(effect::SendRoom{std::move(*text)});
  ++stats_.deltas_sent;
  // The barrier: its pong proves this delta was sequenced.
  send_room(room::Message{room::Ping{}}, out);
  ping_marks_.push_back(seq);
}

void SyncEngine::send_local_delta(const Delta& d, Effects& out) {
  if (d.empty()) return;
  send_delta_json(protocol::to_json(d), out);
}

// --- app side --------------------------------------------------------------------

Effects SyncEngine::on_ipc_event(std::string_view line, Ms now) {
  Effects out;
  auto ev = ipc::parse_event_line(line);
  if (!ev) {
    ++stats_.bad_ipc_replies;
    log_once(out, "ipc:event", LogLevel::warn, "skipping malformed IPC event line: " + protocol::to_string(ev.error()));
    return out;
  }
  // Any window event may be a change a poll would only see later: poll now.
  if (std::holds_alternative<ipc::Event>(*ev)) poll_wanted_ = true;
  pump(now, out);
  return out;
}

Effects SyncEngine::on_app_unreachable(Ms now) {
  Effects out;
  if (!app_unreachable_) log(out, LogLevel::warn, "app not reachable over IPC (event subscription refused)");
  app_unreachable_ = true;
  pump(now, out);
  return out;
}

Effects SyncEngine::on_ipc_reply(std::uint64_t id, const IpcOutcome& o, Ms now) {
  Effects out;
  if (!inflight_ || inflight_->first != id) return out;  // stale: not ours
  const Op op = std::move(inflight_->second);
  inflight_.reset();

  if (o.failure != IpcFailure::none) {
    ++stats_.ipc_failures;
    if (o.failure == IpcFailure::unreachable) {
      if (!app_unreachable_) log(out, LogLevel::warn, "app not reachable over IPC (" + o.text + "); will keep polling");
      app_unreachable_ = true;
    } else {
      log_once(out, "ipc:failure:" + std::to_string(static_cast<int>(o.failure)), LogLevel::warn,
               "IPC request failed: " + o.text);
    }
    if (op.kind != OpKind::poll && !op.room_id.empty()) blocked_.insert(op.room_id);
    // The participant list is state, not an event: a list the app did not
    // take is offered again.
    if (op.kind == OpKind::presence) presence_dirty_ = true;
    if (op.kind == OpKind::chat_receive) {
      // keep the message for the next try: it is at the front still
    }
    pump(now, out);
    return out;
  }

  switch (op.kind) {
    case OpKind::poll: handle_poll_reply(o, now, out); break;
    case OpKind::create:
    case OpKind::move:
    case OpKind::resize:
    case OpKind::close: handle_window_reply(op, o, out); break;
    case OpKind::chat_pending: {
      auto r = ipc::classify_reply(o.text);
      if (r.kind == ipc::ReplyKind::data && r.data.is_array()) {
        for (const auto& t : r.data) {
          if (!t.is_string() || t.get_ref<const std::string&>().empty()) continue;
          room::ChatMsg m;
          m.sender = display_name_.value_or("");
          if (m.sender.empty()) m.sender = origin_;
          m.text = t.get<std::string>();
          send_room(room::Message{std::move(m)}, out);
          ++stats_.chat_out;
        }
      } else if (r.kind != ipc::ReplyKind::err) {
        ++stats_.bad_ipc_replies;
      }
      break;
    }
    case OpKind::chat_receive: {
      auto r = ipc::classify_reply(o.text);
      if (!chat_inbox_.empty()) chat_inbox_.pop_front();
      if (r.kind == ipc::ReplyKind::ok) {
        ++stats_.chat_in;
      } else {
        log_once(out, "ipc:chat-receive", LogLevel::info, "app did not take room chat: " + r.message);
      }
      break;
    }
    case OpKind::presence: {
      auto r = ipc::classify_reply(o.text);
      if (r.kind != ipc::ReplyKind::ok) log_once(out, "ipc:presence", LogLevel::info, "app did not take presence: " + r.message);
      break;
    }
    case OpKind::display_name: {
      auto r = ipc::classify_reply(o.text);
      std::string name = r.kind == ipc::ReplyKind::text ? r.message : std::string();
      const bool valid = !name.empty() && name.size() <= 20 &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                         });
      display_name_ = valid ? name : std::string();
      break;
    }
  }
  pump(now, out);
  return out;
}

Window SyncEngine::to_room_window(const ipc::AppWindow& a, const std::string& room_id) const {
  Window w;
  w.id = room_id;
  w.type = a.type;
  w.x = a.x;
  w.y = a.y;
  w.w = a.w;
  w.h = a.h;
  w.path = a.path;
  // figlet_text is re-created from its text, which the app shows as the title.
  if (a.type == "figlet_text") w.extra["text"] = a.title;
  return w;
}

std::string SyncEngine::new_room_id(const std::string& local_id) const { return origin_ + ":" + local_id; }

void SyncEngine::reset_app_mapping(const std::string& why, Effects& out) {
  ++stats_.app_restarts;
  max_local_number_ = 0;
  last_poll_ids_.clear();
  ++app_epoch_;
  origin_ = cfg_.origin.empty() ? "b" + std::to_string(cfg_.seed) : cfg_.origin;
  origin_ += "." + std::to_string(app_epoch_);
  room_to_local_.clear();
  local_to_room_.clear();
  app_.clear();
  awaiting_id_.clear();
  blocked_.clear();
  adopted_ = false;
  presence_dirty_ = true;  // the new process has an empty participant list
  log(out, LogLevel::warn, "app restart detected (" + why + "): old window mapping discarded");
}

void SyncEngine::handle_poll_reply(const IpcOutcome& o, Ms now, Effects& out) {
  (void)now;
  auto state = ipc::parse_get_state(o.text);
  if (!state) {
    ++stats_.bad_ipc_replies;
    log_once(out, "ipc:get_state", LogLevel::warn,
             "skipping an unparsable get_state reply (" + protocol::to_string(state.error()) +
                 "); retrying at the next poll");
    return;
  }
  ++stats_.polls;
  if (app_unreachable_) {
    app_unreachable_ = false;
    // The app was gone and answers again: a new process whose ids restart
    // at w1. Adoption below re-maps windows that are still there by content.
    if (adopted_ || !room_to_local_.empty()) reset_app_mapping("IPC came back after the app was unreachable", out);
    // A new process shows nobody in its room chat window yet.
    presence_dirty_ = true;
  }
  // Ids come from a per-process counter and are never reused, so a window
  // we have not seen before whose number is not above every number seen so
  // far, or a mapped id showing another type, proves a new process.
  for (const auto& a : state->windows) {
    const std::uint64_t n = local_id_number(a.id);
    auto it = local_to_room_.find(a.id);
    if (it != local_to_room_.end()) {
      auto w = app_.find(it->second);
      if (w != app_.end() && w->second.type != a.type) {
        reset_app_mapping("window " + a.id + " changed type", out);
        break;
      }
    } else if (n != 0 && n <= max_local_number_ && !last_poll_ids_.count(a.id)) {
      reset_app_mapping("new window " + a.id + " has an id the app already used", out);
      break;
    }
  }
  last_poll_ids_.clear();
  for (const auto& a : state->windows) {
    max_local_number_ = std::max(max_local_number_, local_id_number(a.id));
    last_poll_ids_.insert(a.id);
  }
  std::vector<ipc::AppWindow> windows;
  for (auto& a : state->windows)
    if (!protocol::is_internal_window_type(a.type)) windows.push_back(std::move(a));
  local_ = std::move(windows);
  blocked_.clear();
  // Forget uncreatable windows the room no longer has (bounded memory).
  if (!uncreatable_.empty()) {
    const Layout t = target();
    std::erase_if(uncreatable_, [&](const std::string& id) { return !t.count(id); });
  }
  if (!cfg_.sync_layout) return;
  if (!adopted_) {
    if (confirmed_) adopt(out);
    return;
  }

  // Windows created without an id in the reply (text_editor): the unmapped
  // local window of that type with the bounds we asked for, else the newest
  // one. (Newest alone takes a window a person opened after our create.)
  for (auto it = awaiting_id_.begin(); it != awaiting_id_.end();) {
    const ipc::AppWindow* best = nullptr;
    const auto asked = app_.find(it->first);
    auto exact = [&](const ipc::AppWindow& a) {
      return asked != app_.end() && to_room_window(a, it->first).same_synced(asked->second);
    };
    for (const auto& a : *local_) {
      if (a.type != it->second || local_to_room_.count(a.id)) continue;
      if (best && exact(*best)) break;
      if (!best || exact(a) || a.id.size() > best->id.size() || (a.id.size() == best->id.size() && a.id > best->id))
        best = &a;
    }
    if (best) {
      room_to_local_[it->first] = best->id;
      local_to_room_[best->id] = it->first;
    } else {
      app_.erase(it->first);  // it did not appear: let reconcile try again
    }
    it = awaiting_id_.erase(it);
  }

  // Local changes: what the app shows against what we believed it shows.
  Layout now_shown;
  for (const auto& a : *local_) {
    auto it = local_to_room_.find(a.id);
    std::string rid;
    if (it == local_to_room_.end()) {
      rid = new_room_id(a.id);
      local_to_room_[a.id] = rid;
      room_to_local_[rid] = a.id;
    } else {
      rid = it->second;
    }
    now_shown[rid] = to_room_window(a, rid);
  }
  // Mapped windows that vanished were closed by a person.
  for (auto it = room_to_local_.begin(); it != room_to_local_.end();) {
    if (!now_shown.count(it->first) && app_.count(it->first)) {
      local_to_room_.erase(it->second);
      it = room_to_local_.erase(it);
    } else {
      ++it;
    }
  }
  Delta d = protocol::diff(app_, now_shown);
  app_ = std::move(now_shown);
  if (!d.empty()) {
    send_local_delta(d, out);
    log(out, LogLevel::debug, "local change: +" + std::to_string(d.add.size()) + " ~" +
                                  std::to_string(d.update.size()) + " -" + std::to_string(d.remove.size()));
  }
}

void SyncEngine::adopt(Effects& out) {
  // First contact between this app and the room (bridge start, app restart):
  // match local windows to room windows by content, push the rest.
  adopted_ = true;
  Layout room_view = target();
  std::set<std::string> taken;
  for (const auto& [rid, local] : room_to_local_) taken.insert(rid);
  Delta push;
  Layout shown;
  std::size_t matched = 0;
  for (const auto& a : *local_) {
    if (auto it = local_to_room_.find(a.id); it != local_to_room_.end()) {
      shown[it->second] = to_room_window(a, it->second);
      continue;
    }
    std::optional<std::string> match;
    for (const auto& [rid, w] : room_view) {
      if (taken.count(rid)) continue;
      if (to_room_window(a, rid).same_synced(w)) {
        match = rid;
        break;
      }
    }
    const std::string rid = match ? *match : new_room_id(a.id);
    taken.insert(rid);
    room_to_local_[rid] = a.id;
    local_to_room_[a.id] = rid;
    shown[rid] = to_room_window(a, rid);
    if (match) {
      ++matched;
    } else {
      push.add.push_back(shown[rid]);
    }
  }
  app_ = std::move(shown);
  log(out, LogLevel::info, "matched " + std::to_string(matched) + " local window(s) to the room, pushing " +
                               std::to_string(push.add.size()) + " new one(s)");
  send_local_delta(push, out);
}

bool SyncEngine::creatable(const Window& w, std::string* why) const {
  if (!protocol::is_known_window_type(w.type)) {
    *why = "unknown window type '" + w.type + "'";
    return false;
  }
  if (never_create(w.type)) {
    *why = "type '" + w.type + "' cannot be created over IPC";
    return false;
  }
  if (needs_path(w.type) && !w.path) {
    *why = "type '" + w.type + "' needs a path";
    return false;
  }
  if (w.path) {
    const std::string& p = *w.path;
    const bool absolute = !p.empty() && p[0] == '/';
    const bool dotdot = p.find("/../") != std::string::npos || (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
    const bool control = std::any_of(p.begin(), p.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    bool allowed = cfg_.allowed_path_prefixes.empty();
    for (const auto& prefix : cfg_.allowed_path_prefixes)
      if (p.compare(0, prefix.size(), prefix) == 0) allowed = true;
    if (!absolute || dotdot || control || !allowed) {
      *why = "path outside the local policy";
      return false;
    }
  }
  if (w.type == "figlet_text") {
    auto t = w.extra.find("text");
    if (t == w.extra.end() || !t->is_string() || t->get_ref<const std::string&>().empty()) {
      *why = "figlet_text without text";
      return false;
    }
  }
  return true;
}

std::optional<SyncEngine::Op> SyncEngine::next_window_op(const Layout& target) {
  for (const auto& [rid, w] : target) {
    if (blocked_.count(rid) || uncreatable_.count(rid) || awaiting_id_.count(rid)) continue;
    auto shown = app_.find(rid);
    if (shown == app_.end()) {
      std::string why;
      if (!creatable(w, &why)) {
        uncreatable_.insert(rid);
        ++stats_.uncreatable;
        continue;
      }
      return Op{OpKind::create, rid, w};
    }
    const Window& cur = shown->second;
    if (cur.same_synced(w)) continue;
    if (cur.type != w.type || cur.path != w.path) return Op{OpKind::close, rid, cur};
    if (cur.x != w.x || cur.y != w.y) return Op{OpKind::move, rid, w};
    if (cur.w != w.w || cur.h != w.h) return Op{OpKind::resize, rid, w};
  }
  for (const auto& [rid, cur] : app_) {
    if (blocked_.count(rid) || target.count(rid)) continue;
    return Op{OpKind::close, rid, cur};
  }
  return std::nullopt;
}

std::optional<std::string> SyncEngine::build_window_command(const Op& op) {
  const Window& w = op.target;
  const auto local = room_to_local_.find(op.room_id);
  protocol::Result<std::string> line = protocol::make_error(protocol::Errc::bad_value, "no command");
  auto num = [](std::int32_t v) { return std::to_string(v); };
  switch (op.kind) {
    case OpKind::create: {
      ipc::Params p{{"type", w.type}, {"x", num(w.x)}, {"y", num(w.y)}, {"w", num(w.w)}, {"h", num(w.h)}};
      if (w.path) p.emplace_back("path", *w.path);
      if (auto t = w.extra.find("text"); t != w.extra.end() && t->is_string()) p.emplace_back("text", t->get<std::string>());
      line = ipc::build_request("create_window", p);
      break;
    }
    case OpKind::move:
      if (local == room_to_local_.end()) return std::nullopt;
      line = ipc::build_request("move_window", {{"id", local->second}, {"x", num(w.x)}, {"y", num(w.y)}});
      break;
    case OpKind::resize:
      if (local == room_to_local_.end()) return std::nullopt;
      line = ipc::build_request("resize_window", {{"id", local->second}, {"width", num(w.w)}, {"height", num(w.h)}});
      break;
    case OpKind::close:
      if (local == room_to_local_.end()) return std::nullopt;
      line = ipc::build_request("close_window", {{"id", local->second}});
      break;
    default: return std::nullopt;
  }
  if (!line) return std::nullopt;
  return std::move(*line);
}

void SyncEngine::handle_window_reply(const Op& op, const IpcOutcome& o, Effects& out) {
  auto r = ipc::classify_reply(o.text);
  const bool ok = r.kind == ipc::ReplyKind::success || r.kind == ipc::ReplyKind::ok;
  switch (op.kind) {
    case OpKind::create:
      if (!ok) {
        uncreatable_.insert(op.room_id);
        ++stats_.uncreatable;
        log_once(out, "create:" + op.target.type, LogLevel::warn,
                 "app refused to create a '" + op.target.type + "' window (" + r.message +
                     "); it stays in the room, not shown here");
        return;
      }
      app_[op.room_id] = op.target;
      if (r.id) {
        room_to_local_[op.room_id] = *r.id;
        local_to_room_[*r.id] = op.room_id;
      } else {
        awaiting_id_[op.room_id] = op.target.type;
        poll_wanted_ = true;
      }
      return;
    case OpKind::move:
    case OpKind::resize:
      if (!ok) {
        blocked_.insert(op.room_id);  // the next poll tells what happened
        poll_wanted_ = true;
        return;
      }
      if (auto it = app_.find(op.room_id); it != app_.end()) {
        if (op.kind == OpKind::move) {
          it->second.x = op.target.x;
          it->second.y = op.target.y;
        } else {
          it->second.w = op.target.w;
          it->second.h = op.target.h;
        }
      }
      return;
    case OpKind::close: {
      const bool gone = ok || (r.kind == ipc::ReplyKind::failure && r.message == "Window not found");
      if (!gone) {
        blocked_.insert(op.room_id);
        return;
      }
      app_.erase(op.room_id);
      if (auto it = room_to_local_.find(op.room_id); it != room_to_local_.end()) {
        local_to_room_.erase(it->second);
        room_to_local_.erase(it);
      }
      return;
    }
    default: return;
  }
}

// --- scheduling ------------------------------------------------------------------

void SyncEngine::issue(Op op, std::string line, Effects& out) {
  const std::uint64_t id = next_ipc_id_++;
  ++stats_.ipc_commands;
  inflight_.emplace(id, std::move(op));
  out.emplace_back(effect::SendIpc{id, std::move(line)});
}

void SyncEngine::pump(Ms now, Effects& out) {
  (void)now;
  if (inflight_) return;
  auto simple = [&](OpKind kind, std::string_view name, const ipc::Params& p = {}) {
    auto line = ipc::build_request(name, p);
    if (!line) {
      log(out, LogLevel::error, std::string("cannot build ") + std::string(name) + ": " + protocol::to_string(line.error()));
      return false;
    }
    issue(Op{kind, {}, {}}, std::move(*line), out);
    return true;
  };
  if (poll_wanted_) {
    poll_wanted_ = false;
    if (simple(OpKind::poll, "get_state")) return;
  }
  if (app_unreachable_) return;  // only polls probe a missing app
  if (cfg_.sync_layout && adopted_ && confirmed_) {
    while (auto op = next_window_op(target())) {
      if (auto line = build_window_command(*op)) {
        issue(std::move(*op), std::move(*line), out);
        return;
      }
      // Cannot express it as a request (too long, no local id): skip it.
      if (op->kind == OpKind::create) {
        uncreatable_.insert(op->room_id);
        ++stats_.uncreatable;
      } else {
        blocked_.insert(op->room_id);
      }
    }
  }
  if (!cfg_.relay_chat) return;
  if (display_name_wanted_) {
    display_name_wanted_ = false;
    if (simple(OpKind::display_name, "room_chat_display_name")) return;
  }
  if (!chat_inbox_.empty()) {
    const auto& m = chat_inbox_.front();
    ipc::Params p{{"sender", m.sender.substr(0, 64)}, {"text", m.text}};
    if (m.ts) p.emplace_back("ts", std::to_string(*m.ts / 1000));
    auto line = ipc::build_request("room_chat_receive", p);
    if (line) {
      issue(Op{OpKind::chat_receive, {}, {}}, std::move(*line), out);
      return;
    }
    chat_inbox_.pop_front();
    ++stats_.chat_dropped;
    log_once(out, "chat:too-long", LogLevel::warn, "a room chat message is too long for the app's IPC; dropped");
  }
  if (presence_dirty_) {
    presence_dirty_ = false;
    Json list = Json::array();
    for (const auto& c : presence_) {
      Json e = {{"id", c == self_conn_ ? c + " (me)" : c}};
      if (auto n = names_.find(c); n != names_.end()) e["name"] = n->second;
      list.push_back(std::move(e));
    }
    if (simple(OpKind::presence, "room_presence", {{"participants", list.dump()}})) return;
  }
  if (chat_wanted_ && link_ == Link::synced) {
    chat_wanted_ = false;
    if (simple(OpKind::chat_pending, "room_chat_pending")) return;
  }
}

// --- logging ---------------------------------------------------------------------

void SyncEngine::log(Effects& out, LogLevel level, std::string text) {
  out.emplace_back(effect::Log{level, std::move(text)});
}

void SyncEngine::log_once(Effects& out, const std::string& kind, LogLevel level, std::string text) {
  if (logged_kinds_.size() < 1024 && logged_kinds_.insert(kind).second) log(out, level, std::move(text));
}

}  // namespace wibwob::bridge
