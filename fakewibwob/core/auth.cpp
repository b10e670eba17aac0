#include "fakewibwob/core/auth.hpp"

namespace wibwob::fakewibwob {

std::string AuthSession::on_answer(std::string_view bytes) {
  if (state_ != State::challenged) {
    state_ = State::failed;
    return ipc::format_auth_failed();
  }
  const bool ok = ipc::verify_auth(bytes, secret_, nonce_);
  state_ = ok ? State::authenticated : State::failed;
  return ok ? ipc::format_auth_ok() : ipc::format_auth_failed();
}

std::string AuthSession::on_timeout() {
  state_ = State::failed;
  return ipc::format_auth_failed();
}

}  // namespace wibwob::fakewibwob
