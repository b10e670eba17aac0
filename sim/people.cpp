// What people and other IPC clients do to the apps, and the faults.
#include <algorithm>

#include "sim/simulation.hpp"

namespace wibwob::sim::detail {

namespace ipc = protocol::ipc;

namespace {

// Types people open: creatable ones with every creation rule (path, text, no
// id in the reply) plus an internal one.
const std::vector<std::string> kActionTypes = {"verse", "cube", "orbit", "life", "text_view",
                                               "figlet_text", "text_editor", "room_chat"};

}  // namespace

// Calls `fn` at the arrival times of a Poisson process with `per_second`
// events, until people stop acting.
void Simulation::schedule_poisson(Ms from, double per_second, std::function<void()> fn) {
  const double mean_ms = 1000.0 / std::max(per_second, 0.001);
  const Ms t = from + Ms(static_cast<std::int64_t>(std::exponential_distribution<double>(1.0 / mean_ms)(rng_)) + 1);
  if (t >= act_until_) return;
  at(t, [this, per_second, fn = std::move(fn)] {
    fn();
    schedule_poisson(now_, per_second, fn);
  });
}

std::vector<std::string> Simulation::window_ids(const fakewibwob::FakeApp& app) const {
  std::vector<std::string> ids;
  for (const auto& w : app.desktop().windows()) ids.push_back(w.id);
  return ids;
}

fakewibwob::OpenSpec Simulation::random_spec() {
  fakewibwob::OpenSpec s;
  s.type = kActionTypes[static_cast<std::size_t>(pick(static_cast<int>(kActionTypes.size())))];
  s.bounds = fakewibwob::Rect{pick(200), pick(60), 16 + pick(60), 6 + pick(20)};
  if (s.type == "text_view") s.path = "/home/user/notes " + std::to_string(pick(5)) + ".txt";
  if (s.type == "figlet_text") s.text = "hi " + std::to_string(pick(100));
  return s;
}

// What an app opens when it starts: its room chat window, and sometimes a
// saved layout's window.
std::vector<fakewibwob::OpenSpec> Simulation::app_layout() {
  std::vector<fakewibwob::OpenSpec> layout;
  fakewibwob::OpenSpec chat;
  chat.type = "room_chat";
  chat.bounds = fakewibwob::Rect{150, 0, 50, 20};
  layout.push_back(chat);
  if (now_ > Ms(0) && pick(2)) layout.push_back(random_spec());
  return layout;
}

// A person keeps the room chat window open (closing the last one would make
// the app refuse chat and presence, which the chat checks do not model).
bool Simulation::closes_last_chat_window(const Instance& inst, const std::string& id) const {
  int chats = 0;
  bool target_is_chat = false;
  for (const auto& w : inst.app->desktop().windows()) {
    if (w.type != "room_chat") continue;
    ++chats;
    target_is_chat = target_is_chat || w.id == id;
  }
  return target_is_chat && chats == 1;
}

void Simulation::ipc_request(Instance& inst, const std::string& name, const ipc::Params& p) {
  auto line = ipc::build_request(name, p);
  if (!line) return;
  trace("i" + std::to_string(inst.index) + " other IPC client: " + line->substr(0, line->size() - 1));
  const auto cmd = ipc::parse_request(*line);
  note_closes(inst, cmd.name, cmd.params.count("id") ? cmd.params.at("id") : std::string());
  auto r = inst.app->handle_request(*line, now_);
  if (r.dialog) {
    trace("i" + std::to_string(inst.index) + " person closes the app's error box");
    (void)inst.app->dismiss_dialog();
  }
  const auto reply = ipc::classify_reply(r.reply.value_or(""));
  if (name == "create_window" && reply.id) probe_opened(inst, *reply.id);
  deliver_events(inst, inst.engine_gen);
}

void Simulation::act() {
  Instance& inst = *instances_[static_cast<std::size_t>(pick(cfg_.instances))];
  if (!inst.app_up) return;
  ++report_.actions;
  last_action_at_ = now_;
  auto ids = window_ids(*inst.app);
  const int kind = ids.empty() ? 0 : pick(cfg_.desktop_actions ? 11 : 9);
  const std::string who = "i" + std::to_string(inst.index);
  if (kind == 0 || kind == 1) {
    auto s = random_spec();
    trace(who + " person opens " + s.type);
    if (auto id = inst.app->open(s)) probe_opened(inst, *id);
    deliver_events(inst, inst.engine_gen);
  } else if (kind == 2) {
    auto s = random_spec();
    ipc::Params p{{"type", s.type}, {"x", std::to_string(s.bounds->x)}, {"y", std::to_string(s.bounds->y)},
                  {"w", std::to_string(s.bounds->w)}, {"h", std::to_string(s.bounds->h)}};
    if (s.path) p.emplace_back("path", *s.path);
    if (s.text) p.emplace_back("text", *s.text);
    ipc_request(inst, "create_window", p);
  } else {
    act_on_window(inst, kind, ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))]);
  }
}

void Simulation::act_on_window(Instance& inst, int kind, const std::string& target) {
  const std::string who = "i" + std::to_string(inst.index);
  if ((kind == 5 || kind == 7) && closes_last_chat_window(inst, target)) kind = 8;
  switch (kind) {
    case 3:
      trace(who + " person moves " + target);
      inst.app->person_move(target, pick(200), pick(60));
      break;
    case 4:
      trace(who + " person resizes " + target);
      inst.app->person_resize(target, 16 + pick(60), 6 + pick(20));
      break;
    case 5:
      trace(who + " person closes " + target);
      note_closes(inst, "close_window", target);
      inst.app->person_close(target);
      break;
    case 6:
      ipc_request(inst, "move_window", {{"id", target}, {"x", std::to_string(pick(200))}, {"y", std::to_string(pick(60))}});
      break;
    case 7:
      ipc_request(inst, pick(2) ? "close_window" : "resize_window",
                  {{"id", target}, {"width", std::to_string(16 + pick(60))}, {"height", std::to_string(6 + pick(20))}});
      break;
    case 9:
      assistant_acts(inst);
      break;
    case 10:
      person_drags(inst, target);
      break;
    default:
      trace(who + " person focuses " + target);
      inst.app->person_focus(target);
      break;
  }
}

// The app's AI assistant (or a script) uses a desktop-wide command over IPC:
// none fires an event, so the bridge sees the result only by polling.
void Simulation::assistant_acts(Instance& inst) {
  const std::string ws = "workspaces/sim-i" + std::to_string(inst.index) + ".json";
  ++report_.assistant_actions;
  switch (pick(5)) {
    case 0:
      ipc_request(inst, "tile", {});
      break;
    case 1:
      ipc_request(inst, "cascade", {});
      break;
    case 2:
      ipc_request(inst, "close_all", {});
      break;
    case 3:
      ipc_request(inst, "export_state", {{"path", ws}});
      inst.saved_workspace = true;
      break;
    default:
      // Restores what it saved (either command; both close every window first).
      if (!inst.saved_workspace) return ipc_request(inst, "save_workspace", {});
      ipc_request(inst, pick(2) ? "import_state" : "open_workspace", {{"path", ws}});
      break;
  }
  // The room's chat window is part of the room's UI: the person opens it again at once.
  if (!inst.app->desktop().has_type("room_chat")) {
    trace("i" + std::to_string(inst.index) + " person reopens the room chat window");
    (void)inst.app->open(app_layout().front(), true);
  }
}

// A person drags a window with the mouse: several positions, each a few
// tens of ms apart, so a poll sees some of them or none (no events).
void Simulation::person_drags(Instance& inst, const std::string& target) {
  trace("i" + std::to_string(inst.index) + " person starts dragging " + target);
  ++report_.drags;
  const int steps = 2 + pick(5);
  std::int32_t x = pick(200), y = pick(58);
  Ms t = now_;
  for (int i = 0; i < steps; ++i) {
    x = std::clamp(x + pick(41) - 20, 0, 199);
    y = std::clamp(y + pick(11) - 5, 0, 57);
    t += uniform(Ms(15), Ms(60));
    at(t, [this, &inst, target, x, y, app_gen = inst.app_gen] {
      if (inst.app_gen != app_gen || !inst.app_up) return;
      last_action_at_ = now_;
      if (inst.app->person_move(target, x, y))
        trace("i" + std::to_string(inst.index) + " person drags " + target + " to " + std::to_string(x) + "," +
              std::to_string(y));
    });
  }
}

// A person types a line into the room chat window of a random instance.
void Simulation::type_chat() {
  Instance& inst = *instances_[static_cast<std::size_t>(pick(cfg_.instances))];
  if (!inst.app_up || !inst.app->desktop().has_type("room_chat")) return;
  std::string text = chat_.typed(inst.index);
  trace("i" + std::to_string(inst.index) + " person types '" + text + "'");
  inst.app->type_chat(std::move(text));
  last_action_at_ = now_;
}

// --- faults ---------------------------------------------------------------------------

void Simulation::fault() {
  Instance& inst = *instances_[static_cast<std::size_t>(pick(cfg_.instances))];
  const std::string who = "i" + std::to_string(inst.index);
  ++report_.faults;
  switch (pick(6)) {
    case 0:
    case 1:
      say(who + " fault: room connection dropped");
      close_conn(inst, true);
      break;
    case 2:
      crash_app(inst);
      break;
    case 3:
      say(who + " fault: bridge restarts (app keeps running)");
      disturb(inst);
      start_bridge(inst);
      break;
    case 4:
      say("fault: room server unreachable for a while, all connections dropped");
      room_down_ = true;
      for (auto& other : instances_) close_conn(*other, true);
      at(now_ + uniform(Ms(100), Ms(3000)), [this] { room_down_ = false; });
      break;
    default:
      say("fault: room server restarts (state from its last save)");
      restart_room_server(uniform(Ms(100), Ms(3000)));
      break;
  }
}

void Simulation::crash_app(Instance& inst) {
  if (!inst.app_up) return;
  say("i" + std::to_string(inst.index) + " fault: app crashes and restarts");
  disturb(inst);
  chat_.app_crashed(inst.index, {inst.app->pending_chat().begin(), inst.app->pending_chat().end()});
  inst.app_up = false;
  ++inst.app_gen;
  const auto gen = inst.engine_gen;
  later(inst, now_ + Ms(20), gen, [this, &inst] { apply(inst, inst.engine->on_app_unreachable(now_)); });
  at(now_ + uniform(Ms(100), Ms(2000)), [this, &inst, app_gen = inst.app_gen] {
    if (inst.app_gen != app_gen || inst.app_up) return;  // healed already
    inst.app->restart(app_layout());  // the app reloads its layout
    (void)inst.app->take_events();
    inst.app_up = true;
    disturb(inst);  // probes waiting on the app waited for the restart
    trace("i" + std::to_string(inst.index) + " app is back");
    apply(inst, inst.engine->on_app_identity(app_key(inst), now_));  // the bridge re-subscribes
  });
}

void Simulation::heal_all() {
  room_down_ = false;
  end_long_outages();
  for (auto& inst : instances_) {
    if (!inst->app_up) {
      inst->app->restart(app_layout());
      (void)inst->app->take_events();
      inst->app_up = true;
      disturb(*inst);
    }
  }
}

}  // namespace wibwob::sim::detail
