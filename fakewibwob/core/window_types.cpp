#include "fakewibwob/core/window_types.hpp"

#include <map>

namespace wibwob::fakewibwob {

namespace {

constexpr Rect kDefault{4, 2, 64, 20};

// The fake's default rectangles; a type not listed gets kDefault.
const std::map<std::string_view, Rect>& default_bounds() {
  static const std::map<std::string_view, Rect> bounds = {
      {"test_pattern", {2, 1, 60, 20}}, {"gradient", {4, 2, 60, 20}},   {"frame_player", {2, 1, 42, 14}},
      {"text_view", {6, 3, 80, 24}},    {"text_editor", {8, 4, 80, 24}}, {"browser", {4, 2, 100, 30}},
      {"verse", {12, 4, 96, 30}},       {"room_chat", {10, 5, 100, 28}}, {"wibwob", {20, 6, 70, 22}},
      {"scramble", {30, 8, 40, 16}},    {"app_launcher", {10, 4, 50, 18}}, {"gallery", {4, 2, 90, 28}},
      {"figlet_text", {6, 3, 70, 12}}};
  return bounds;
}

std::vector<WindowType> make_types() {
  std::vector<WindowType> v;
  for (const auto& info : protocol::window_types()) {
    const auto it = default_bounds().find(info.name);
    v.push_back(WindowType{info, it == default_bounds().end() ? kDefault : it->second,
                           info.name == "room_chat" ? "Room Chat" : ""});
  }
  return v;
}

}  // namespace

const std::vector<WindowType>& window_types() {
  static const std::vector<WindowType> types = make_types();
  return types;
}

const WindowType* find_window_type(std::string_view name) {
  // Same order as the protocol's table: the same index.
  const auto* info = protocol::find_window_type(name);
  if (!info) return nullptr;
  return &window_types()[static_cast<std::size_t>(info - protocol::window_types().data())];
}

}  // namespace wibwob::fakewibwob
