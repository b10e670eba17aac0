// mockparty_scale: one mockparty process holding many connections across
// many rooms (docs/bench-mockparty.md).
//
// Starts the `mockparty` binary (port 0, in-memory state, no log), reads its
// READY line, then from this process (one thread, one io_context, Beast
// clients, 127.0.0.1 only):
//   1. connects `rooms` x `per_room` clients and waits for every
//      state_sync + presence sync;
//   2. fan-out latency: `rounds` rounds; in each round one client per room
//      (rotating) sends a state_delta stamped with steady-clock ns; the round
//      ends when every other member of every room has it. Latency = receive
//      time - stamp, per delivery. Checks every delivery arrives exactly once,
//      in version order, never to the sender;
//   3. throughput: one extra room of two; one client pipelines `pipelined`
//      deltas, the time until the other has them all gives deltas/s;
//   4. reads the server's VmRSS/VmHWM from /proc/<pid>/status.
//   3b. before that, `single` deltas one at a time in that room (send, wait
//      for arrival): unloaded client-to-client latency, as measured on the
//      real server;
// Bounded: a global deadline (default 120 s) fails the run. Exit status 0
// only if fan-out was correct.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;
using Ws = websocket::stream<beast::tcp_stream>;
using steady = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

struct Config {
  int rooms = 250;
  int per_room = 4;
  int rounds = 40;
  int pipelined = 20000;
  int single = 2000;
  int deadline_s = 120;
};

struct Client {
  std::unique_ptr<Ws> ws;
  int room = 0;
  std::string id;
  bool synced = false;
  std::int64_t last_version = 0;
  std::uint64_t deltas = 0;
};

struct Bench {
  asio::io_context io{1};
  std::uint16_t port = 0;
  Config cfg;
  std::vector<Client> clients;
  std::vector<double> latencies_us;
  std::vector<double> single_us;
  std::uint64_t single_received = 0;
  std::uint64_t synced = 0, delivered = 0, errors = 0, tp_received = 0;
  asio::steady_timer progress{io, steady::time_point::max()};

  void poke() { progress.cancel(); }

  awaitable<void> wait_until(const std::function<bool()>& pred) {
    while (!pred()) {
      progress.expires_at(steady::time_point::max());
      auto [ec] = co_await progress.async_wait(asio::as_tuple(use_awaitable));
      (void)ec;
    }
  }

  awaitable<void> run_client(std::size_t i, std::string target) {
    auto& c = clients[i];
    c.ws = std::make_unique<Ws>(io);
    auto& lowest = beast::get_lowest_layer(*c.ws);
    lowest.expires_after(std::chrono::seconds(30));
    co_await lowest.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_awaitable);
    lowest.socket().set_option(tcp::no_delay(true));
    co_await c.ws->async_handshake("127.0.0.1", target, use_awaitable);
    lowest.expires_never();
    beast::flat_buffer b;
    for (;;) {
      auto [ec, n] = co_await c.ws->async_read(b, asio::as_tuple(use_awaitable));
      (void)n;
      if (ec) co_return;
      const auto t = now_ns();
      Json j = Json::parse(beast::buffers_to_string(b.data()), nullptr, false);
      b.consume(b.size());
      const std::string type = j.value("type", "");
      if (type == "presence" && j.value("event", "") == "sync") {
        c.synced = true;
        ++synced;
        poke();
      } else if (type == "state_delta") {
        const auto v = j.value("version", std::int64_t{0});
        if (v <= c.last_version || j.value("from", "") == c.id) ++errors;
        c.last_version = v;
        ++c.deltas;
        if (c.room < 0) {
          if (tp_received < static_cast<std::uint64_t>(cfg.single))
            single_us.push_back(static_cast<double>(t - j["delta"]["add"][0]["t"].get<std::int64_t>()) / 1000.0);
          ++tp_received;
        } else {
          latencies_us.push_back(static_cast<double>(t - j["delta"]["add"][0]["t"].get<std::int64_t>()) / 1000.0);
          ++delivered;
        }
        poke();
      }
    }
  }

  awaitable<void> send(std::size_t i, std::string text) {
    clients[i].ws->text(true);
    co_await clients[i].ws->async_write(asio::buffer(text), use_awaitable);
  }

  static std::string delta(int n) {
    return Json{{"type", "state_delta"},
                {"delta",
                 {{"add", {{{"id", "w" + std::to_string(n % 8)}, {"type", "verse"}, {"x", n % 80}, {"y", 1}, {"w", 30},
                            {"h", 10}, {"t", now_ns()}}}}}}}
        .dump();
  }

  awaitable<void> main() {
    const std::size_t n = static_cast<std::size_t>(cfg.rooms * cfg.per_room);
    clients.resize(n + 2);
    for (std::size_t i = 0; i < n; ++i) {
      clients[i].room = static_cast<int>(i) / cfg.per_room;
      clients[i].id = "c" + std::to_string(i);
      asio::co_spawn(io, run_client(i, "/party/room" + std::to_string(clients[i].room) + "?_pk=" + clients[i].id),
                     asio::detached);
    }
    for (std::size_t i = n; i < n + 2; ++i) {
      clients[i].room = -1;
      clients[i].id = "t" + std::to_string(i - n);
      asio::co_spawn(io, run_client(i, "/party/throughput?_pk=" + clients[i].id), asio::detached);
    }
    const auto t_connect = steady::now();
    co_await wait_until([&] { return synced == n + 2; });
    const double connect_s = std::chrono::duration<double>(steady::now() - t_connect).count();

    // Fan-out rounds.
    const std::uint64_t per_round = static_cast<std::uint64_t>(cfg.rooms) * static_cast<std::uint64_t>(cfg.per_room - 1);
    const auto t_fan = steady::now();
    for (int r = 0; r < cfg.rounds; ++r) {
      for (int room = 0; room < cfg.rooms; ++room) {
        const std::size_t sender = static_cast<std::size_t>(room * cfg.per_room + r % cfg.per_room);
        co_await send(sender, delta(r));
      }
      const std::uint64_t target = per_round * static_cast<std::uint64_t>(r + 1);
      co_await wait_until([&] { return delivered >= target; });
    }
    const double fan_s = std::chrono::duration<double>(steady::now() - t_fan).count();

    // One delta at a time, one room of two, while the 1,000 others stay
    // connected: the latency the real server's ~1 ms median compares to.
    for (int k = 0; k < cfg.single; ++k) {
      const std::uint64_t before = tp_received;
      co_await send(n, delta(k));
      co_await wait_until([&] { return tp_received > before; });
    }
    single_received = tp_received;

    // Pipelined throughput, one room of two.
    const auto t_tp = steady::now();
    for (int k = 0; k < cfg.pipelined; ++k) co_await send(n, delta(k));
    co_await wait_until([&] { return tp_received >= single_received + static_cast<std::uint64_t>(cfg.pipelined); });
    const double tp_s = std::chrono::duration<double>(steady::now() - t_tp).count();

    report(connect_s, fan_s, tp_s, per_round);
    for (auto& c : clients) {
      beast::error_code ec;
      beast::get_lowest_layer(*c.ws).socket().close(ec);
    }
    io.stop();
  }

  int server_pid = 0;
  bool ok = false;

  void report(double connect_s, double fan_s, double tp_s, std::uint64_t per_round) {
    std::sort(latencies_us.begin(), latencies_us.end());
    std::sort(single_us.begin(), single_us.end());
    auto pct_of = [](const std::vector<double>& v, double p) {
      if (v.empty()) return 0.0;
      return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
    };
    auto pct = [&](double p) { return pct_of(latencies_us, p); };
    const std::uint64_t expected = per_round * static_cast<std::uint64_t>(cfg.rounds);
    bool exact = delivered == expected && errors == 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(cfg.rooms * cfg.per_room); ++i) {
      // Each member sends in rounds r with r % per_room == its slot and receives the rest.
      const int slot = static_cast<int>(i) % cfg.per_room;
      int own = 0;
      for (int r = 0; r < cfg.rounds; ++r) own += (r % cfg.per_room == slot) ? 1 : 0;
      if (clients[i].deltas != static_cast<std::uint64_t>(cfg.rounds - own)) exact = false;
    }
    ok = exact && tp_received == static_cast<std::uint64_t>(cfg.single + cfg.pipelined);
    std::string rss = "?", hwm = "?";
    std::ifstream st("/proc/" + std::to_string(server_pid) + "/status");
    for (std::string line; std::getline(st, line);) {
      if (line.rfind("VmRSS:", 0) == 0) rss = line.substr(6);
      if (line.rfind("VmHWM:", 0) == 0) hwm = line.substr(6);
    }
    auto trim = [](std::string s) { return s.erase(0, s.find_first_not_of(" \t")); };
    std::printf("connections            %d (+2 for throughput) in %d rooms, all synced in %.2f s\n",
                cfg.rooms * cfg.per_room, cfg.rooms, connect_s);
    std::printf("fan-out                %d rounds x %d rooms, %llu deliveries (expected %llu), order errors %llu: %s\n",
                cfg.rounds, cfg.rooms, static_cast<unsigned long long>(delivered),
                static_cast<unsigned long long>(expected), static_cast<unsigned long long>(errors),
                exact ? "correct" : "WRONG");
    std::printf("fan-out latency (each round: all rooms send at once) p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", pct(0.50) / 1000, pct(0.99) / 1000,
                latencies_us.empty() ? 0.0 : latencies_us.back() / 1000);
    std::printf("fan-out rate           %.0f deltas/s in, %.0f messages/s out\n",
                static_cast<double>(cfg.rounds * cfg.rooms) / fan_s, static_cast<double>(delivered) / fan_s);
    std::printf("one delta at a time    %d deltas, client->server->client p50 %.3f ms, p99 %.3f ms\n", cfg.single,
                pct_of(single_us, 0.50) / 1000, pct_of(single_us, 0.99) / 1000);
    std::printf("one room, pipelined    %d deltas in %.3f s: %.0f deltas/s\n", cfg.pipelined, tp_s,
                static_cast<double>(cfg.pipelined) / tp_s);
    std::printf("server RSS             %s (peak %s)\n", trim(rss).c_str(), trim(hwm).c_str());
  }
};

}  // namespace

int main(int argc, char** argv) {
  Bench bench;
  std::string bin = MOCKPARTY_BIN;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--rooms") bench.cfg.rooms = v;
    else if (k == "--per-room") bench.cfg.per_room = v;
    else if (k == "--rounds") bench.cfg.rounds = v;
    else if (k == "--pipelined") bench.cfg.pipelined = v;
    else if (k == "--single") bench.cfg.single = v;
    else if (k == "--deadline") bench.cfg.deadline_s = v;
    else {
      std::fprintf(stderr, "usage: mockparty_scale [--rooms N] [--per-room N] [--rounds N] [--pipelined N] [--single N] [--deadline S]\n");
      return 2;
    }
  }
  if (bench.cfg.rooms < 1 || bench.cfg.per_room < 2 || bench.cfg.rounds < 1 || bench.cfg.pipelined < 1) return 2;

  int out[2];
  if (::pipe(out) != 0) return 1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<char*> args = {bin.data(), const_cast<char*>("--host"), const_cast<char*>("127.0.0.1"),
                             const_cast<char*>("--port"), const_cast<char*>("0"), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, args.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", bin.c_str());
    return 1;
  }
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string line;
  char ch = 0;
  while (::read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  const auto colon = line.rfind(':');
  if (line.rfind("READY ws://127.0.0.1:", 0) != 0 || colon == std::string::npos) {
    std::fprintf(stderr, "no READY line from mockparty: '%s'\n", line.c_str());
    ::kill(pid, SIGKILL);
    return 1;
  }
  bench.port = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
  bench.server_pid = pid;

  bool timed_out = false;
  asio::steady_timer deadline(bench.io, std::chrono::seconds(bench.cfg.deadline_s));
  deadline.async_wait([&](beast::error_code ec) {
    if (ec) return;
    timed_out = true;
    bench.io.stop();
  });
  asio::co_spawn(bench.io, bench.main(), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "bench failed: %s\n", ex.what());
    }
    bench.io.stop();
  });
  bench.io.run();
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out[0]);
  if (timed_out) std::fprintf(stderr, "deadline of %d s exceeded\n", bench.cfg.deadline_s);
  return bench.ok && !timed_out ? 0 : 1;
}
