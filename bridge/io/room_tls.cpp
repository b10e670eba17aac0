// The bridge's TLS module (wibwob-bridge-tls.so; tls_module.hpp): a wss://
// room connection is RoomConnection over an SSL stream, with certificate and
// host name verification and SNI. Linked with OpenSSL and Asio's SSL support
// (wibwob_net_tls); everything else it uses is the executable's.
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "bridge/io/room_connection.hpp"
#include "bridge/io/tls_module.hpp"

namespace wibwob::bridge {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
using tls_ws = beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

struct TlsLayer {
  static constexpr bool secures = true;

  static asio::awaitable<void> secure(tls_ws& ws, const std::string& host) {
    auto& tls = ws.next_layer();
    // SNI. (SSL_set_tlsext_host_name is a macro with an old-style cast.)
    if (!SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str())))
      throw boost::system::system_error(asio::error::invalid_argument, "cannot set the TLS server name");
    tls.set_verify_callback(ssl::host_name_verification(host));
    co_await tls.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  }

  static std::string describe(const boost::system::error_code& ec) {
    if (ec.category() != asio::error::get_ssl_category()) return {};
    std::string what = "TLS: " + ec.message();
    if (what.find("certificate verify failed") != std::string::npos)
      what += " (the server's certificate is not trusted, or not for this host name; a private CA needs --ca-file)";
    return what;
  }
};

class Connector final : public TlsConnector {
 public:
  explicit Connector(const RoomSessionConfig& cfg) : ctx_(ssl::context::tls_client) {
    ctx_.set_default_verify_paths();
    if (cfg.ca_file) ctx_.load_verify_file(*cfg.ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
  }

  asio::awaitable<std::string> serve(const RoomSessionConfig& cfg, Mailbox<RoomRequest>& requests,
                                     const RoomSession::Sink& sink, asio::any_io_executor ex,
                                     std::string pk) override {
    detail::RoomConnection<tls_ws, TlsLayer> c(cfg, requests, sink, ex, ctx_);
    co_return co_await c.run(std::move(pk));
  }

 private:
  ssl::context ctx_;
};

std::unique_ptr<TlsConnector> make_connector(const RoomSessionConfig& cfg) { return std::make_unique<Connector>(cfg); }

const char* tls_library() { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace

}  // namespace wibwob::bridge

extern "C" __attribute__((visibility("default"))) const wibwob::bridge::TlsModuleApi* wibwob_bridge_tls_module_v1() {
  static const std::string abi = wibwob::bridge::tls_module_abi();
  static const wibwob::bridge::TlsModuleApi api{abi.c_str(), &wibwob::bridge::make_connector,
                                                &wibwob::bridge::tls_library};
  return &api;
}
