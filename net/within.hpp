// within(limit, op): runs an awaitable operation with a deadline. Returns its
// result, or nullopt when the deadline passed first (the operation is then
// cancelled by the `||` operator). `op` must report failures as values
// (as_tuple): `||` waits for the first *success*, so an operation that throws
// would be reported as a timeout.
#pragma once

#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wibwob::net {

template <class T>
boost::asio::awaitable<std::optional<T>> within(std::chrono::milliseconds limit, boost::asio::awaitable<T> op) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
  auto r = co_await (std::move(op) || timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return std::nullopt;
}

}  // namespace wibwob::net
