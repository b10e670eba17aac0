// A stand-in for a TLS module built for another wibwob-bridge (test_bridge's
// TlsModule tests): the entry point is there, the ABI string is not ours.
#include <memory>

#include "bridge/io/tls_module.hpp"

namespace {

std::unique_ptr<wibwob::bridge::TlsConnector> no_connector(const wibwob::bridge::RoomSessionConfig&) { return nullptr; }
const char* no_library() { return "none"; }

}  // namespace

extern "C" __attribute__((visibility("default"))) const wibwob::bridge::TlsModuleApi* wibwob_bridge_tls_module_v1() {
  static const wibwob::bridge::TlsModuleApi api{"wibwob-bridge 0.0.0 built elsewhere", &no_connector, &no_library};
  return &api;
}
