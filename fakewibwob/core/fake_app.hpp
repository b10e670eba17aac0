// FakeApp: the WibWob-DOS IPC server's behaviour as a pure state machine.
//
// One object is one app process. The Asio server (fakewibwob/server) and the
// deterministic simulator both drive it: they hand it the raw bytes of one
// request (what the app's single read() returned) and write back the reply
// line; events it fires collect in an outbox that the driver drains with
// take_events() and pushes to subscribers. Time is passed in as a value
// (`Millis`, milliseconds since an origin the driver chooses), so the
// simulator can run it on virtual time. No I/O, no clocks, no threads; not
// thread-safe (one driver at a time).
//
// Parsing and formatting of wire lines come from protocol/ipc.hpp, so the fake
// and the bridge share one codec.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakewibwob/core/desktop.hpp"
#include "protocol/ipc.hpp"
#include "protocol/result.hpp"

namespace wibwob::fakewibwob {

using Millis = std::chrono::milliseconds;
namespace ipc = protocol::ipc;

class WorkspaceFiles;  // fakewibwob/core/workspace.hpp

// The terminal the app runs in (default: the 200x60 the spec observed).
struct TerminalSize {
  std::int32_t cols = 200;
  std::int32_t rows = 60;
};

struct CoreConfig {
  // get_canvas_size reports the terminal minus the menu bar; windows live on
  // (and tile/cascade arrange over) the desktop, which is also minus the
  // status line: 200x60 -> canvas 200x59, desktop 200x58.
  TerminalSize terminal;
  IdReuse id_reuse;                    // the id-reuse quirk, on by default (desktop.hpp)
  // Where export_state / import_state / save_workspace / open_workspace read
  // and write. nullptr: an in-memory MemoryFiles owned by the app.
  std::shared_ptr<WorkspaceFiles> files;
  std::string app_dir = ".";           // the app's folder: export_state's default and save_workspace's target
  std::int64_t epoch_seconds = 0;      // wall clock (Unix seconds) at Millis 0: workspace timestamps
  std::size_t chat_log_max = 50;       // get_state shows at most this many
  std::size_t journal_max = 100000;    // oldest entries are dropped beyond this
  std::string display_name;            // room_chat_display_name reply ("" = not chosen)
  // Whether a path given to frame_player/text_view exists. Unset: every path
  // exists (the core never touches a file system). When it returns false the
  // fake replies "err file not found" (our guess: the spec names no reply).
  std::function<bool(std::string_view)> path_exists;
};

// What a person or a layout file opens, and what create_window asks for.
struct OpenSpec {
  std::string type;
  std::optional<Rect> bounds;  // nullopt: the type's default bounds
  std::optional<std::string> title;  // nullopt: figlet text or the type's default title
  std::optional<std::string> path;
  std::optional<std::string> text;  // figlet_text
  std::optional<std::string> gradient;
};

// The result of one request.
struct Response {
  // The reply line (ends in "\n"). nullopt: withheld until a person closes
  // the modal dialog this request opened (backrooms_tv); see dismiss_dialog.
  std::optional<std::string> reply;
  std::optional<std::uint64_t> dialog;  // set when the reply is withheld (a modal box is open)
  bool subscribe = false;  // the connection becomes a push-only event subscriber
};

struct JournalEntry {
  std::uint64_t index = 0;  // 0, 1, 2... over the process lifetime of this object (survives restart)
  Millis at{0};
  std::string raw;          // the bytes as read (already truncated to 2047)
  ipc::Command command;     // what the app made of them
  std::string reply;        // reply line; empty while withheld or when none was sent
};

// A dialog a person has to close before its request gets its reply.
struct DialogResult {
  std::uint64_t dialog = 0;
  std::string reply;
};

class FakeApp {
 public:
  explicit FakeApp(CoreConfig config = {});

  // --- the app protocol ------------------------------------------------------

  // One request: `bytes` as the app's single read() returned them. Longer
  // input is truncated to ipc::max_request_bytes first, as the read would.
  // Records a journal entry.
  Response handle_request(std::string_view bytes, Millis now);

  // Events fired since the last call, in order (seq ascending).
  std::vector<ipc::Event> take_events();

  // --- what a person does in the UI ----------------------------------------

  // Opens a window like a menu action. Creating a window fires state_changed
  // ("a window created (any route)"); pass fire_event=false for a window
  // that should appear silently. Errors: unknown type, missing path/text.
  protocol::Result<std::string> open(const OpenSpec& spec, bool fire_event = true);
  // Mouse/keyboard changes: no event, ever (the app's quirk). False when missing.
  bool person_move(std::string_view id, std::int32_t x, std::int32_t y);
  bool person_resize(std::string_view id, std::int32_t w, std::int32_t h);
  bool person_close(std::string_view id);
  bool person_focus(std::string_view id);
  bool set_title(std::string_view id, std::string title);
  bool set_refuses_close(std::string_view id, bool refuses);
  // A test_pattern window whose title holds a control character: the app's
  // incomplete escaping then makes every get_state reply invalid JSON.
  std::string open_broken_title_window();
  // The person types a line into the room chat window: queued for
  // room_chat_pending and shown in the chat log as "you".
  void type_chat(std::string text);
  void set_display_name(std::string name) { config_.display_name = std::move(name); }

  // Modal dialogs, innermost last: the one create_window type=backrooms_tv
  // opens, and the error box of a workspace that cannot be loaded.
  std::size_t open_dialogs() const { return dialogs_.size(); }
  // The person closes the innermost dialog: a backrooms_tv window opens and
  // fires its event; an error box just closes. Returns the withheld reply
  // for the waiting connection.
  std::optional<DialogResult> dismiss_dialog();

  // --- lifecycle ---------------------------------------------------------------

  // A new process: windows, chat, dialogs and the event seq are gone, ids
  // restart at w1; then the layout (front-most first) is opened, silently
  // (the app loads it before anyone can subscribe). Returns the dialogs that
  // were pending: their connections die without a reply. The journal stays.
  std::vector<std::uint64_t> restart(const std::vector<OpenSpec>& layout = {});

  // --- inspection --------------------------------------------------------------

  ipc::AppState state() const;
  std::string get_state_line() const { return ipc::format_get_state(state()); }
  const Desktop& desktop() const { return desktop_; }
  const std::deque<JournalEntry>& journal() const { return journal_; }
  std::uint64_t journal_next_index() const { return journal_next_; }
  void clear_journal() { journal_.clear(); }
  std::int64_t last_seq() const { return seq_; }
  const ipc::Json& presence() const { return presence_; }
  const std::deque<std::string>& pending_chat() const { return pending_chat_; }
  const CoreConfig& config() const { return config_; }
  WorkspaceFiles& files() { return *files_; }
  Rect desktop_rect() const { return desktop_.area(); }   // what tile/cascade arrange over
  Rect canvas_rect() const;                               // what get_canvas_size reports

 private:
  struct PendingDialog {
    std::uint64_t token;
    std::optional<OpenSpec> spec;  // set: backrooms_tv, opened on dismissal; else an error box
    std::string reply;             // the error box's withheld reply
    std::size_t journal_index;     // entry whose reply is withheld
  };

  std::string dispatch(const ipc::Command& c, Response& r, std::size_t journal_index);
  std::string create_window(const ipc::Command& c, Response& r, std::size_t journal_index);
  std::string move_window(const ipc::Command& c);
  std::string resize_window(const ipc::Command& c);
  std::string focus_window(const ipc::Command& c);
  std::string close_window(const ipc::Command& c);
  std::string room_chat_receive(const ipc::Command& c);
  std::string room_presence(const ipc::Command& c);
  std::string room_chat_pending();
  // Desktop-wide commands (desktop_commands.cpp).
  std::optional<std::string> desktop_command(const ipc::Command& c, Response& r, std::size_t journal_index);
  std::string close_all();
  std::string arrange(bool tile);
  std::string get_canvas_size() const;
  std::string export_state(const ipc::Command& c);
  std::string save_workspace();
  std::string load_workspace(const ipc::Command& c, bool import, Response& r, std::size_t journal_index);
  std::string exec_command(const ipc::Command& c, Response& r, std::size_t journal_index);
  std::string modal_error(std::string reply, Response& r, std::size_t journal_index);
  std::string timestamp() const;

  // Validates a spec; on success returns the window to open. On failure the
  // app's "err ..." reason.
  protocol::Result<DesktopWindow> make_window(const OpenSpec& spec) const;
  const DesktopWindow& open_now(DesktopWindow w, bool fire_event);
  void fire(std::string event, const std::string& id);
  void add_chat(std::string sender, std::string text);
  JournalEntry* journal_entry(std::uint64_t index);

  CoreConfig config_;
  std::shared_ptr<WorkspaceFiles> files_;
  Desktop desktop_;
  Millis now_{0};  // the current request's time
  std::int64_t seq_ = 0;
  std::vector<ipc::Event> outbox_;
  std::vector<PendingDialog> dialogs_;
  std::uint64_t next_dialog_ = 1;
  std::deque<ipc::ChatEntry> chat_log_;
  std::int64_t chat_seq_ = 0;
  std::deque<std::string> pending_chat_;
  ipc::Json presence_ = ipc::Json::array();
  std::deque<JournalEntry> journal_;
  std::uint64_t journal_next_ = 0;
};

// One command of the app's registry (get_capabilities lists them,
// exec_command runs them by name).
struct RegistryCommand {
  std::string_view name;
  std::string_view description;
  bool requires_path = false;
};
// The registry, sorted by name: the desktop-wide commands exec_command can run.
const std::vector<RegistryCommand>& command_registry();

// Parses an integer the way C's atoi does (leading whitespace, optional sign,
// digits, anything after ignored, no digits -> 0), saturated to int32. The
// spec does not say how the app parses numbers; atoi is our assumption.
std::int32_t parse_int_like_atoi(std::string_view s);

// The 32-lowercase-hex nonce of an auth challenge, from 16 random bytes the
// driver supplies (a real RNG in the server, a seeded one in the simulator).
std::string make_nonce(const std::array<std::uint8_t, 16>& random_bytes);

// A layout file: the get_state object itself ({"windows":[...]}, ids
// ignored), or a bare array of windows. Each window needs `type`; x/y/w/h
// (all four or the default bounds), title, path, text, gradient optional.
// Front-most first, as get_state lists them.
protocol::Result<std::vector<OpenSpec>> parse_layout(std::string_view json);

}  // namespace wibwob::fakewibwob
