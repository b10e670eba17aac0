// mute_stream<Next>: a pass-through stream layer under a Beast websocket
// stream that can be told to swallow every further write and to skip the
// teardown. It exists for one defect of the real room server: it never
// answers a client's close frame, and the TCP connection stays open until the
// client gives up. Beast always replies to a close frame and then tears the
// connection down; with the layer muted from the websocket control callback
// (which Beast calls before replying), the reply and the teardown vanish.
//
// Beast offers no option for this, hence the layer. Executor: the next
// layer's; a swallowed write completes through a post on that executor.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace wibwob::mockparty {

template <class Next>
class mute_stream {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  template <class... Args>
  explicit mute_stream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  void mute() noexcept { muted_ = true; }
  bool muted() const noexcept { return muted_; }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    if (!muted_) return next_.async_write_some(buffers, std::forward<WriteHandler>(handler));
    const std::size_t n = boost::asio::buffer_size(buffers);
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
        [this, n](auto h) {
          boost::asio::post(next_.get_executor(),
                            boost::beast::bind_handler(std::move(h), boost::beast::error_code{}, n));
        },
        handler);
  }

  // Found by Beast through ADL.
  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, mute_stream& s, TeardownHandler&& handler) {
    if (s.muted_) {
      boost::asio::post(s.next_.get_executor(),
                        boost::beast::bind_handler(std::forward<TeardownHandler>(handler), boost::beast::error_code{}));
      return;
    }
    using boost::beast::websocket::async_teardown;
    async_teardown(role, s.next_, std::forward<TeardownHandler>(handler));
  }

 private:
  Next next_;
  bool muted_ = false;
};

}  // namespace wibwob::mockparty
