// Mailbox<T>: an unbounded FIFO between parts of one single-threaded
// io_context, with an awaitable wait for "not empty".
//
// push() never blocks and never runs the receiver inline: it enqueues and
// rings a doorbell (an experimental::channel of capacity 1), so a producer
// can never re-enter its consumer. Receivers should co_await wait() and then
// take items with try_pop() synchronously: an item is only ever removed by
// code that goes on to handle it, so a wait cancelled by a race (`wait() ||
// timer`) loses nothing. Bounds are the owner's policy (RoomSession closes a
// connection whose queue is too long), not the mailbox's.
//
// GCC 12 at -O2 miscompiles temporaries of class type (std::variant in
// particular) created in a coroutine body: heap corruption, seen here. So the
// shells keep every variant out of coroutine bodies: a coroutine only
// co_awaits wait(), and plain member functions take() the item and handle it.
// There is deliberately no awaitable pop().
//
// Executor: the one passed in; not thread-safe. Cancellation: wait() honours
// the awaiting coroutine's cancellation.
#pragma once

#include <deque>
#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/system/system_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wibwob::bridge {

template <class T>
class Mailbox {
 public:
  explicit Mailbox(boost::asio::any_io_executor ex) : bell_(std::move(ex), 1) {}

  void push(T v) {
    items_.push_back(std::move(v));
    ring();
  }
  void push_front(T v) {
    items_.push_front(std::move(v));
    ring();
  }
  std::optional<T> try_pop() {
    if (items_.empty()) return std::nullopt;
    return take();
  }
  // The front item; the mailbox must not be empty.
  T take() {
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  // Completes once the mailbox holds an item (at once when it does).
  // Cancellation ends it with operation_aborted, as for any Asio operation
  // (the channel itself reports channel_cancelled).
  boost::asio::awaitable<void> wait() {
    while (items_.empty()) {
      auto [ec] = co_await bell_.async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec == boost::asio::experimental::error::channel_cancelled) ec = boost::asio::error::operation_aborted;
      if (ec) throw boost::system::system_error(ec);
    }
  }
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    return std::erase_if(items_, pred);
  }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

 private:
  void ring() { (void)bell_.try_send(boost::system::error_code{}); }

  std::deque<T> items_;
  boost::asio::experimental::channel<void(boost::system::error_code)> bell_;
};

}  // namespace wibwob::bridge
