// wibwob-rooms over real processes (AC-3): two rooms, one multiplayer and one
// not, `fakewibwob` as the app and a stand-in bridge script that records its
// environment and stays alive. Everything lives in a fresh temp dir; every
// wait is a poll of an observable fact with a deadline.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "bridge/ipc/ipc_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/io_test_support.hpp"
#include "protocol/ipc.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using wibwob::test::TempDir;
using wibwob::test::wait_until;

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// d/rooms/<name> for each (name, text).
void write_rooms(const fs::path& d, std::initializer_list<std::pair<const char*, const char*>> files) {
  fs::create_directory(d / "rooms");
  for (const auto& [name, text] : files) write(d / "rooms" / name, text);
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> files_with_prefix(const fs::path& dir, const std::string& prefix, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> parse_env(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  return env;
}

// bridge-<instance>.<pid>.env -> pid
int pid_of(const fs::path& env_file) {
  const std::string stem = env_file.stem().string();  // bridge-41.<pid>
  return std::stoi(stem.substr(stem.find('.') + 1));
}

bool alive(int pid) { return ::kill(pid, 0) == 0; }

// A child process with stdout/stderr to files; SIGTERM + reap on destruction.
struct Child : wibwob::test::ChildProcess {
  Child(const std::vector<std::string>& args, const fs::path& out, const fs::path& err)
      : ChildProcess(args, Options{{}, out, err}) {}
};

const char* kAppWrapper = R"SH(out=$1; inst=$2; shift 2
echo $$ > "$out/app-$inst.pid.tmp" && mv "$out/app-$inst.pid.tmp" "$out/app-$inst.pid"
echo $$ >> "$out/app-$inst.starts"
exec "$@"
)SH";

// Records its environment, and on SIGTERM whether every app was still alive.
// The trap is set before the environment file appears: the test takes that
// file as "running" and may have SIGTERM sent at once (under load, a trap set
// after it lost that signal and the test its verdict).
const char* kBridgeStandIn = R"SH(out=$1; inst=$2; sock=$3
on_term() {
  verdict=alive
  [ -S "$sock" ] || verdict="gone: socket $sock"
  for f in "$out"/app-*.pid; do kill -0 "$(cat "$f")" 2>/dev/null || verdict="gone: $f"; done
  echo "$verdict" > "$out/term-$inst.$$.tmp" && mv "$out/term-$inst.$$.tmp" "$out/term-$inst.$$.txt"
  exit 0
}
trap on_term TERM
env | grep '^WIBWOB_' > "$out/bridge-$inst.$$.tmp" && mv "$out/bridge-$inst.$$.tmp" "$out/bridge-$inst.$$.env"
while :; do sleep 1 & wait $!; done
)SH";

const char* kShared = "---\nroom_id: shared\ninstance_id: 41\nttyd_port: 7741\nmultiplayer: true\n"
                      "partykit_room: shared-space\npartykit_server: http://127.0.0.1:1999\n---\n# Shared\n";
const char* kSolo = "---\nroom_id: solo\ninstance_id: 42\nttyd_port: 7742\n---\n# Solo\n";

}  // namespace

TEST(OrchRooms, StartsABridgeOnlyForTheMultiplayerRoomRestartsItAndStopsBridgesFirst) {
  TempDir tmp;
  const fs::path d = tmp.path();
  write_rooms(d, {{"shared.md", kShared}, {"solo.md", kSolo}});
  write(d / "app.sh", kAppWrapper);
  write(d / "bridge.sh", kBridgeStandIn);
  const std::string dir = d.string();

  Child rooms({WIBWOB_ROOMS_BIN, "start", dir + "/rooms", "--socket-dir", dir, "--app-cmd",
               "/bin/sh " + dir + "/app.sh " + dir + " {instance_id} " + FAKEWIBWOB_BIN +
                   " --socket {socket} --ui-tick-ms 0 --remove-socket-on-exit",
               "--bridge-cmd", "/bin/sh " + dir + "/bridge.sh " + dir + " {instance_id} {socket}", "--stop-grace-ms",
               "5000"},
              d / "rooms.out", d / "rooms.log");
  ASSERT_GT(rooms.pid(), 0);
  auto log = [&] { return read(d / "rooms.log"); };

  // 1. The multiplayer room's bridge starts, with the contract's environment.
  ASSERT_TRUE(wait_until([&] { return !files_with_prefix(d, "bridge-41.", ".env").empty(); })) << log();
  const fs::path first = files_with_prefix(d, "bridge-41.", ".env").front();
  auto env = parse_env(read(first));
  EXPECT_EQ(env["WIBWOB_INSTANCE"], "41");
  EXPECT_EQ(env["WIBWOB_PARTYKIT_URL"], "http://127.0.0.1:1999");
  EXPECT_EQ(env["WIBWOB_PARTYKIT_ROOM"], "shared-space");
  const std::string secret = env["WIBWOB_AUTH_SECRET"];
  ASSERT_EQ(secret.size(), 64u);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);

  // The bridge's secret is the app's: an authenticated get_state works with it.
  {
    boost::asio::io_context io;
    wibwob::bridge::IpcClientConfig c;
    c.socket_path = dir + "/wibwob_41.sock";
    c.secret = secret;
    const auto outcome = wibwob::test::await(io, wibwob::bridge::ipc_request(c, "cmd:get_state\n"), 10s);
    ASSERT_EQ(outcome.failure, wibwob::bridge::IpcFailure::none) << outcome.text;
    EXPECT_TRUE(wibwob::protocol::ipc::parse_get_state(outcome.text).ok()) << outcome.text;
  }

  // 2. The single-player room: healthy, and no bridge (it would have started
  //    at the moment its app became healthy).
  ASSERT_TRUE(wait_until([&] { return log().find("[solo] app is healthy") != std::string::npos; })) << log();
  EXPECT_TRUE(files_with_prefix(d, "bridge-42.", ".env").empty());

  // 3. Kill the bridge: a new one starts; the app is the same process.
  const std::string app_pid_text = read(d / "app-41.pid");
  const int app41 = std::stoi(app_pid_text);
  const int app42 = std::stoi(read(d / "app-42.pid"));
  const int bridge1 = pid_of(first);
  ASSERT_EQ(::kill(bridge1, SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return files_with_prefix(d, "bridge-41.", ".env").size() >= 2; })) << log();
  fs::path second;
  for (const auto& f : files_with_prefix(d, "bridge-41.", ".env"))
    if (pid_of(f) != bridge1) second = f;
  ASSERT_FALSE(second.empty());
  const int bridge2 = pid_of(second);
  EXPECT_TRUE(alive(bridge2));
  EXPECT_EQ(parse_env(read(second))["WIBWOB_AUTH_SECRET"], secret);  // same app, same secret
  EXPECT_TRUE(alive(app41));
  EXPECT_EQ(read(d / "app-41.starts"), app_pid_text);  // started once
  EXPECT_NE(log().find("exited unexpectedly"), std::string::npos);

  // 4. SIGTERM: the bridge is told to stop while every app still runs; then
  //    the apps stop; wibwob-rooms exits 0.
  ASSERT_EQ(::kill(rooms.pid(), SIGTERM), 0);
  ASSERT_TRUE(wait_until([&] { return rooms.exited(); })) << log();
  EXPECT_EQ(rooms.exit_code(), 0) << log();
  const fs::path verdict = d / ("term-41." + std::to_string(bridge2) + ".txt");
  ASSERT_TRUE(fs::exists(verdict)) << "the bridge never got SIGTERM\n" << log();
  EXPECT_EQ(read(verdict), "alive\n") << log();
  EXPECT_FALSE(alive(bridge2));
  EXPECT_FALSE(alive(app41));
  EXPECT_FALSE(alive(app42));
  // The fakes exited cleanly on SIGTERM (they remove their sockets then).
  EXPECT_FALSE(fs::exists(d / "wibwob_41.sock"));
  EXPECT_FALSE(fs::exists(d / "wibwob_42.sock"));
  EXPECT_TRUE(files_with_prefix(d, "bridge-42.", ".env").empty());
  const std::string l = log();
  EXPECT_LT(l.find("SIGTERM to bridge"), l.find("SIGTERM to app")) << l;
}

TEST(OrchRooms, CheckAndPlanReportBadRoomFiles) {
  TempDir tmp;
  const fs::path d = tmp.path();
  write_rooms(d, {{"shared.md", kShared}});
  write(d / "rooms" / "typo.md", "---\nroom_id: typo\ninstance_id: 43\nttyd_port: 7743\nmultiplayr: true\n---\n");
  {
    Child check({WIBWOB_ROOMS_BIN, "check", (d / "rooms" / "typo.md").string()}, d / "out", d / "err");
    ASSERT_TRUE(wait_until([&] { return check.exited(); }));
    EXPECT_EQ(check.exit_code(), 1);
    EXPECT_NE(read(d / "err").find("typo.md:5: error: unknown key 'multiplayr' (did you mean 'multiplayer'?)"),
              std::string::npos)
        << read(d / "err");
  }
  {
    Child plan({WIBWOB_ROOMS_BIN, "plan", (d / "rooms").string()}, d / "out", d / "err");
    ASSERT_TRUE(wait_until([&] { return plan.exited(); }));
    EXPECT_EQ(plan.exit_code(), 1);
    EXPECT_EQ(read(d / "out"), "");
  }
  write(d / "rooms" / "typo.md", "---\nroom_id: typo\ninstance_id: 41\nttyd_port: 7743\n---\n");
  {
    Child plan({WIBWOB_ROOMS_BIN, "plan", (d / "rooms").string()}, d / "out", d / "err");
    ASSERT_TRUE(wait_until([&] { return plan.exited(); }));
    EXPECT_EQ(plan.exit_code(), 1);
    EXPECT_NE(read(d / "err").find("instance_id 41 is also used by"), std::string::npos) << read(d / "err");
  }
  write(d / "rooms" / "typo.md", "---\nroom_id: typo\ninstance_id: 43\nttyd_port: 7743\n---\n");
  {
    Child plan({WIBWOB_ROOMS_BIN, "plan", (d / "rooms").string(), "--bridge-cmd", "/x/wibwob-bridge"}, d / "out",
               d / "err");
    ASSERT_TRUE(wait_until([&] { return plan.exited(); }));
    EXPECT_EQ(plan.exit_code(), 0) << read(d / "err");
    const std::string out = read(d / "out");
    EXPECT_NE(out.find("2 room(s), 1 with a bridge"), std::string::npos) << out;
    EXPECT_NE(out.find("bridge: /x/wibwob-bridge"), std::string::npos) << out;
    EXPECT_EQ(out.find("WIBWOB_AUTH_SECRET=0"), std::string::npos);
  }
}

namespace {

// Records its pid, writes a line to stderr and one to stdout, then waits for SIGTERM.
const char* kChattyBridge = R"SH(echo $$ > "$1/bridge.pid.tmp" && mv "$1/bridge.pid.tmp" "$1/bridge.pid"
echo "bridge-stderr-marker $WIBWOB_INSTANCE" >&2
echo "bridge-stdout-marker"
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
)SH";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

// AC for issue 11, item 6: each child's stdout and stderr land in its own
// file under --log-dir, appended to across restarts, and never in
// wibwob-rooms' own output. With --log-format json, wibwob-rooms' lines and
// the app's are JSON objects.
TEST(OrchRooms, EachChildsOutputGoesToItsOwnLogFile) {
  TempDir tmp;
  const fs::path d = tmp.path();
  write_rooms(d, {{"shared.md", kShared}});
  write(d / "bridge.sh", kChattyBridge);
  const std::string dir = d.string();
  const fs::path logs = d / "child-logs";

  Child rooms({WIBWOB_ROOMS_BIN, "--log-format", "json", "start", dir + "/rooms", "--socket-dir", dir, "--log-dir",
               logs.string(), "--app-cmd",
               std::string(FAKEWIBWOB_BIN) +
                   " --socket {socket} --ui-tick-ms 0 --remove-socket-on-exit --log-format json",
               "--bridge-cmd", "/bin/sh " + dir + "/bridge.sh " + dir, "--stop-grace-ms", "5000"},
              d / "rooms.out", d / "rooms.log");
  ASSERT_GT(rooms.pid(), 0);
  auto log = [&] { return read(d / "rooms.log"); };
  const fs::path app_log = logs / "shared.app.log", bridge_log = logs / "shared.bridge.log";

  // The app's "listening" line (stderr) and READY (stdout) land in its file;
  // the bridge's two lines in its own.
  ASSERT_TRUE(wait_until([&] { return read(bridge_log).find("bridge-stdout-marker") != std::string::npos; }))
      << log();
  EXPECT_NE(read(bridge_log).find("bridge-stderr-marker 41"), std::string::npos) << read(bridge_log);
  EXPECT_NE(read(app_log).find("READY unix:" + dir + "/wibwob_41.sock"), std::string::npos) << read(app_log);
  EXPECT_NE(read(app_log).find("\"component\":\"fakewibwob\",\"msg\":\"listening on"), std::string::npos)
      << read(app_log);
  EXPECT_EQ(read(app_log).find("bridge-"), std::string::npos);

  // A restarted bridge appends to the same file after a new start marker.
  const std::string first = read(bridge_log);
  EXPECT_EQ(count(first, "--- wibwob-rooms "), 1u) << first;
  ASSERT_TRUE(wait_until([&] { return log().find("\"role\":\"bridge\",\"log\":\"" + bridge_log.string()) !=
                                      std::string::npos; }))
      << log();
  ASSERT_EQ(::kill(std::stoi(read(d / "bridge.pid")), SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return count(read(bridge_log), "bridge-stderr-marker") == 2; })) << log();
  EXPECT_TRUE(read(bridge_log).starts_with(first));
  EXPECT_EQ(count(read(bridge_log), "--- wibwob-rooms "), 2u);

  ASSERT_EQ(::kill(rooms.pid(), SIGTERM), 0);
  ASSERT_TRUE(wait_until([&] { return rooms.exited(); })) << log();
  EXPECT_EQ(rooms.exit_code(), 0) << log();

  // wibwob-rooms' own output has none of the children's lines, and every
  // line of it is one JSON object from the component "rooms".
  const std::string own = log() + read(d / "rooms.out");
  for (const char* child_line : {"bridge-stderr-marker", "bridge-stdout-marker", "READY", "listening on"})
    EXPECT_EQ(own.find(child_line), std::string::npos) << child_line << " in\n" << own;
  const auto lines = lines_of(log());
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) {
    EXPECT_TRUE(l.starts_with("{\"ts\":\"") && l.ends_with("}")) << l;
    EXPECT_NE(l.find("\"component\":\"rooms\",\"msg\":\""), std::string::npos) << l;
  }
  EXPECT_NE(log().find("\"msg\":\"[shared] starting app: "), std::string::npos);
  EXPECT_NE(log().find("\"room\":\"shared\",\"role\":\"app\",\"log\":\"" + app_log.string() + "\""),
            std::string::npos);
}

TEST(OrchRooms, PlanNamesTheLogFilesAndBadLogOptionsAreClearErrors) {
  TempDir tmp;
  const fs::path d = tmp.path();
  write_rooms(d, {{"shared.md", kShared}});
  const std::string rooms_dir = (d / "rooms").string();
  {  // default: ROOMS_DIR/logs, when not under systemd
    ::unsetenv("STATE_DIRECTORY");
    Child plan({WIBWOB_ROOMS_BIN, "plan", rooms_dir}, d / "out", d / "err");
    ASSERT_TRUE(wait_until([&] { return plan.exited(); }));
    EXPECT_EQ(plan.exit_code(), 0) << read(d / "err");
    EXPECT_NE(read(d / "out").find("    log: " + rooms_dir + "/logs/shared.app.log\n"), std::string::npos)
        << read(d / "out");
    EXPECT_NE(read(d / "out").find("    log: " + rooms_dir + "/logs/shared.bridge.log\n"), std::string::npos);
    EXPECT_FALSE(fs::exists(d / "rooms" / "logs"));  // plan creates nothing
  }
  {  // under systemd: $STATE_DIRECTORY/logs
    ::setenv("STATE_DIRECTORY", (d / "state").c_str(), 1);
    Child plan({WIBWOB_ROOMS_BIN, "plan", rooms_dir}, d / "out", d / "err");
    ::unsetenv("STATE_DIRECTORY");
    ASSERT_TRUE(wait_until([&] { return plan.exited(); }));
    EXPECT_NE(read(d / "out").find("    log: " + (d / "state").string() + "/logs/shared.app.log\n"),
              std::string::npos)
        << read(d / "out");
  }
  {
    Child bad({WIBWOB_ROOMS_BIN, "--log-format", "xml", "plan", rooms_dir}, d / "out", d / "err");
    ASSERT_TRUE(wait_until([&] { return bad.exited(); }));
    EXPECT_EQ(bad.exit_code(), 1);
    EXPECT_NE(read(d / "err").find("--log-format"), std::string::npos) << read(d / "err");
  }
  {  // a log dir that cannot be one: exit 2 before anything starts
    write(d / "a-file", "x");
    Child start({WIBWOB_ROOMS_BIN, "start", rooms_dir, "--log-dir", (d / "a-file").string(), "--app-cmd",
                 "/bin/false"},
                d / "out", d / "err");
    ASSERT_TRUE(wait_until([&] { return start.exited(); }));
    EXPECT_EQ(start.exit_code(), 2);
    EXPECT_NE(read(d / "err").find("log directory " + (d / "a-file").string()), std::string::npos)
        << read(d / "err");
    EXPECT_EQ(read(d / "err").find("starting app"), std::string::npos);
  }
}

namespace {

// A stand-in for a bridge's status socket: every connection gets `answer`
// and is closed (`hold` keeps it open, silent, until the server stops).
class FakeStatusServer {
 public:
  FakeStatusServer(const fs::path& path, std::string answer, bool hold = false)
      : path_(path), answer_(std::move(answer)), hold_(hold) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0)
      throw std::runtime_error("cannot listen on " + path.string());
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeStatusServer() {
    ::shutdown(fd_, SHUT_RDWR);  // accept() returns at once: the thread ends
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
    ::unlink(path_.c_str());
  }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;  // shut down
      if (hold_) {
        held_.push_back(c);
        continue;
      }
      for (std::size_t off = 0; off < answer_.size();) {
        const auto n = ::send(c, answer_.data() + off, answer_.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;  // the client stopped reading
        off += static_cast<std::size_t>(n);
      }
      ::close(c);
    }
  }
  fs::path path_;
  std::string answer_;
  bool hold_;
  int fd_ = -1;
  std::vector<int> held_;
  std::thread thread_;
};

const char* kHealthyStatus =
    R"({"connected":true,"synced":true,"room_version":17,"windows_synced":3,"pending_deltas":0,"not_created":[],)"
    R"("held_over_bound":0,"ipc_errors":0,"room_errors":0,"last_error":null,"uptime_s":65,"origin":"b41",)"
    R"("room_url":"ws://127.0.0.1:1999/parties/main/shared-space"})"
    "\n";

struct StatusRun {
  int exit = -1;
  std::string out, err;
};

StatusRun rooms_status(const fs::path& d, bool json = false) {
  std::vector<std::string> args = {WIBWOB_ROOMS_BIN, "status", (d / "rooms").string(), "--socket-dir", d.string()};
  if (json) args.push_back("--json");
  StatusRun r;
  {
    Child c(args, d / "status.out", d / "status.err");
    if (!wait_until([&] { return c.exited(); }) || *c.exit_code() >= 128) return r;
    r.exit = *c.exit_code();
  }
  r.out = read(d / "status.out");
  r.err = read(d / "status.err");
  return r;
}

}  // namespace

// Issue 11, item 2: `wibwob-rooms status` over real sockets: fakewibwob as
// each room's app, a fake bridge status socket written here.
TEST(OrchRoomsStatus, SaysPerRoomWhetherAppAndBridgeAreHealthy) {
  TempDir tmp;
  const fs::path d = tmp.path();
  write_rooms(d, {{"shared.md", kShared}, {"solo.md", kSolo}});
  auto app = [&](const char* inst) {
    const std::string sock = (d / ("wibwob_" + std::string(inst) + ".sock")).string();
    return std::make_unique<Child>(
        std::vector<std::string>{FAKEWIBWOB_BIN, "--socket", sock, "--ui-tick-ms", "0", "--remove-socket-on-exit"},
        d / (std::string(inst) + ".out"), d / (std::string(inst) + ".err"));
  };
  auto app41 = app("41"), app42 = app("42");
  ASSERT_TRUE(wait_until([&] { return fs::exists(d / "wibwob_41.sock") && fs::exists(d / "wibwob_42.sock"); }));
  const fs::path bridge_sock = d / "wibwob_41.bridge.sock";

  {  // healthy
    FakeStatusServer bridge(bridge_sock, kHealthyStatus);
    auto r = rooms_status(d);
    EXPECT_EQ(r.exit, 0) << r.out << r.err;
    EXPECT_EQ(r.out,
              "shared (instance 41): ok; app up; bridge connected, synced, room version 17, 3 windows, 0 pending, up "
              "1m05s, last error: none\nsolo (instance 42): ok; app up; single-player (no bridge)\n");
    auto j = rooms_status(d, /*json=*/true);
    EXPECT_EQ(j.exit, 0);
    EXPECT_NE(j.out.find(R"("healthy":true,"app":{"socket":")" + (d / "wibwob_41.sock").string()), std::string::npos)
        << j.out;
    EXPECT_NE(j.out.find(R"("state":"ok","error":null,"log":")" + (d / "rooms/logs/shared.bridge.log").string()),
              std::string::npos)
        << j.out;
  }
  {  // bridge not running: no socket
    auto r = rooms_status(d);
    EXPECT_EQ(r.exit, 1);
    EXPECT_NE(r.out.find("shared (instance 41): UNHEALTHY; app up; bridge not running (" + bridge_sock.string() +
                         ": No such file or directory)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("solo (instance 42): ok"), std::string::npos) << r.out;
  }
  {  // garbage, with a terminal escape: a clear line, no escape byte printed
    FakeStatusServer bridge(bridge_sock, "\x1b[2J<html>oops</html>\n");
    auto r = rooms_status(d);
    EXPECT_EQ(r.exit, 1);
    EXPECT_NE(r.out.find("shared (instance 41): UNHEALTHY; app up; bridge: bad status (not JSON: ?[2J<html>"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  }
  {  // an endless answer is cut at 64 KiB
    FakeStatusServer bridge(bridge_sock, std::string(1 << 20, '{'));
    auto r = rooms_status(d);
    EXPECT_EQ(r.exit, 1);
    EXPECT_NE(r.out.find("bridge: bad status (answer longer than 65536 bytes)"), std::string::npos) << r.out;
  }
  {  // a bridge that accepts and never answers: the read deadline
    FakeStatusServer bridge(bridge_sock, "", /*hold=*/true);
    auto r = rooms_status(d);
    EXPECT_EQ(r.exit, 1);
    EXPECT_NE(r.out.find("bridge: bad status (no complete answer within 1000 ms)"), std::string::npos) << r.out;
  }
  {  // app down: the solo app stops (and removes its socket)
    FakeStatusServer bridge(bridge_sock, kHealthyStatus);
    ASSERT_EQ(::kill(app42->pid(), SIGTERM), 0);
    ASSERT_TRUE(wait_until([&] { return app42->exited(); }));
    auto r = rooms_status(d);
    EXPECT_EQ(r.exit, 1);
    EXPECT_NE(r.out.find("shared (instance 41): ok"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("solo (instance 42): UNHEALTHY; app DOWN (" + (d / "wibwob_42.sock").string() + ": "),
              std::string::npos)
        << r.out;
  }
  // Usage errors: exit 2.
  Child bad({WIBWOB_ROOMS_BIN, "status", (d / "rooms").string(), "--no-such-flag"}, d / "out", d / "err");
  ASSERT_TRUE(wait_until([&] { return bad.exited(); }));
  EXPECT_EQ(bad.exit_code(), 2);
  Child none({WIBWOB_ROOMS_BIN, "status", (d / "missing").string()}, d / "out", d / "err");
  ASSERT_TRUE(wait_until([&] { return none.exited(); }));
  EXPECT_EQ(none.exit_code(), 2);
}
