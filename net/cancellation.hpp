// Structured-concurrency helpers for the shells.
//
// until_cancelled(loop): runs a loop that only ends by cancellation and turns
// that ending into a normal return, so a parallel group of loops (`a && b`)
// or a Scope's task stops cleanly when its parent is cancelled. Any other
// exception, and an operation_aborted the coroutine did not ask for,
// propagates: a bug must reach the top-level co_spawn handler, never vanish.
//
// checkpoint(): a co_await that ends a cancelled coroutine. Asio throws
// operation_aborted at the next co_await of a coroutine whose cancellation
// was requested (this_coro::throw_if_cancelled, on by default); an operation
// that had already completed when the cancellation came still resumes its
// coroutine with a success. A coroutine about to act on such a result (call
// its owner back) co_awaits checkpoint() first, as Asio's own composed
// operations check their cancellation state between steps; under
// until_cancelled the throw is a normal end.
#pragma once

#include <exception>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

namespace wibwob::net {

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

// Completes at once, or throws operation_aborted when the awaiting coroutine
// was cancelled (the check Asio makes on every co_await of an awaitable).
inline boost::asio::awaitable<void> checkpoint() { co_return; }

}  // namespace wibwob::net
