#include "mockparty/server/state_store.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "protocol/ipc.hpp"

namespace wibwob::mockparty {

namespace fs = std::filesystem;
using protocol::Errc;
using protocol::make_error;

protocol::Result<StateStore> StateStore::open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec))
    return make_error(Errc::io_failed, "cannot use state directory " + dir + ": " + ec.message());
  return StateStore(dir);
}

std::string StateStore::path_for(const std::string& room) const {
  // Percent-encoding leaves only [A-Za-z0-9-._~]: no '/', and with the
  // suffix never "." or "..". Room names are capped at 80 bytes by the
  // server, so the name stays under 255 bytes.
  return (fs::path(dir_) / (protocol::ipc::percent_encode(room) + ".json")).string();
}

protocol::Result<std::optional<protocol::RoomState>> StateStore::load(const std::string& room) const {
  const std::string path = path_for(room);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<protocol::RoomState>{};
  std::ostringstream ss;
  ss << in.rdbuf();
  auto j = protocol::ipc::parse_json(ss.str());
  if (!j) return make_error(j.error().code, path + ": " + j.error().message);
  auto st = protocol::parse_room_state(*j);
  if (!st) return make_error(st.error().code, path + ": " + st.error().message);
  return std::optional<protocol::RoomState>{std::move(st).value()};
}

protocol::Result<void> StateStore::save(const std::string& room, const std::string& state_json) const {
  const std::string path = path_for(room);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(Errc::io_failed, "cannot write " + tmp);
  std::size_t done = 0;
  while (done < state_json.size()) {
    const ssize_t n = ::write(fd, state_json.data() + done, state_json.size() - done);
    if (n < 0) {
      ::close(fd);
      return make_error(Errc::io_failed, "cannot write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  // No fsync: the mock survives its own restarts, not power loss, and a
  // sync per delta would dominate the benchmark.
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(Errc::io_failed, "cannot rename " + tmp + " to " + path);
  return {};
}

}  // namespace wibwob::mockparty
