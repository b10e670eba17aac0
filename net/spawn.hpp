// fail_loudly(what): the completion handler for every co_spawn in the shells
// (never asio::detached, which drops exceptions on the floor).
//
// Expected endings (EOF, a closed peer, cancellation) are values inside the
// coroutines; an exception that reaches this handler is a bug. It is
// printed with its context on stderr and rethrown, so io_context::run()
// throws and the binary's main exits non-zero with the message, instead of
// serving on with a dead part or stalling without a word.
#pragma once

#include <cstdio>
#include <exception>
#include <string>

namespace wibwob::net {

inline auto fail_loudly(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "internal error in %s: %s\n", what.c_str(), ex.what());
    } catch (...) {
      std::fprintf(stderr, "internal error in %s\n", what.c_str());
    }
    std::rethrow_exception(e);
  };
}

}  // namespace wibwob::net
