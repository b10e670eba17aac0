#include "bridge/io/room_session.hpp"

#include <random>
#include <stdexcept>

#include "bridge/io/room_connection.hpp"
#include "bridge/io/tls_module.hpp"

namespace wibwob::bridge {

namespace asio = boost::asio;

namespace {

std::string random_pk() {
  std::random_device rd;
  std::uniform_int_distribution<int> d(0, 15);
  static const char* hex = "0123456789abcdef";
  std::string s = "bridge-";
  for (int i = 0; i < 24; ++i) s += hex[d(rd)];
  return s;
}

std::unique_ptr<TlsConnector> make_tls_connector(const RoomSessionConfig& cfg) {
  if (!cfg.endpoint.tls) return nullptr;  // ws:// never loads TLS
  auto module = load_tls_module();
  if (!module) throw std::runtime_error(module.error().message);
  return (*module)->make_connector(cfg);
}

}  // namespace

RoomSession::RoomSession(asio::any_io_executor ex, RoomSessionConfig config, Sink sink)
    : ex_(ex), cfg_(std::move(config)), sink_(std::move(sink)), tls_(make_tls_connector(cfg_)), requests_(ex) {}

RoomSession::~RoomSession() = default;

void RoomSession::connect() { request(room_request::Connect{}); }

void RoomSession::close(std::string reason) { request(room_request::Close{std::move(reason)}); }

void RoomSession::send(std::string text) {
  if (requests_.size() >= cfg_.max_queue) {
    requests_.erase_if([](const RoomRequest& r) { return std::holds_alternative<room_request::Send>(r); });
    request(room_request::Close{"send queue full (" + std::to_string(cfg_.max_queue) + " frames)"});
    return;
  }
  request(room_request::Send{std::move(text)});
}

void RoomSession::request(RoomRequest r) { requests_.push(std::move(r)); }

// Plain functions hold the variants (mailbox.hpp: GCC 12 and coroutines).
bool RoomSession::take_connect_request() {
  // Sends and closes with no connection open belong to one that is gone.
  return std::holds_alternative<room_request::Connect>(requests_.take());
}

void RoomSession::report_closed(std::string why) { sink_(room_event::Closed{std::move(why)}); }

asio::awaitable<void> RoomSession::run() {
  for (;;) {
    co_await requests_.wait();
    if (!take_connect_request()) continue;
    std::string why = co_await serve_one();
    report_closed(std::move(why));
  }
}

asio::awaitable<std::string> RoomSession::serve_one() {
  const std::string pk = random_pk();
  if (tls_) co_return co_await tls_->serve(cfg_, requests_, sink_, ex_, pk);
  detail::RoomConnection<detail::plain_ws, detail::PlainLayer> c(cfg_, requests_, sink_, ex_);
  co_return co_await c.run(pk);
}

}  // namespace wibwob::bridge
