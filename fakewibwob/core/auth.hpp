// The app's authentication handshake (spec/wibwob-ipc.md, "Authentication")
// as a pure state machine, for one connection.
//
//   challenge()  -> the server's first line, sent right after accept
//   on_answer()  -> feed the bytes of the one read that follows; returns the
//                   line to send: auth_ok, or auth_failed (then close)
//   on_timeout() -> the step ran out of time: auth_failed (then close)
//
// The driver owns the clock: each step gets `step_timeout`. Only the
// `"hmac":"…"` substring of the answer counts, as in the app. Whatever else
// the client sent in the same read (e.g. a command written before auth_ok)
// is discarded: the driver reads the command with a fresh read.
#pragma once

#include <string>
#include <string_view>

#include "fakewibwob/core/fake_app.hpp"

namespace wibwob::fakewibwob {

class AuthSession {
 public:
  enum class State { challenged, authenticated, failed };
  static constexpr Millis step_timeout{1000};

  AuthSession(std::string secret, std::string nonce) : secret_(std::move(secret)), nonce_(std::move(nonce)) {}

  std::string challenge() const { return ipc::format_challenge(nonce_); }
  std::string on_answer(std::string_view bytes);
  std::string on_timeout();
  State state() const { return state_; }
  const std::string& nonce() const { return nonce_; }

 private:
  std::string secret_;
  std::string nonce_;
  State state_ = State::challenged;
};

}  // namespace wibwob::fakewibwob
