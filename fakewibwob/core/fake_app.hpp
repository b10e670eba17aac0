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

struct CoreConfig {
  Rect desktop{0, 0, 240, 80};
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
  std::optional<std::uint64_t> dialog;  // set when the reply is withheld
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

  // Modal dialogs opened by create_window type=backrooms_tv, innermost last.
  std::size_t open_dialogs() const { return dialogs_.size(); }
  // The person closes the innermost dialog: its window opens, its event
  // fires and its withheld reply is returned for the waiting connection.
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

 private:
  struct PendingDialog {
    std::uint64_t token;
    OpenSpec spec;
    std::size_t journal_index;  // entry whose reply is withheld
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

  // Validates a spec; on success returns the window to open. On failure the
  // app's "err ..." reason.
  protocol::Result<DesktopWindow> make_window(const OpenSpec& spec) const;
  const DesktopWindow& open_now(DesktopWindow w, bool fire_event);
  void fire(std::string event, const std::string& id);
  void add_chat(std::string sender, std::string text);
  JournalEntry* journal_entry(std::uint64_t index);

  CoreConfig config_;
  Desktop desktop_;
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
