// Structured-concurrency helpers for the shells.
//
// until_cancelled(loop): runs a loop that only ends by cancellation and turns
// that ending into a normal return, so a parallel group of loops (`a && b`)
// stops cleanly when its parent is cancelled. Any other exception, and an
// operation_aborted the coroutine did not ask for, propagates: a bug must
// reach the top-level co_spawn handler, never vanish.
//
// rethrow: the completion handler for top-level co_spawns. It rethrows, so
// io_context::run() throws and main reports the error and exits non-zero.
#pragma once

#include <exception>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

namespace wibwob::bridge {

inline boost::asio::awaitable<void> until_cancelled(boost::asio::awaitable<void> loop) {
  std::exception_ptr aborted;
  try {
    co_await std::move(loop);
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted) throw;
    aborted = std::current_exception();
  }
  if (!aborted) co_return;
  auto state = co_await boost::asio::this_coro::cancellation_state;
  if (state.cancelled() == boost::asio::cancellation_type::none) std::rethrow_exception(aborted);
}

// (The fakes use net::fail_loudly, which also prints the context.)
struct rethrow {
  void operator()(std::exception_ptr e) const {
    if (e) std::rethrow_exception(e);
  }
};

}  // namespace wibwob::bridge
