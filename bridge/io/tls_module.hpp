// The bridge's TLS module: the wss:// half of the room connection, built as a
// shared object of its own (wibwob-bridge-tls.so, source room_tls.cpp) and
// loaded only when the room is a wss:// one. A ws:// bridge, the usual local
// room, then never maps OpenSSL (libssl + libcrypto: 1.7 MB of a 9.7 MB idle
// bridge; docs/bench-bridge.md).
//
// Where it lives: <directory of the executable>/WIBWOB_TLS_MODULE_RELPATH,
// i.e. ../lib/wibwob-sync/ beside bin/, in the build tree and once installed
// (/usr/bin/wibwob-bridge, /usr/lib/wibwob-sync/wibwob-bridge-tls.so).
//
// How it links: the module has no copy of Asio, Beast or the bridge's code;
// it uses the executable's, which exports the Boost symbols for it
// (tls_module.dynlist), so there is one Asio in the process: one scheduler,
// one set of services and thread-local call stacks. The module is built from
// the same tree with the same flags, and checks that with `abi` (version,
// compiler, build type, sizes of the structures it shares).
//
// Loaded at most once per process and never unloaded (the connector's code
// and vtable live in it).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/version.hpp>

#include "bridge/io/room_session.hpp"
#include "protocol/result.hpp"
#include "wibwob/version.hpp"

namespace wibwob::bridge {

// A wss:// connection maker with its TLS context (trust store + ca_file).
class TlsConnector {
 public:
  virtual ~TlsConnector() = default;
  // Serves one connection from connect to close, as RoomConnection::run:
  // returns why it ended.
  virtual boost::asio::awaitable<std::string> serve(const RoomSessionConfig& cfg, Mailbox<RoomRequest>& requests,
                                                    const RoomSession::Sink& sink, boost::asio::any_io_executor ex,
                                                    std::string pk) = 0;
};

// What the module's entry point returns.
struct TlsModuleApi {
  const char* abi;  // must equal tls_module_abi() of the executable
  // Throws std::system_error when the trust store or ca_file cannot be loaded.
  std::unique_ptr<TlsConnector> (*make_connector)(const RoomSessionConfig& cfg);
  const char* (*tls_library)();  // e.g. "OpenSSL 3.0.17 1 Jul 2025"
};

// The entry point's name (extern "C", returns const TlsModuleApi*).
inline constexpr const char* tls_module_entry = "wibwob_bridge_tls_module_v1";

namespace {
// What a side was built with. Internal linkage on purpose: the executable and
// the module each compute their own, from their own compilation.
inline std::string tls_module_abi() {
  return std::string(wibwob::version) + " " + __VERSION__ + " boost " + std::to_string(BOOST_VERSION) +
#ifdef NDEBUG
         " ndebug" +
#endif
         " config " + std::to_string(sizeof(RoomSessionConfig)) + " mailbox " +
         std::to_string(sizeof(Mailbox<RoomRequest>)) + " sink " + std::to_string(sizeof(RoomSession::Sink));
}
}  // namespace

// The module's path for this executable.
std::string tls_module_path();

// Loads the module (the first call; later calls return the first result).
// Errors name the path and say what to install or rebuild.
protocol::Result<const TlsModuleApi*> load_tls_module();

// Loads the module at `path`, every call (tests). A file that is no shared
// object, lacks the entry point or was built for another bridge is an error.
protocol::Result<const TlsModuleApi*> load_tls_module_at(const std::string& path);

// One line for --version: "wss:// rooms: TLS module loaded (OpenSSL ...)" or
// "wss:// rooms: unavailable: <why>". Loads the module.
std::string tls_support();

}  // namespace wibwob::bridge
