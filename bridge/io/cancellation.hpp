// Structured-concurrency helpers for the shells: until_cancelled (shared with
// the fakes, net/cancellation.hpp) and the rethrowing co_spawn handler.
//
// until_cancelled(loop): runs a loop that only ends by cancellation and turns
// that ending into a normal return, so a parallel group of loops (`a && b`)
// stops cleanly when its parent is cancelled. Any other exception, and an
// operation_aborted the coroutine did not ask for, propagates.
//
// rethrow: the completion handler for top-level co_spawns. It rethrows, so
// io_context::run() throws and main reports the error and exits non-zero.
#pragma once

#include <exception>

#include "net/cancellation.hpp"

namespace wibwob::bridge {

using net::until_cancelled;

// (The fakes use net::fail_loudly, which also prints the context.)
struct rethrow {
  void operator()(std::exception_ptr e) const {
    if (e) std::rethrow_exception(e);
  }
};

}  // namespace wibwob::bridge
