// The control plane's operations (docs/fakewibwob.md lists them with
// examples). Requests are JSON objects {"op": ..., ...}; replies are
// {"ok": true, ...} or {"ok": false, "error": "..."}. Hostile input gives an
// error reply, never an exception.
#include <fstream>
#include <sstream>

#include "fakewibwob/server/server.hpp"

namespace wibwob::fakewibwob {

namespace {

using Json = ipc::Json;

Json ok(Json extra = Json::object()) {
  extra["ok"] = true;
  return extra;
}

Json fail(std::string message) { return Json{{"ok", false}, {"error", std::move(message)}}; }

std::optional<std::string> str(const Json& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::int64_t> int_in(const Json& r, const char* key, std::int64_t lo, std::int64_t hi) {
  auto it = r.find(key);
  if (it == r.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) return std::nullopt;
  const auto v = it->get<std::int64_t>();
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<std::int32_t> i32(const Json& r, const char* key) {
  auto v = int_in(r, key, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
  if (!v) return std::nullopt;
  return static_cast<std::int32_t>(*v);
}

std::optional<bool> boolean(const Json& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

Json window_json(const ipc::AppWindow& w) {
  Json j{{"id", w.id}, {"type", w.type}, {"x", w.x}, {"y", w.y}, {"w", w.w}, {"h", w.h},
         {"z", w.z}, {"focused", w.focused}, {"title", w.title}};
  if (w.path) j["path"] = *w.path;
  return j;
}

Json journal_json(const JournalEntry& e) {
  Json params = Json::object();
  for (const auto& [k, v] : e.command.params) params[k] = v;
  return Json{{"index", e.index}, {"t_ms", e.at.count()}, {"raw", e.raw}, {"command", e.command.name},
              {"params", params}, {"reply", e.reply}};
}

}  // namespace

protocol::Result<std::vector<OpenSpec>> load_layout_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return protocol::make_error(protocol::Errc::missing_field, "cannot read layout file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_layout(ss.str());
}

Json Server::control_op(const Json& req, bool defer_exit) {
  if (!req.is_object()) return fail("request is not a JSON object");
  const auto op_name = str(req, "op");
  if (!op_name) return fail("missing string field 'op'");
  if (stopped_) return fail("server stopped");
  const std::string& op = *op_name;

  if (op == "ping") return ok();

  if (op == "state") {
    const auto st = app_.state();
    Json windows = Json::array();
    for (const auto& w : st.windows) windows.push_back(window_json(w));
    Json chat = Json::array();
    for (const auto& c : st.chat_log) chat.push_back({{"seq", c.seq}, {"sender", c.sender}, {"text", c.text}});
    Json pending = Json::array();
    for (const auto& p : app_.pending_chat()) pending.push_back(p);
    return ok({{"windows", windows}, {"chat_log", chat}, {"pending_chat", pending},
               {"get_state", app_.get_state_line()}, {"presence", app_.presence()}});
  }

  if (op == "status") {
    return ok({{"subscribers", subscribers_.size()}, {"connections", served_}, {"seq", app_.last_seq()},
               {"dialogs", app_.open_dialogs()}, {"refusing", refusing()}, {"reply_delay_ms", reply_delay_.count()},
               {"journal_next", app_.journal_next_index()}, {"next_window", app_.desktop().next_id_number()},
               {"freed_ids", app_.desktop().freed_ids()}});
  }

  if (op == "open") {
    OpenSpec spec;
    auto type = str(req, "type");
    if (!type) return fail("missing string field 'type'");
    spec.type = *type;
    auto x = i32(req, "x"), y = i32(req, "y"), w = i32(req, "w"), h = i32(req, "h");
    if (x && y && w && h) spec.bounds = Rect{*x, *y, *w, *h};
    spec.title = str(req, "title");
    spec.path = str(req, "path");
    spec.text = str(req, "text");
    spec.gradient = str(req, "gradient");
    auto id = app_.open(spec, boolean(req, "event").value_or(true));
    broadcast();
    if (!id) return fail(id.error().message);
    return ok({{"id", *id}});
  }

  if (op == "move" || op == "resize") {
    auto id = str(req, "id");
    auto a = i32(req, op == "move" ? "x" : "w"), b = i32(req, op == "move" ? "y" : "h");
    if (!id || !a || !b) return fail(op == "move" ? "need id, x, y" : "need id, w, h");
    const bool found = op == "move" ? app_.person_move(*id, *a, *b) : app_.person_resize(*id, *a, *b);
    return found ? ok() : fail("Window not found");
  }

  if (op == "close" || op == "focus") {
    auto id = str(req, "id");
    if (!id) return fail("need id");
    const bool found = op == "close" ? app_.person_close(*id) : app_.person_focus(*id);
    return found ? ok() : fail("Window not found");
  }

  if (op == "set_title") {
    auto id = str(req, "id");
    auto title = str(req, "title");
    if (!id || !title) return fail("need id, title");
    return app_.set_title(*id, *title) ? ok() : fail("Window not found");
  }

  if (op == "refuse_close") {
    auto id = str(req, "id");
    if (!id) return fail("need id");
    return app_.set_refuses_close(*id, boolean(req, "on").value_or(true)) ? ok() : fail("Window not found");
  }

  if (op == "broken_title") {
    const std::string id = app_.open_broken_title_window();
    broadcast();
    return ok({{"id", id}});
  }

  if (op == "type_chat") {
    auto text = str(req, "text");
    if (!text) return fail("need text");
    app_.type_chat(*text);
    return ok();
  }

  if (op == "set_display_name") {
    auto name = str(req, "name");
    if (!name) return fail("need name");
    app_.set_display_name(*name);
    return ok();
  }

  if (op == "dismiss_dialog") {
    auto d = app_.dismiss_dialog();
    if (!d) return fail("no dialog open");
    broadcast();
    answer_dialog(d->dialog, d->reply);
    return ok({{"reply", d->reply}});
  }

  if (op == "restart") {
    std::vector<OpenSpec> layout = config_.layout;
    if (auto file = str(req, "layout_file")) {
      auto l = load_layout_file(*file);
      if (!l) return fail(l.error().message);
      layout = std::move(*l);
    } else if (auto it = req.find("windows"); it != req.end()) {
      auto l = parse_layout(it->dump(-1, ' ', false, Json::error_handler_t::replace));
      if (!l) return fail(l.error().message);
      layout = std::move(*l);
    }
    const auto down = int_in(req, "down_ms", 0, 3'600'000).value_or(0);
    restart(std::move(layout), Millis{down});
    return ok();
  }

  if (op == "exit") {
    const int code = static_cast<int>(int_in(req, "code", 0, 255).value_or(0));
    if (defer_exit)
      pending_exit_ = code;
    else
      stop(code);
    return ok();
  }

  if (op == "crash") {
    config_.crash();  // by default never returns
    return ok();
  }

  if (op == "set_reply_delay") {
    auto ms = int_in(req, "ms", 0, 3'600'000);
    if (!ms) return fail("need ms (0..3600000)");
    reply_delay_ = Millis{*ms};
    return ok();
  }

  if (op == "refuse_connections") {
    set_refusing(boolean(req, "on").value_or(true));
    return ok({{"refusing", refusing()}});
  }

  if (op == "journal") {
    const auto since = static_cast<std::uint64_t>(int_in(req, "since", 0, std::numeric_limits<std::int64_t>::max()).value_or(0));
    Json entries = Json::array();
    for (const auto& e : app_.journal())
      if (e.index >= since) entries.push_back(journal_json(e));
    return ok({{"entries", entries}, {"next", app_.journal_next_index()}});
  }

  if (op == "clear_journal") {
    app_.clear_journal();
    return ok();
  }

  return fail("unknown op '" + op + "'");
}

}  // namespace wibwob::fakewibwob
