// Finding and loading the TLS module (tls_module.hpp).
#include "bridge/io/tls_module.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <filesystem>

namespace wibwob::bridge {

using protocol::Errc;
using protocol::make_error;

protocol::Result<const TlsModuleApi*> load_tls_module_at(const std::string& path) {
  // RTLD_NOW: a symbol the executable does not provide is an error here,
  // not a crash in the middle of a handshake.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return make_error(Errc::io_failed, "wss:// needs the bridge's TLS module, which cannot be loaded: " +
                                           std::string(why ? why : path) +
                                           " (it is installed with wibwob-bridge; in a build tree, build the "
                                           "target wibwob-bridge-tls)");
  }
  auto refuse = [&](std::string why) {
    ::dlclose(handle);
    return make_error(Errc::io_failed, "the TLS module " + path + " " + why);
  };
  using Entry = const TlsModuleApi* (*)();
  auto* entry = reinterpret_cast<Entry>(::dlsym(handle, tls_module_entry));
  if (!entry) return refuse(std::string("has no ") + tls_module_entry);
  const TlsModuleApi* api = entry();
  if (!api || !api->abi || !api->make_connector || !api->tls_library) return refuse("returned an incomplete entry");
  if (std::string(api->abi) != tls_module_abi())
    return refuse("was built for another wibwob-bridge (" + std::string(api->abi) + "; this one: " + tls_module_abi() + ")");
  return api;  // never unloaded: the connector's code lives there
}

std::string tls_module_path() {
  std::array<char, 4096> buf{};
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  std::filesystem::path exe = n > 0 ? std::filesystem::path(std::string(buf.data(), static_cast<std::size_t>(n)))
                                    : std::filesystem::path("/proc/self/exe");
  return (exe.parent_path() / WIBWOB_TLS_MODULE_RELPATH).lexically_normal().string();
}

protocol::Result<const TlsModuleApi*> load_tls_module() {
  static const protocol::Result<const TlsModuleApi*> loaded = load_tls_module_at(tls_module_path());
  return loaded;
}

std::string tls_support() {
  auto module = load_tls_module();
  if (!module) return "wss:// rooms: unavailable: " + module.error().message;
  return std::string("wss:// rooms: TLS module loaded (") + (*module)->tls_library() + ")";
}

}  // namespace wibwob::bridge
