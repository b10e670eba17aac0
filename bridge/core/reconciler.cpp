#include "bridge/core/reconciler.hpp"

#include <algorithm>

#include "protocol/ipc.hpp"

namespace wibwob::bridge {

namespace ipc = protocol::ipc;
using protocol::Errc;
using protocol::Layout;
using protocol::make_error;
using protocol::Window;
using Kind = WindowCommand::Kind;

namespace {

std::string num(std::int32_t v) { return std::to_string(v); }

protocol::Result<std::string> command_line(Kind kind, const Window& w, const std::string& local_id) {
  switch (kind) {
    case Kind::create: {
      ipc::Params p{{"type", w.type}, {"x", num(w.x)}, {"y", num(w.y)}, {"w", num(w.w)}, {"h", num(w.h)}};
      if (w.path) p.emplace_back("path", *w.path);
      if (auto t = w.extra.find("text"); t != w.extra.end() && t->is_string()) p.emplace_back("text", t->get<std::string>());
      return ipc::build_request("create_window", p);
    }
    case Kind::move: return ipc::build_request("move_window", {{"id", local_id}, {"x", num(w.x)}, {"y", num(w.y)}});
    case Kind::resize:
      return ipc::build_request("resize_window", {{"id", local_id}, {"width", num(w.w)}, {"height", num(w.h)}});
    case Kind::close: return ipc::build_request("close_window", {{"id", local_id}});
  }
  return make_error(Errc::bad_value, "no command");
}

}  // namespace

protocol::Result<void> check_creatable(const Window& w, const CreatePolicy& policy) {
  // The type's capabilities: protocol/window_types.hpp. scramble is
  // unsupported; backrooms_tv opens a modal dialog that blocks the app's UI
  // thread until a person closes it.
  const auto* type = protocol::find_window_type(w.type);
  if (!type) return make_error(Errc::unsupported, "unknown window type '" + w.type + "'");
  if (!type->creatable_over_ipc()) return make_error(Errc::unsupported, "type '" + w.type + "' cannot be created over IPC");
  if (type->needs_path && !w.path) return make_error(Errc::missing_field, "type '" + w.type + "' needs a path");
  if (w.path)
    if (auto r = policy.paths.check(*w.path); !r) return r;
  if (type->needs_text) {
    auto t = w.extra.find("text");
    if (t == w.extra.end() || !t->is_string() || t->get_ref<const std::string&>().empty())
      return make_error(Errc::missing_field, w.type + " without text");
  }
  return {};
}

std::optional<ReconcileStep> Reconciler::step_for(const std::string& rid, const Window& w, const AppMirror& mirror,
                                                  std::size_t from_room) const {
  const auto& shown = mirror.believed();
  auto cur = shown.find(rid);
  if (cur == shown.end()) {
    if (auto ok = check_creatable(w, policy_); !ok) return Refusal{rid, w.type, ok.error().message};
    if (from_room >= policy_.max_room_windows) return OverBound{rid};
    auto line = command_line(Kind::create, w, {});
    if (!line) return Refusal{rid, w.type, "the create request is too long for the app's IPC"};
    return WindowCommand{Kind::create, rid, w, std::move(*line)};
  }
  if (cur->second.same_synced(w)) return std::nullopt;
  Kind kind = Kind::resize;
  if (cur->second.type != w.type || cur->second.path != w.path)
    kind = Kind::close;  // a replaced window: close it, then create the new one
  else if (cur->second.x != w.x || cur->second.y != w.y)
    kind = Kind::move;
  const Window& subject = kind == Kind::close ? cur->second : w;
  auto local = mirror.local_id_of(rid);
  if (!local) return Deferral{rid};
  auto line = command_line(kind, subject, *local);
  if (!line) return Deferral{rid};
  return WindowCommand{kind, rid, subject, std::move(*line)};
}

std::optional<ReconcileStep> Reconciler::next_step(const Layout& target, const AppMirror& mirror) const {
  // Windows from the room shown here: every shown window this app's
  // incarnation did not originate.
  const std::string own_prefix = mirror.origin() + ":";
  std::size_t from_room = 0;
  for (const auto& [rid, w] : mirror.believed())
    if (rid.compare(0, own_prefix.size(), own_prefix) != 0) ++from_room;
  for (const auto& [rid, w] : target) {
    if (blocked_.count(rid) || excused(rid) || mirror.awaiting_id(rid)) continue;
    if (auto s = step_for(rid, w, mirror, from_room)) return s;
  }
  for (const auto& [rid, cur] : mirror.believed()) {
    if (blocked_.count(rid) || target.count(rid)) continue;
    auto local = mirror.local_id_of(rid);
    auto line = local ? command_line(Kind::close, cur, *local) : protocol::Result<std::string>(make_error(Errc::bad_value, ""));
    if (!line) return Deferral{rid};
    return WindowCommand{Kind::close, rid, cur, std::move(*line)};
  }
  return std::nullopt;
}

bool Reconciler::hold(const std::string& room_id) {
  held_.insert(room_id);
  return ever_held_.insert(room_id).second;
}

void Reconciler::on_poll(const Layout& target) {
  blocked_.clear();
  held_.clear();
  std::erase_if(refused_, [&](const auto& entry) { return !target.count(entry.first); });
  std::erase_if(ever_held_, [&](const std::string& id) { return !target.count(id); });
}

}  // namespace wibwob::bridge
