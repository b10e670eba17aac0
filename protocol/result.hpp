// Result<T>: a value or a typed Error, never an exception.
//
// Every parser in protocol/ returns one of these, so hostile input becomes a
// value the caller must look at; so does every operation of the shells that
// can fail for an expected reason (binding a socket, writing a file,
// spawning a process). Result<void> is the form for "done, or why not".
// (std::expected is C++23; we build as C++20.)
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace wibwob::protocol {

enum class Errc {
  not_json,          // bytes are not parseable JSON
  wrong_type,        // a JSON value has the wrong type (object expected, ...)
  missing_field,     // a required field is absent
  bad_value,         // present, right type, but out of range or not allowed
  too_large,         // over a size limit (frame, request line, list length)
  too_deep,          // nesting deeper than the parsers accept
  unsupported,       // a message or reply this codec does not know
  auth_failed,       // authentication refused or malformed
  io_failed,         // a file, socket or process operation failed (the message says which)
};

const char* to_string(Errc e) noexcept;

struct Error {
  Errc code;
  std::string message;  // human readable, names the offending field/value

  friend bool operator==(const Error&, const Error&) = default;
};

std::string to_string(const Error& e);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success, or an Error saying why not.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT implicit

  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { assert(!ok()); return *e_; }

 private:
  std::optional<Error> e_;
};

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace wibwob::protocol
