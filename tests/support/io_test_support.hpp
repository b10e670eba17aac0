// Support for tests that run real sockets on an io_context: a temp directory
// that cleans up after itself, and the one async harness every I/O test
// uses: run the io_context until an observable condition holds (with a
// deadline), run a coroutine to its end (await), or run for a bounded time
// (for checks that something did NOT happen, and to drain before objects
// die). Header-only: only tests that do I/O include it, and they link
// wibwob_net.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <stdlib.h>  // mkdtemp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace wibwob::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "wibwob-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string operator/(const char* name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs the loop until pred() holds or the deadline passes; returns pred().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  using steady = std::chrono::steady_clock;
  const auto end = steady::now() + deadline;
  while (!pred()) {
    if (steady::now() >= end) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Runs the loop for a bounded time, for checks that something did NOT happen.
inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  using steady = std::chrono::steady_clock;
  const auto end = steady::now() + d;
  while (steady::now() < end) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(5));
  }
}

// A coroutine spawned on the io_context: done once it ended, with its value
// or its exception.
template <class T>
struct Pending {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};
template <>
struct Pending<void> {
  std::exception_ptr error;
  bool done = false;
};

template <class T>
std::shared_ptr<Pending<T>> spawn_pending(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  auto p = std::make_shared<Pending<T>>();
  if constexpr (std::is_void_v<T>) {
    boost::asio::co_spawn(io, std::move(a), [p](std::exception_ptr e) {
      p->error = e;
      p->done = true;
    });
  } else {
    boost::asio::co_spawn(io, std::move(a), [p](std::exception_ptr e, T v) {
      p->error = e;
      if (!e) p->value = std::move(v);
      p->done = true;
    });
  }
  return p;
}

// Runs `a` (and everything else on the io_context) until it ends; returns its
// value or rethrows its exception. Throws std::runtime_error when the
// deadline passes first.
template <class T>
T await(boost::asio::io_context& io, boost::asio::awaitable<T> a,
        std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  auto p = spawn_pending(io, std::move(a));
  if (!run_until(io, [&] { return p->done; }, deadline)) throw std::runtime_error("test deadline passed");
  if (p->error) std::rethrow_exception(p->error);
  if constexpr (!std::is_void_v<T>) return std::move(*p->value);
}

// Throwaway TLS material made with the openssl CLI (path in `openssl`):
//   ca.pem/ca.key        a test CA
//   server.pem/.key      a server certificate for IP 127.0.0.1, signed by it
//   self.pem/self.key    a self-signed certificate for IP 127.0.0.1
// Returns false (with the failing command printed) if openssl fails.
inline bool make_test_certs(const std::filesystem::path& dir, const std::string& openssl) {
  const std::string o = openssl;
  const std::string d = dir.string();
  std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n";
  const std::vector<std::string> cmds = {
      o + " req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/ca.key -out " + d +
          "/ca.pem -days 2 -subj /CN=wibwob-test-ca",
      o + " req -newkey rsa:2048 -nodes -keyout " + d + "/server.key -out " + d + "/server.csr -subj /CN=127.0.0.1",
      o + " x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d + "/ca.key -CAcreateserial -out " + d +
          "/server.pem -days 2 -extfile " + d + "/ext.cnf",
      o + " req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/self.key -out " + d +
          "/self.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1",
  };
  for (const auto& c : cmds) {
    if (std::system((c + " >/dev/null 2>&1").c_str()) != 0) {
      std::cerr << "failed: " << c << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace wibwob::test
