// The control plane's operations (docs/fakewibwob.md lists them with
// examples), as a table (fixture/control_ops.hpp) in four groups: what a
// person does, the app's lifecycle, faults, observation.
#include <fstream>
#include <limits>
#include <sstream>

#include "fakewibwob/server/server.hpp"

namespace wibwob::fakewibwob {

namespace {

using Json = ipc::Json;
using fixture::fail;
using fixture::int32_field;
using fixture::int_field;
using fixture::ok;
using fixture::Reply;
using fixture::string_field;

bool on_flag(const Json& req) { return fixture::bool_field(req, "on").value_or(true); }

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

// "open"'s request as the spec a person's open takes.
OpenSpec open_spec(const Json& req) {
  OpenSpec spec;
  spec.type = *string_field(req, "type");
  auto x = int32_field(req, "x"), y = int32_field(req, "y"), w = int32_field(req, "w"), h = int32_field(req, "h");
  if (x && y && w && h) spec.bounds = Rect{*x, *y, *w, *h};
  spec.title = string_field(req, "title");
  spec.path = string_field(req, "path");
  spec.text = string_field(req, "text");
  spec.gradient = string_field(req, "gradient");
  return spec;
}

// "restart"'s layout: a layout file, inline windows, or the configured one.
protocol::Result<std::vector<OpenSpec>> restart_layout(const Json& req, const std::vector<OpenSpec>& configured) {
  if (auto file = string_field(req, "layout_file")) return load_layout_file(*file);
  if (auto it = req.find("windows"); it != req.end())
    return parse_layout(it->dump(-1, ' ', false, Json::error_handler_t::replace));
  return configured;
}

}  // namespace

protocol::Result<std::vector<OpenSpec>> load_layout_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return protocol::make_error(protocol::Errc::missing_field, "cannot read layout file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_layout(ss.str());
}

fixture::Reply Server::handle_control(const Json& request) {
  if (stopped_) return fail("server stopped");
  return ops_.run(request);
}

// What a person does at the desktop.
void Server::add_person_ops(fixture::ControlOps& ops) {
  ops.add("open", [this](const Json& req) -> Reply {
    if (!string_field(req, "type")) return fail("missing string field 'type'");
    auto id = app_.open(open_spec(req), fixture::bool_field(req, "event").value_or(true));
    broadcast();
    if (!id) return fail(id.error().message);
    return ok({{"id", *id}});
  });
  auto window_op = [this](const char* a_key, const char* b_key, bool (FakeApp::*act)(std::string_view, std::int32_t, std::int32_t)) {
    return [this, a_key, b_key, act](const Json& req) -> Reply {
      auto id = string_field(req, "id");
      auto a = int32_field(req, a_key), b = int32_field(req, b_key);
      if (!id || !a || !b) return fail(std::string("need id, ") + a_key + ", " + b_key);
      return (app_.*act)(*id, *a, *b) ? ok() : fail("Window not found");
    };
  };
  ops.add("move", window_op("x", "y", &FakeApp::person_move));
  ops.add("resize", window_op("w", "h", &FakeApp::person_resize));
  auto id_op = [this](bool (FakeApp::*act)(std::string_view)) {
    return [this, act](const Json& req) -> Reply {
      auto id = string_field(req, "id");
      if (!id) return fail("need id");
      return (app_.*act)(*id) ? ok() : fail("Window not found");
    };
  };
  ops.add("close", id_op(&FakeApp::person_close));
  ops.add("focus", id_op(&FakeApp::person_focus));
  ops.add("set_title", [this](const Json& req) -> Reply {
    auto id = string_field(req, "id");
    auto title = string_field(req, "title");
    if (!id || !title) return fail("need id, title");
    return app_.set_title(*id, *title) ? ok() : fail("Window not found");
  });
  ops.add("type_chat", [this](const Json& req) -> Reply {
    auto text = string_field(req, "text");
    if (!text) return fail("need text");
    app_.type_chat(*text);
    return ok();
  });
  ops.add("dismiss_dialog", [this](const Json&) -> Reply {
    auto d = app_.dismiss_dialog();
    if (!d) return fail("no dialog open");
    broadcast();
    answer_dialog(d->dialog, d->reply);
    return ok({{"reply", d->reply}});
  });
}

// The app as a process: restart, exit, crash, its display name.
void Server::add_lifecycle_ops(fixture::ControlOps& ops) {
  ops.add("restart", [this](const Json& req) -> Reply {
    auto layout = restart_layout(req, config_.layout);
    if (!layout) return fail(layout.error().message);
    restart(std::move(layout).value(), Millis{int_field(req, "down_ms", 0, 3'600'000).value_or(0)});
    return ok();
  });
  ops.add("exit", [](const Json& req) {
    return fixture::exit_after_reply(static_cast<int>(int_field(req, "code", 0, 255).value_or(0)));
  });
  ops.add("crash", [this](const Json&) -> Reply {
    config_.crash();  // by default never returns
    return ok();
  });
  ops.add("set_display_name", [this](const Json& req) -> Reply {
    auto name = string_field(req, "name");
    if (!name) return fail("need name");
    app_.set_display_name(*name);
    return ok();
  });
}

// Faults: windows the app misbehaves with, slow replies, a dead listener.
void Server::add_fault_ops(fixture::ControlOps& ops) {
  ops.add("refuse_close", [this](const Json& req) -> Reply {
    auto id = string_field(req, "id");
    if (!id) return fail("need id");
    return app_.set_refuses_close(*id, on_flag(req)) ? ok() : fail("Window not found");
  });
  ops.add("broken_title", [this](const Json&) -> Reply {
    const std::string id = app_.open_broken_title_window();
    broadcast();
    return ok({{"id", id}});
  });
  ops.add("set_reply_delay", [this](const Json& req) -> Reply {
    auto ms = int_field(req, "ms", 0, 3'600'000);
    if (!ms) return fail("need ms (0..3600000)");
    reply_delay_ = Millis{*ms};
    return ok();
  });
  ops.add("refuse_connections", [this](const Json& req) -> Reply {
    set_refusing(on_flag(req));
    return ok({{"refusing", refusing()}});
  });
}

// Observation: the desktop, the server, the journal of IPC commands.
void Server::add_observation_ops(fixture::ControlOps& ops) {
  ops.add("ping", [](const Json&) -> Reply { return ok(); });
  ops.add("state", [this](const Json&) -> Reply {
    const auto st = app_.state();
    Json windows = Json::array();
    for (const auto& w : st.windows) windows.push_back(window_json(w));
    Json chat = Json::array();
    for (const auto& c : st.chat_log) chat.push_back({{"seq", c.seq}, {"sender", c.sender}, {"text", c.text}});
    Json pending = Json::array();
    for (const auto& p : app_.pending_chat()) pending.push_back(p);
    return ok({{"windows", windows}, {"chat_log", chat}, {"pending_chat", pending},
               {"get_state", app_.get_state_line()}, {"presence", app_.presence()}});
  });
  ops.add("status", [this](const Json&) -> Reply {
    return ok({{"subscribers", subscribers_.size()}, {"connections", served_}, {"seq", app_.last_seq()},
               {"dialogs", app_.open_dialogs()}, {"refusing", refusing()}, {"reply_delay_ms", reply_delay_.count()},
               {"journal_next", app_.journal_next_index()}, {"next_window", app_.desktop().next_id_number()},
               {"freed_ids", app_.desktop().freed_ids()}});
  });
  ops.add("journal", [this](const Json& req) -> Reply {
    const auto since =
        static_cast<std::uint64_t>(int_field(req, "since", 0, std::numeric_limits<std::int64_t>::max()).value_or(0));
    Json entries = Json::array();
    for (const auto& e : app_.journal())
      if (e.index >= since) entries.push_back(journal_json(e));
    return ok({{"entries", entries}, {"next", app_.journal_next_index()}});
  });
  ops.add("clear_journal", [this](const Json&) -> Reply {
    app_.clear_journal();
    return ok();
  });
}

}  // namespace wibwob::fakewibwob
