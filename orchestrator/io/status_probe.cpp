#include "orchestrator/io/status_probe.hpp"
#include "net/within.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wibwob::orchestrator {

namespace {

namespace asio = boost::asio;
using net::within;
using namespace asio::experimental::awaitable_operators;
using unix_socket = asio::local::stream_protocol::socket;
using boost::system::error_code;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Connects `s` to `path`; an error text, empty on success.
asio::awaitable<std::string> connect(unix_socket& s, const std::string& path, Ms limit) {
  auto r = co_await within(limit, s.async_connect(path, tuple_awaitable));
  if (!r) co_return "connect timed out after " + std::to_string(limit.count()) + " ms";
  if (auto [ec] = *r; ec) co_return ec.message();
  co_return std::string();
}

asio::awaitable<void> probe_app(RoomStatus& r, StatusTimeouts t) {
  unix_socket s(co_await asio::this_coro::executor);
  const std::string err = co_await connect(s, r.app_socket, t.connect);
  r.app_up = err.empty();
  if (!r.app_up) r.app_error = r.app_socket + ": " + err;
}

// Reads the whole answer (the bridge closes after it), at most the cap + 1
// bytes so that an over-long answer is seen as one.
asio::awaitable<void> probe_bridge(RoomStatus& r, StatusTimeouts t) {
  unix_socket s(co_await asio::this_coro::executor);
  if (auto err = co_await connect(s, r.bridge_socket, t.connect); !err.empty()) {
    r.bridge = RoomStatus::Bridge::not_running;
    r.bridge_error = r.bridge_socket + ": " + err;
    co_return;
  }
  std::string buf;
  auto read = co_await within(
      t.read, asio::async_read(s, asio::dynamic_buffer(buf, max_bridge_status_bytes + 1), tuple_awaitable));
  r.bridge = RoomStatus::Bridge::bad_status;
  if (!read) {
    r.bridge_error = "no complete answer within " + std::to_string(t.read.count()) + " ms";
    co_return;
  }
  if (buf.size() > max_bridge_status_bytes) {
    r.bridge_error = "answer longer than " + std::to_string(max_bridge_status_bytes) + " bytes";
    co_return;
  }
  if (auto [ec, n] = *read; ec && ec != asio::error::eof) {
    r.bridge_error = "reading the answer: " + ec.message();
    co_return;
  }
  auto parsed = parse_bridge_status(buf);
  if (!parsed) {
    r.bridge_error = parsed.error().message;
    co_return;
  }
  r.bridge = RoomStatus::Bridge::ok;
  r.status = std::move(*parsed);
}

RoomStatus describe_room(const Plan& plan, std::size_t i) {
  const RoomPlan& p = plan.rooms[i];
  RoomStatus r;
  r.room_id = p.room.room_id;
  r.instance_id = p.room.instance_id;
  r.multiplayer = p.bridge;
  r.app_socket = p.socket_path;
  r.app_log = log_path_for(plan, i, "app");
  if (p.bridge) {
    r.bridge_socket = bridge_status_path(p.socket_path);
    r.bridge_log = log_path_for(plan, i, "bridge");
  }
  return r;
}

}  // namespace

std::vector<RoomStatus> collect_status(const Plan& plan, StatusTimeouts timeouts) {
  std::vector<RoomStatus> out;
  for (std::size_t i = 0; i < plan.rooms.size(); ++i) out.push_back(describe_room(plan, i));
  asio::io_context io;
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  for (auto& r : out) {
    asio::co_spawn(io, probe_app(r, timeouts), rethrow);
    if (r.multiplayer) asio::co_spawn(io, probe_bridge(r, timeouts), rethrow);
  }
  io.run();
  return out;
}

}  // namespace wibwob::orchestrator
