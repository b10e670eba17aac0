// The app's desktop-wide commands (spec/wibwob-ipc.md, "Desktop-wide
// commands"): close_all, tile, cascade, get_canvas_size, get_window_types,
// get_capabilities, export_state, save_workspace, import_state,
// open_workspace, exec_command. None of them fires an event, except a
// workspace load, which fires one state_changed (as observed). Where the spec
// is silent the choice is documented in docs/fakewibwob.md.
#include <nlohmann/json.hpp>

#include "fakewibwob/core/arrange.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "fakewibwob/core/workspace.hpp"

namespace wibwob::fakewibwob {

namespace {

using Ordered = nlohmann::ordered_json;  // replies keep the app's key order

const std::string* param(const ipc::Command& c, const char* key) {
  auto it = c.params.find(key);
  return it == c.params.end() ? nullptr : &it->second;
}

const std::string* nonempty_param(const ipc::Command& c, const char* key) {
  const std::string* p = param(c, key);
  return p && !p->empty() ? p : nullptr;
}

std::string join_path(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

std::string line(const Ordered& j) { return j.dump() + "\n"; }

}  // namespace

const std::vector<RegistryCommand>& command_registry() {
  static const std::vector<RegistryCommand> registry{
      {"cascade", "Cascade all windows over the desktop", false},
      {"close_all", "Close every window", false},
      {"export_state", "Write the workspace to a JSON file (path, default workspace_state.json)", false},
      {"get_canvas_size", "Report the desktop size in cells", false},
      {"get_window_types", "List the window types and whether they can be spawned", false},
      {"import_state", "Replace the open windows with those of a workspace file", true},
      {"open_workspace", "Open a saved workspace file, replacing the open windows", true},
      {"save_workspace", "Save the workspace to the app's folder", false},
      {"tile", "Tile all windows over the desktop", false},
  };
  return registry;
}

std::optional<std::string> FakeApp::desktop_command(const ipc::Command& c, Response& r, std::size_t journal_index) {
  const std::string& n = c.name;
  if (n == "close_all") return close_all();
  if (n == "tile") return arrange(true);
  if (n == "cascade") return arrange(false);
  if (n == "get_canvas_size") return get_canvas_size();
  if (n == "get_window_types") {
    Ordered types = Ordered::array();
    for (const auto& t : window_types()) types.push_back({{"type", t.name}, {"spawnable", !t.unsupported}});
    return line({{"window_types", std::move(types)}});
  }
  if (n == "get_capabilities") {
    Ordered commands = Ordered::array();
    for (const auto& rc : command_registry())
      commands.push_back({{"name", rc.name}, {"description", rc.description}, {"requires_path", rc.requires_path}});
    return line({{"version", "v1"}, {"commands", std::move(commands)}});
  }
  if (n == "export_state") return export_state(c);
  if (n == "save_workspace") return save_workspace();
  if (n == "import_state") return load_workspace(c, true, r, journal_index);
  if (n == "open_workspace") return load_workspace(c, false, r, journal_index);
  if (n == "exec_command") return exec_command(c, r, journal_index);
  return std::nullopt;
}

std::string FakeApp::close_all() {
  // Not close_window: every id stays behind for reuse, and no event fires.
  std::vector<std::string> ids;
  for (const auto& w : desktop_.windows()) ids.push_back(w.id);
  for (const auto& id : ids) desktop_.close(id, CloseRoute::other);
  return ipc::format_ok();
}

std::string FakeApp::arrange(bool tile) {
  const auto& windows = desktop_.windows();  // front-most first
  const std::size_t n = windows.size();
  const auto places = tile ? tile_places(n, desktop_.area()) : cascade_places(n, desktop_.area());
  if (places.size() == n) {
    std::vector<std::string> ids;
    for (const auto& w : windows) ids.push_back(w.id);
    // Place 0 is the back-most window's, so the front-most gets the last.
    for (std::size_t i = 0; i < n; ++i) desktop_.find(ids[i])->bounds = places[n - 1 - i];
  }
  return ipc::format_ok();  // Turbo Vision's tileError does nothing, and the app still says ok
}

std::string FakeApp::get_canvas_size() const {
  const Rect c = canvas_rect();
  return line({{"width", c.w}, {"height", c.h}, {"cols", c.w}, {"rows", c.h}});
}

std::string FakeApp::timestamp() const { return iso_timestamp(config_.epoch_seconds + now_.count() / 1000); }

std::string FakeApp::export_state(const ipc::Command& c) {
  const std::string* p = nonempty_param(c, "path");
  const std::string path = p ? *p : join_path(config_.app_dir, "workspace_state.json");
  const std::string text = format_workspace(desktop_.windows(), desktop_.area(), timestamp());
  return files_->write(path, text) ? ipc::format_ok() : ipc::format_err("export failed");
}

std::string FakeApp::save_workspace() {
  // The file a room's `layout_path` names in spec/rooms.md's example.
  const std::string path = join_path(config_.app_dir, "workspaces/last_workspace.json");
  const std::string text = format_workspace(desktop_.windows(), desktop_.area(), timestamp());
  return files_->write(path, text) ? ipc::format_ok() : ipc::format_err("save workspace failed");
}

std::string FakeApp::modal_error(std::string reply, Response& r, std::size_t journal_index) {
  // The app shows a message box inside the request: the reply waits until a
  // person closes it (control op dismiss_dialog), then gets `reply`.
  const std::uint64_t token = next_dialog_++;
  dialogs_.push_back({token, std::nullopt, std::move(reply), journal_index});
  r.dialog = token;
  return {};
}

std::string FakeApp::load_workspace(const ipc::Command& c, bool import, Response& r, std::size_t journal_index) {
  const std::string* path = nonempty_param(c, "path");
  if (!path) return ipc::format_err("missing path");
  const std::string failed = ipc::format_err(import ? "invalid snapshot" : "open workspace failed");
  const auto text = files_->read(*path, kMaxWorkspaceBytes);
  if (import) {
    // import_state checks the path and the two keys itself and answers at once.
    if (!text) return ipc::format_err("cannot open import path");
    if (!has_snapshot_keys(*text)) return failed;
  }
  if (!text) return modal_error(failed, r, journal_index);
  auto specs = parse_workspace(*text);
  if (!specs) return modal_error(failed, r, journal_index);
  // Validate everything before closing anything: a file none of whose
  // windows can open fails like an empty one and leaves the desktop alone.
  std::vector<DesktopWindow> ready;
  for (const auto& s : *specs)
    if (auto w = make_window(s)) ready.push_back(std::move(*w));
  if (ready.empty()) return modal_error(failed, r, journal_index);
  close_all();
  std::string last;
  for (auto& w : ready) last = desktop_.open(std::move(w)).id;
  // Observed: one state_changed for one of the restored windows; the fake
  // names the last one opened (the front-most).
  fire("state_changed", last);
  return ipc::format_ok();
}

std::string FakeApp::exec_command(const ipc::Command& c, Response& r, std::size_t journal_index) {
  const std::string* name = nonempty_param(c, "name");
  if (!name) return ipc::format_err("missing name");
  for (const auto& rc : command_registry()) {
    if (rc.name != *name) continue;
    ipc::Command inner = c;
    inner.name = std::string(rc.name);
    inner.params.erase("name");
    return desktop_command(inner, r, journal_index).value_or(ipc::format_err("unknown command"));
  }
  return ipc::format_err("unknown command");
}

}  // namespace wibwob::fakewibwob
