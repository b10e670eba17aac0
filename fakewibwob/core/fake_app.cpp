#include "fakewibwob/core/fake_app.hpp"

#include "fakewibwob/core/workspace.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace wibwob::fakewibwob {

using protocol::Errc;
using protocol::make_error;

namespace {

const std::string* param(const ipc::Command& c, const char* key) {
  auto it = c.params.find(key);
  return it == c.params.end() ? nullptr : &it->second;
}

ipc::Json dump_safe_array(const std::deque<std::string>& items) {
  ipc::Json a = ipc::Json::array();
  for (const auto& s : items) a.push_back(s);
  return a;
}

}  // namespace

std::int32_t parse_int_like_atoi(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::int64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + (s[i] - '0');
    if (v > std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1) break;  // saturate below
  }
  if (negative) v = -v;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, std::numeric_limits<std::int32_t>::min(),
                                                            std::numeric_limits<std::int32_t>::max()));
}

std::string make_nonce(const std::array<std::uint8_t, 16>& random_bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(32);
  for (std::uint8_t b : random_bytes) {
    s += hex[b >> 4];
    s += hex[b & 0xF];
  }
  return s;
}

namespace {

Rect desktop_of(const TerminalSize& t) {
  // The menu bar and the status line take a row each.
  return Rect{0, 0, std::max(0, t.cols), std::max(0, t.rows - 2)};
}

}  // namespace

FakeApp::FakeApp(CoreConfig config)
    : config_(std::move(config)),
      files_(config_.files ? config_.files : std::make_shared<MemoryFiles>()),
      desktop_(desktop_of(config_.terminal), config_.id_reuse) {}

Rect FakeApp::canvas_rect() const {
  return Rect{0, 0, std::max(0, config_.terminal.cols), std::max(0, config_.terminal.rows - 1)};
}

// --- requests ------------------------------------------------------------------

Response FakeApp::handle_request(std::string_view bytes, Millis now) {
  if (bytes.size() > ipc::max_request_bytes) bytes = bytes.substr(0, ipc::max_request_bytes);
  JournalEntry entry;
  now_ = now;
  entry.index = journal_next_++;
  entry.at = now;
  entry.raw = std::string(bytes);
  entry.command = ipc::parse_request(bytes);
  journal_.push_back(std::move(entry));
  while (journal_.size() > config_.journal_max && !journal_.empty()) journal_.pop_front();
  const std::uint64_t index = journal_.back().index;

  Response r;
  std::string reply = dispatch(journal_.back().command, r, index);
  if (!r.dialog) {
    r.reply = reply;
    if (JournalEntry* e = journal_entry(index)) e->reply = std::move(reply);
  }
  return r;
}

std::string FakeApp::dispatch(const ipc::Command& c, Response& r, std::size_t journal_index) {
  const std::string& n = c.name;
  if (n == "get_state") return get_state_line();
  if (n == "create_window") return create_window(c, r, journal_index);
  if (n == "move_window") return move_window(c);
  if (n == "resize_window") return resize_window(c);
  if (n == "focus_window") return focus_window(c);
  if (n == "close_window") return close_window(c);
  if (n == "subscribe_events") {
    r.subscribe = true;
    return ipc::format_subscribed();
  }
  if (n == "room_chat_receive") return room_chat_receive(c);
  if (n == "room_presence") return room_presence(c);
  if (n == "room_chat_pending") return room_chat_pending();
  if (n == "room_chat_display_name") return config_.display_name + "\n";
  if (auto reply = desktop_command(c, r, journal_index)) return *reply;
  return ipc::format_err("unknown cmd");
}

protocol::Result<DesktopWindow> FakeApp::make_window(const OpenSpec& spec) const {
  const WindowType* t = find_window_type(spec.type);
  if (!t) return make_error(Errc::bad_value, "unknown type");
  if (t->unsupported) return make_error(Errc::unsupported, "unsupported type");
  DesktopWindow w;
  w.type = spec.type;
  w.bounds = spec.bounds.value_or(t->default_bounds);
  if (t->needs_path) {
    if (!spec.path || spec.path->empty()) return make_error(Errc::missing_field, "missing path");
    if (config_.path_exists && !config_.path_exists(*spec.path)) return make_error(Errc::bad_value, "file not found");
    w.path = spec.path;
  }
  if (t->needs_text) {
    if (!spec.text || spec.text->empty()) return make_error(Errc::missing_field, "missing text param");
    w.title = *spec.text;  // the app shows figlet text as the window title
    w.text = spec.text;
  } else {
    w.title = std::string(t->default_title);
  }
  if (spec.title) w.title = *spec.title;
  w.gradient = spec.gradient;
  return w;
}

const DesktopWindow& FakeApp::open_now(DesktopWindow w, bool fire_event) {
  const DesktopWindow& opened = desktop_.open(std::move(w));
  if (fire_event) fire("state_changed", opened.id);
  return opened;
}

std::string FakeApp::create_window(const ipc::Command& c, Response& r, std::size_t journal_index) {
  OpenSpec spec;
  if (const auto* t = param(c, "type")) spec.type = *t;
  // Geometry: all four or none; a partial set falls back to the defaults.
  const auto *x = param(c, "x"), *y = param(c, "y"), *w = param(c, "w"), *h = param(c, "h");
  if (x && y && w && h)
    spec.bounds = Rect{parse_int_like_atoi(*x), parse_int_like_atoi(*y), parse_int_like_atoi(*w),
                       parse_int_like_atoi(*h)};
  if (const auto* p = param(c, "path")) spec.path = *p;
  if (const auto* t = param(c, "text")) spec.text = *t;
  if (const auto* g = param(c, "gradient")) spec.gradient = *g;
  auto win = make_window(spec);
  if (!win) return ipc::format_err(win.error().message);
  const WindowType* type = find_window_type(spec.type);
  if (type->modal_dialog) {
    // The app runs a modal dialog inside the request: no reply until a
    // person closes it (dismiss_dialog).
    const std::uint64_t token = next_dialog_++;
    dialogs_.push_back({token, spec, {}, journal_index});
    r.dialog = token;
    return {};
  }
  const DesktopWindow& opened = open_now(std::move(*win), true);
  return ipc::format_success(type->reply_has_id ? std::optional<std::string>(opened.id) : std::nullopt);
}

std::string FakeApp::move_window(const ipc::Command& c) {
  const auto *id = param(c, "id"), *x = param(c, "x"), *y = param(c, "y");
  if (!id || !x || !y) return ipc::format_err("missing id/x/y");
  if (!desktop_.move(*id, parse_int_like_atoi(*x), parse_int_like_atoi(*y)))
    return ipc::format_failure("Window not found");
  fire("state_changed", *id);
  return ipc::format_success();
}

std::string FakeApp::resize_window(const ipc::Command& c) {
  // The app reads width/height here, not w/h (quirk): w/h count as missing.
  const auto *id = param(c, "id"), *w = param(c, "width"), *h = param(c, "height");
  if (!id || !w || !h) return ipc::format_err("missing id/width/height");
  if (!desktop_.resize(*id, parse_int_like_atoi(*w), parse_int_like_atoi(*h)))
    return ipc::format_failure("Window not found");
  fire("state_changed", *id);
  return ipc::format_success();
}

std::string FakeApp::focus_window(const ipc::Command& c) {
  const auto* id = param(c, "id");
  if (!id) return ipc::format_err("missing id");
  if (!desktop_.focus(*id)) return ipc::format_failure("Window not found");
  return ipc::format_success();  // focus fires no event
}

std::string FakeApp::close_window(const ipc::Command& c) {
  const auto* id = param(c, "id");
  if (!id) return ipc::format_err("missing id");
  const DesktopWindow* w = desktop_.find(*id);
  if (!w) return ipc::format_failure("Window not found");
  if (w->refuses_close) return ipc::format_failure("Close failed");
  const std::string closed = *id;
  desktop_.close(closed, CloseRoute::ipc_close_window);  // the only close that forgets the id
  fire("window_closed", closed);
  fire("state_changed", closed);
  return ipc::format_success();
}

std::string FakeApp::room_chat_receive(const ipc::Command& c) {
  const auto* text = param(c, "text");
  if (!text || text->empty()) return ipc::format_err("missing text");
  if (!desktop_.has_type("room_chat")) return ipc::format_err("no room_chat window open");
  const auto* sender = param(c, "sender");
  add_chat(sender ? *sender : std::string(), *text);
  return ipc::format_ok();
}

std::string FakeApp::room_presence(const ipc::Command& c) {
  if (!desktop_.has_type("room_chat")) return ipc::format_err("no room_chat window open");
  if (const auto* p = param(c, "participants")) {
    auto parsed = ipc::parse_json(*p);
    // Kept for inspection only; the app shows whatever it can parse.
    presence_ = parsed ? std::move(*parsed) : ipc::Json(*p);
  }
  return ipc::format_ok();
}

std::string FakeApp::room_chat_pending() {
  const ipc::Json a = dump_safe_array(pending_chat_);
  pending_chat_.clear();  // reading clears the queue
  return a.dump(-1, ' ', false, ipc::Json::error_handler_t::replace) + "\n";
}

// --- events ----------------------------------------------------------------------

void FakeApp::fire(std::string event, const std::string& id) {
  ipc::Event e;
  e.seq = ++seq_;
  e.event = std::move(event);
  e.payload = ipc::Json{{"id", id}};
  outbox_.push_back(std::move(e));
}

std::vector<ipc::Event> FakeApp::take_events() {
  std::vector<ipc::Event> out;
  out.swap(outbox_);
  return out;
}

// --- person actions ----------------------------------------------------------------

protocol::Result<std::string> FakeApp::open(const OpenSpec& spec, bool fire_event) {
  auto win = make_window(spec);
  if (!win) return win.error();
  return open_now(std::move(*win), fire_event).id;
}

bool FakeApp::person_move(std::string_view id, std::int32_t x, std::int32_t y) { return desktop_.move(id, x, y); }
bool FakeApp::person_resize(std::string_view id, std::int32_t w, std::int32_t h) { return desktop_.resize(id, w, h); }
bool FakeApp::person_close(std::string_view id) { return desktop_.close(id); }
bool FakeApp::person_focus(std::string_view id) { return desktop_.focus(id); }

bool FakeApp::set_title(std::string_view id, std::string title) {
  DesktopWindow* w = desktop_.find(id);
  if (!w) return false;
  w->title = std::move(title);
  return true;
}

bool FakeApp::set_refuses_close(std::string_view id, bool refuses) {
  DesktopWindow* w = desktop_.find(id);
  if (!w) return false;
  w->refuses_close = refuses;
  return true;
}

std::string FakeApp::open_broken_title_window() {
  DesktopWindow w;
  w.type = "test_pattern";
  w.bounds = find_window_type("test_pattern")->default_bounds;
  w.title = "broken\x01title\ttab";
  return open_now(std::move(w), true).id;
}

void FakeApp::type_chat(std::string text) {
  add_chat("you", text);
  pending_chat_.push_back(std::move(text));
}

void FakeApp::add_chat(std::string sender, std::string text) {
  chat_log_.push_back({++chat_seq_, std::move(sender), std::move(text)});
  while (chat_log_.size() > config_.chat_log_max) chat_log_.pop_front();
}

std::optional<DialogResult> FakeApp::dismiss_dialog() {
  if (dialogs_.empty()) return std::nullopt;
  PendingDialog d = std::move(dialogs_.back());
  dialogs_.pop_back();
  DialogResult out;
  out.dialog = d.token;
  if (!d.spec) {
    out.reply = std::move(d.reply);  // an error box: nothing opens
  } else if (auto win = make_window(*d.spec)) {
    out.reply = ipc::format_success(open_now(std::move(*win), true).id);
  } else {
    out.reply = ipc::format_err(win.error().message);
  }
  if (JournalEntry* e = journal_entry(d.journal_index)) e->reply = out.reply;
  return out;
}

// --- lifecycle -----------------------------------------------------------------------

std::vector<std::uint64_t> FakeApp::restart(const std::vector<OpenSpec>& layout) {
  std::vector<std::uint64_t> dropped;
  for (const auto& d : dialogs_) dropped.push_back(d.token);
  dialogs_.clear();
  desktop_.reset();
  seq_ = 0;
  outbox_.clear();
  chat_log_.clear();
  chat_seq_ = 0;
  pending_chat_.clear();
  presence_ = ipc::Json::array();
  // Open back to front so the first listed window ends up front-most.
  for (auto it = layout.rbegin(); it != layout.rend(); ++it) {
    auto win = make_window(*it);
    if (win) open_now(std::move(*win), false);
  }
  return dropped;
}

// --- inspection ------------------------------------------------------------------------

ipc::AppState FakeApp::state() const {
  ipc::AppState s;
  s.windows = desktop_.app_windows();
  s.chat_log.assign(chat_log_.begin(), chat_log_.end());
  return s;
}

JournalEntry* FakeApp::journal_entry(std::uint64_t index) {
  if (journal_.empty() || index < journal_.front().index) return nullptr;
  const auto off = index - journal_.front().index;
  return off < journal_.size() ? &journal_[off] : nullptr;
}

}  // namespace wibwob::fakewibwob
