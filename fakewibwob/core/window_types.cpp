#include "fakewibwob/core/window_types.hpp"

namespace wibwob::fakewibwob {

namespace {

constexpr Rect kDefault{4, 2, 64, 20};

std::vector<WindowType> make_types() {
  auto t = [](std::string_view name, Rect r = kDefault) {
    WindowType w;
    w.name = name;
    w.default_bounds = r;
    return w;
  };
  std::vector<WindowType> v;
  v.push_back(t("test_pattern", {2, 1, 60, 20}));
  v.push_back(t("gradient", {4, 2, 60, 20}));
  auto fp = t("frame_player", {2, 1, 42, 14});
  fp.needs_path = true;
  v.push_back(fp);
  auto tv = t("text_view", {6, 3, 80, 24});
  tv.needs_path = true;
  v.push_back(tv);
  auto te = t("text_editor", {8, 4, 80, 24});
  te.reply_has_id = false;
  v.push_back(te);
  v.push_back(t("browser", {4, 2, 100, 30}));
  v.push_back(t("verse", {12, 4, 96, 30}));
  for (std::string_view n : {"mycelium", "orbit", "torus", "cube", "life", "blocks", "score", "ascii",
                             "animated_gradient", "monster_cam", "monster_verse", "contour_map", "generative_lab",
                             "monster_portal", "paint", "micropolis_ascii", "terminal"})
    v.push_back(t(n));
  auto rc = t("room_chat", {10, 5, 100, 28});
  rc.default_title = "Room Chat";
  v.push_back(rc);
  v.push_back(t("wibwob", {20, 6, 70, 22}));
  auto sc = t("scramble", {30, 8, 40, 16});
  sc.creatable = false;
  v.push_back(sc);
  for (std::string_view n : {"quadra", "snake", "rogue", "deep_signal"}) v.push_back(t(n));
  auto bt = t("backrooms_tv");
  bt.modal_dialog = true;
  v.push_back(bt);
  v.push_back(t("app_launcher", {10, 4, 50, 18}));
  v.push_back(t("gallery", {4, 2, 90, 28}));
  auto fig = t("figlet_text", {6, 3, 70, 12});
  fig.needs_text = true;
  v.push_back(fig);
  return v;
}

}  // namespace

const std::vector<WindowType>& window_types() {
  static const std::vector<WindowType> types = make_types();
  return types;
}

const WindowType* find_window_type(std::string_view name) {
  for (const auto& t : window_types())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace wibwob::fakewibwob
