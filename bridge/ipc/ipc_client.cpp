#include "bridge/ipc/ipc_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocol/ipc.hpp"
#include "net/within.hpp"

namespace wibwob::bridge {

namespace asio = boost::asio;
using net::within;
using namespace asio::experimental::awaitable_operators;
using unix_socket = asio::local::stream_protocol::socket;
using boost::system::error_code;
namespace ipc = protocol::ipc;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

IpcOutcome failure(IpcFailure f, std::string text) { return IpcOutcome{f, std::move(text)}; }

asio::awaitable<std::tuple<error_code, std::size_t>> read_line(unix_socket& s, std::string& buf, std::size_t max) {
  co_return co_await asio::async_read_until(s, asio::dynamic_buffer(buf, max), '\n', tuple_awaitable);
}

// Connects and, when a secret is configured, authenticates. A failure says
// why; success is an outcome without failure and text.
asio::awaitable<IpcOutcome> open(const IpcClientConfig& c, unix_socket& s, std::string& buf) {
  auto connected = co_await within(c.connect_timeout, s.async_connect(c.socket_path, tuple_awaitable));
  if (!connected) co_return failure(IpcFailure::timeout, "connect to " + c.socket_path + " timed out");
  if (auto [ec] = *connected; ec) {
    const bool gone = ec == asio::error::connection_refused || ec == asio::error::not_found ||
                      ec == boost::system::errc::no_such_file_or_directory;
    co_return failure(gone ? IpcFailure::unreachable : IpcFailure::io, c.socket_path + ": " + ec.message());
  }
  if (!c.secret) co_return IpcOutcome{};
  auto challenge = co_await within(c.auth_step_timeout, read_line(s, buf, 4096));
  if (!challenge || std::get<0>(*challenge))
    co_return failure(IpcFailure::auth, "no auth challenge from the app (is WIBWOB_AUTH_SECRET set on the app too?)");
  const std::string line = buf.substr(0, std::get<1>(*challenge));
  buf.erase(0, std::get<1>(*challenge));
  auto answer = ipc::answer_challenge(line, *c.secret);
  if (!answer)
    co_return failure(IpcFailure::auth, "the app's first line is not an auth challenge (" +
                                            protocol::to_string(answer.error()) +
                                            "): is auth enabled on the bridge but not on the app?");
  auto wrote = co_await within(c.auth_step_timeout, asio::async_write(s, asio::buffer(*answer), tuple_awaitable));
  if (!wrote || std::get<0>(*wrote)) co_return failure(IpcFailure::auth, "could not send the auth answer");
  auto ok = co_await within(c.auth_step_timeout, read_line(s, buf, 4096));
  if (!ok || std::get<0>(*ok)) co_return failure(IpcFailure::auth, "no answer to authentication");
  const std::string verdict = buf.substr(0, std::get<1>(*ok));
  buf.erase(0, std::get<1>(*ok));
  if (ipc::classify_auth_result(verdict) != ipc::AuthResult::ok)
    co_return failure(IpcFailure::auth, "authentication refused by the app (wrong WIBWOB_AUTH_SECRET?)");
  co_return IpcOutcome{};
}

std::string strip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

asio::awaitable<IpcOutcome> ipc_request(IpcClientConfig c, std::string line) {
  if (line.size() > ipc::max_request_bytes)
    co_return failure(IpcFailure::io, "request over " + std::to_string(ipc::max_request_bytes) + " bytes refused");
  unix_socket s(co_await asio::this_coro::executor);
  std::string buf;
  if (auto opened = co_await open(c, s, buf); !opened.ok()) co_return opened;
  auto wrote = co_await within(c.reply_timeout, asio::async_write(s, asio::buffer(line), tuple_awaitable));
  if (!wrote) co_return failure(IpcFailure::timeout, "writing the request timed out");
  if (auto [ec, n] = *wrote; ec) co_return failure(IpcFailure::io, "writing the request: " + ec.message());
  auto got = co_await within(c.reply_timeout, read_line(s, buf, c.max_reply_bytes));
  if (!got) co_return failure(IpcFailure::timeout, "no reply within " + std::to_string(c.reply_timeout.count()) + " ms");
  auto [ec, n] = *got;
  error_code ignored;
  s.close(ignored);  // close right after the reply: the app waits for it
  if (ec && ec != asio::error::eof) co_return failure(IpcFailure::io, "reading the reply: " + ec.message());
  if (ec == asio::error::eof && buf.empty()) co_return failure(IpcFailure::io, "the app closed without a reply");
  // A reply without a trailing newline before EOF is still the reply.
  co_return IpcOutcome{IpcFailure::none, strip(n ? buf.substr(0, n) : buf)};
}

asio::awaitable<IpcOutcome> ipc_subscribe(IpcClientConfig c, std::function<void(std::string_view)> on_line) {
  unix_socket s(co_await asio::this_coro::executor);
  std::string buf;
  if (auto opened = co_await open(c, s, buf); !opened.ok()) co_return opened;
  std::string req = "cmd:subscribe_events\n";
  auto wrote = co_await within(c.reply_timeout, asio::async_write(s, asio::buffer(req), tuple_awaitable));
  if (!wrote || std::get<0>(*wrote)) co_return failure(IpcFailure::io, "could not send subscribe_events");
  for (;;) {
    auto [ec, n] = co_await read_line(s, buf, 64 * 1024);
    if (ec == asio::error::eof) co_return IpcOutcome{IpcFailure::none, "subscription ended"};
    if (ec) co_return failure(IpcFailure::io, "subscription: " + ec.message());
    on_line(std::string_view(buf).substr(0, n));
    buf.erase(0, n);
  }
}

}  // namespace wibwob::bridge
