// Codec for the WibWob-DOS IPC line protocol (spec/wibwob-ipc.md), both
// sides: the bridge builds requests and classifies replies; fakewibwob parses
// requests and formats replies. One implementation, so the two cannot drift.
//
// Pure: no sockets. Never throws on input; errors are values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/result.hpp"

namespace wibwob::protocol::ipc {

using Json = nlohmann::json;

// The app reads a request with one read() of at most this many bytes; a
// request (newline included) must fit.
inline constexpr std::size_t max_request_bytes = 2047;

// Deeper JSON than this is refused (Errc::too_deep) by every parser here.
inline constexpr int max_json_depth = 64;

// The codec's JSON parse, for other JSON carried over IPC (a layout file,
// room_presence's participants): exception-free, depth-guarded, refuses NUL
// bytes and invalid UTF-8. Errors: not_json, too_deep.
Result<Json> parse_json(std::string_view text);

// --- percent-encoding -------------------------------------------------------

// Encodes every byte except unreserved ASCII [A-Za-z0-9-._~] as %XX (upper
// case hex).
std::string percent_encode(std::string_view raw);
// The app's decoder: %XX in either hex case; a bad % sequence stays literal;
// '+' is NOT a space.
std::string percent_decode(std::string_view encoded);

// --- requests ---------------------------------------------------------------

using Params = std::vector<std::pair<std::string, std::string>>;

// "cmd:<name> k=v k=v\n" with every value percent-encoded. Errors: empty or
// malformed name/key (whitespace, '=' in a key, ...), or a line over
// max_request_bytes (Errc::too_large).
Result<std::string> build_request(std::string_view name, const Params& params = {});

// What the app makes of the bytes of one request (one read, already
// truncated by the caller to max_request_bytes): split on any whitespace; a
// `cmd:` token names the command (the last one wins); other tokens need '=';
// values percent-decoded; keys not decoded; duplicate keys: last wins.
struct Command {
  std::string name;  // empty when no cmd: token was present
  std::map<std::string, std::string> params;
  friend bool operator==(const Command&, const Command&) = default;
};
Command parse_request(std::string_view bytes);

// --- replies ----------------------------------------------------------------

enum class ReplyKind {
  ok,       // "ok" or "ok <text>"                       (legacy success)
  err,      // "err <reason>"                            (legacy failure)
  success,  // {"success":true[,"id":"wN"]}              (window commands)
  failure,  // {"error":"..."}                           (window commands)
  data,     // any other JSON object or array            (get_state, ...)
  text,     // anything else, e.g. room_chat_display_name
};

struct Reply {
  ReplyKind kind = ReplyKind::text;
  std::string message;            // ok/err text after the word, failure's error, raw text
  std::optional<std::string> id;  // success id when present
  Json data;                      // parsed JSON for success/failure/data
};
// Classifies one reply line (trailing "\n"/"\r\n" ignored).
Reply classify_reply(std::string_view line);

// Reply formatting, as the app writes it (each ends in "\n").
std::string format_ok(std::string_view text = {});
std::string format_err(std::string_view reason);
std::string format_success(const std::optional<std::string>& id = std::nullopt);
std::string format_failure(std::string_view error);

// --- get_state --------------------------------------------------------------

// The form of the app's window ids: "w" and a number ("w1", "w27"), at most
// 20 digits. (The earlier Python bridge put these bare ids into the room.)
bool is_app_window_id(std::string_view id);

struct AppWindow {
  std::string id;
  std::string type;
  std::int32_t x = 0, y = 0, w = 0, h = 0;
  std::int32_t z = 0;
  bool focused = false;
  std::string title;
  std::optional<std::string> path;
  friend bool operator==(const AppWindow&, const AppWindow&) = default;
};

struct ChatEntry {
  std::int64_t seq = 0;
  std::string sender;
  std::string text;
  friend bool operator==(const ChatEntry&, const ChatEntry&) = default;
};

struct AppState {
  std::vector<AppWindow> windows;  // front-most first
  std::vector<ChatEntry> chat_log;
  friend bool operator==(const AppState&, const AppState&) = default;
};

// The app's get_state JSON, with its escaping quirk: in strings only '"' and
// '\' are escaped, so a control character in a title yields invalid JSON.
std::string format_get_state(const AppState& s);
// A failure (e.g. the invalid JSON above) is an Error, not a crash.
// The app's own form is read in one pass (parse_get_state_app_form); any
// other text goes through parse_get_state_json. The two agree wherever the
// first answers (tested on formatted, mutated and arbitrary input).
Result<AppState> parse_get_state(std::string_view line);
// Exactly what format_get_state writes, with strings of printable ASCII; no
// JSON tree is built. nullopt for anything else, valid JSON or not.
std::optional<AppState> parse_get_state_app_form(std::string_view line);
// Any JSON text: the general path, and every error's precise reason.
Result<AppState> parse_get_state_json(std::string_view line);

// --- events -----------------------------------------------------------------

struct Subscribed {
  friend bool operator==(const Subscribed&, const Subscribed&) = default;
};
struct Event {
  std::int64_t seq = 0;
  std::string event;   // "state_changed", "window_closed", ...
  Json payload;        // {"id":"w5"} for window events
  std::optional<std::string> window_id() const;
  friend bool operator==(const Event&, const Event&) = default;
};
using EventLine = std::variant<Subscribed, Event>;

std::string format_subscribed();
std::string format_event(const Event& e);
Result<EventLine> parse_event_line(std::string_view line);

// --- authentication ---------------------------------------------------------

// HMAC-SHA256(key = secret, message = nonce), lowercase hex (64 chars).
std::string hmac_sha256_hex(std::string_view secret, std::string_view nonce);

std::string format_challenge(std::string_view nonce);    // server's first line
Result<std::string> parse_challenge(std::string_view line);  // -> nonce (32 lowercase hex)
std::string format_auth(std::string_view hmac_hex);      // client's answer
// The client's answer to a challenge line: parse_challenge + HMAC + format.
Result<std::string> answer_challenge(std::string_view challenge_line, std::string_view secret);
// Server side, the app's rule: after the first `"hmac":`, the characters
// between the next two `"` (whitespace after the colon is fine, before it
// is not). nullopt when there is no such pair.
std::optional<std::string> extract_hmac(std::string_view auth_line);
bool verify_auth(std::string_view auth_line, std::string_view secret, std::string_view nonce);
std::string format_auth_ok();
std::string format_auth_failed();

enum class AuthResult { ok, failed, unexpected };
AuthResult classify_auth_result(std::string_view line);

}  // namespace wibwob::protocol::ipc
