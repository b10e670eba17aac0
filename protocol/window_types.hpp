// The 35 window types of WibWob-DOS and what each one can do
// (spec/wibwob-ipc.md, "Window commands"): the one table the fake app, the
// bridge's engine and the simulator read. Names are case-sensitive.
#pragma once

#include <string_view>
#include <vector>

namespace wibwob::protocol {

struct WindowTypeInfo {
  std::string_view name;
  bool internal = false;      // room_chat, wibwob, scramble: each app's own, never synced
  bool unsupported = false;   // scramble: create_window answers "err unsupported type"
  bool modal_dialog = false;  // backrooms_tv: the reply waits until a person closes a dialog
  bool needs_path = false;    // frame_player, text_view: "err missing path"; get_state shows the path
  bool needs_text = false;    // figlet_text: "err missing text param"; the text becomes the title
  bool reply_has_id = true;   // text_editor: {"success":true} without an id

  // A bridge may create it from the room: the app supports it and it does
  // not block the app's UI thread on a dialog.
  bool creatable_over_ipc() const noexcept { return !unsupported && !modal_dialog; }
};

// All 35, in the spec's order.
const std::vector<WindowTypeInfo>& window_types();
// nullptr when `name` is not one of the 35.
const WindowTypeInfo* find_window_type(std::string_view name);

bool is_known_window_type(std::string_view type);
bool is_internal_window_type(std::string_view type);

}  // namespace wibwob::protocol
