#include "protocol/result.hpp"

namespace wibwob::protocol {

const char* to_string(Errc e) noexcept {
  switch (e) {
    case Errc::not_json: return "not_json";
    case Errc::wrong_type: return "wrong_type";
    case Errc::missing_field: return "missing_field";
    case Errc::bad_value: return "bad_value";
    case Errc::too_large: return "too_large";
    case Errc::too_deep: return "too_deep";
    case Errc::unsupported: return "unsupported";
    case Errc::auth_failed: return "auth_failed";
    case Errc::io_failed: return "io_failed";
  }
  return "unknown";
}

std::string to_string(const Error& e) {
  std::string s = to_string(e.code);
  if (!e.message.empty()) {
    s += ": ";
    s += e.message;
  }
  return s;
}

}  // namespace wibwob::protocol
