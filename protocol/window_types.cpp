#include "protocol/window_types.hpp"

#include <algorithm>

namespace wibwob::protocol {

namespace {

std::vector<WindowTypeInfo> make_table() {
  std::vector<WindowTypeInfo> v;
  for (std::string_view n :
       {"test_pattern", "gradient", "frame_player", "text_view", "text_editor", "browser", "verse", "mycelium",
        "orbit", "torus", "cube", "life", "blocks", "score", "ascii", "animated_gradient", "monster_cam",
        "monster_verse", "contour_map", "generative_lab", "monster_portal", "paint", "micropolis_ascii", "terminal",
        "room_chat", "wibwob", "scramble", "quadra", "snake", "rogue", "deep_signal", "backrooms_tv", "app_launcher",
        "gallery", "figlet_text"})
    v.push_back(WindowTypeInfo{n});
  auto set = [&v](std::string_view name, bool WindowTypeInfo::*field, bool value) {
    auto it = std::find_if(v.begin(), v.end(), [&](const WindowTypeInfo& t) { return t.name == name; });
    (*it).*field = value;
  };
  for (auto n : {"room_chat", "wibwob", "scramble"}) set(n, &WindowTypeInfo::internal, true);
  set("scramble", &WindowTypeInfo::unsupported, true);
  set("backrooms_tv", &WindowTypeInfo::modal_dialog, true);
  for (auto n : {"frame_player", "text_view"}) set(n, &WindowTypeInfo::needs_path, true);
  set("figlet_text", &WindowTypeInfo::needs_text, true);
  set("text_editor", &WindowTypeInfo::reply_has_id, false);
  return v;
}

}  // namespace

const std::vector<WindowTypeInfo>& window_types() {
  static const std::vector<WindowTypeInfo> table = make_table();
  return table;
}

const WindowTypeInfo* find_window_type(std::string_view name) {
  const auto& t = window_types();
  auto it = std::find_if(t.begin(), t.end(), [&](const WindowTypeInfo& i) { return i.name == name; });
  return it == t.end() ? nullptr : &*it;
}

bool is_known_window_type(std::string_view type) { return find_window_type(type) != nullptr; }

bool is_internal_window_type(std::string_view type) {
  const auto* t = find_window_type(type);
  return t && t->internal;
}

}  // namespace wibwob::protocol
