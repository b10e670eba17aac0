#include "orchestrator/core/plan.hpp"

#include <algorithm>
#include <filesystem>
#include <array>
#include <optional>
#include <sstream>

#include "protocol/socket_paths.hpp"

namespace wibwob::orchestrator {

using protocol::Errc;
using protocol::make_error;

namespace {

constexpr std::array<std::string_view, 8> placeholders = {
    "instance_id", "room_id", "ttyd_port", "socket", "display_name", "layout_path", "partykit_room", "partykit_server"};

// Walks one word: calls lit(text) for literal runs and ph(name) for each
// placeholder. Returns an error message for a malformed word.
template <class Lit, class Ph>
std::optional<std::string> walk(std::string_view w, Lit lit, Ph ph) {
  std::size_t i = 0;
  while (i < w.size()) {
    if (w.compare(i, 2, "{{") == 0) { lit("{"); i += 2; continue; }
    if (w.compare(i, 2, "}}") == 0) { lit("}"); i += 2; continue; }
    if (w[i] == '}') return "unbalanced '}' in '" + std::string(w) + "' (write }} for a literal brace)";
    if (w[i] == '{') {
      const auto close = w.find('}', i);
      if (close == std::string_view::npos) return "unclosed '{' in '" + std::string(w) + "'";
      const auto name = w.substr(i + 1, close - i - 1);
      if (std::find(placeholders.begin(), placeholders.end(), name) == placeholders.end())
        return "unknown placeholder {" + std::string(name) +
               "} (known: {instance_id} {room_id} {ttyd_port} {socket} {display_name} {layout_path} "
               "{partykit_room} {partykit_server})";
      ph(name);
      i = close + 1;
      continue;
    }
    const auto next = w.find_first_of("{}", i);
    const auto end = next == std::string_view::npos ? w.size() : next;
    lit(w.substr(i, end - i));
    i = end;
  }
  return std::nullopt;
}

}  // namespace

protocol::Result<CommandTemplate> parse_command_template(std::string_view text) {
  if (text.size() > 16 * 1024) return make_error(Errc::too_large, "command template over 16 KiB");
  CommandTemplate t;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) ++i;
    const auto start = i;
    while (i < text.size() && !space(text[i])) ++i;
    if (i > start) t.words.emplace_back(text.substr(start, i - start));
  }
  if (t.words.empty()) return make_error(Errc::missing_field, "command template is empty");
  for (const auto& w : t.words) {
    if (w.find('\0') != std::string::npos) return make_error(Errc::bad_value, "command template contains a NUL byte");
    if (auto err = walk(w, [](std::string_view) {}, [](std::string_view) {}))
      return make_error(Errc::bad_value, *err);
  }
  return t;
}

std::vector<std::string> expand(const CommandTemplate& t, const Room& room, const std::string& socket_path) {
  auto value = [&](std::string_view name) -> std::string {
    if (name == "instance_id") return std::to_string(room.instance_id);
    if (name == "room_id") return room.room_id;
    if (name == "ttyd_port") return std::to_string(room.ttyd_port);
    if (name == "socket") return socket_path;
    if (name == "display_name") return room.display_name;
    if (name == "layout_path") return room.layout_path.value_or("");
    if (name == "partykit_room") return room.partykit_room.value_or("");
    if (name == "partykit_server") return room.partykit_server.value_or("");
    return {};
  };
  std::vector<std::string> argv;
  for (const auto& w : t.words) {
    std::string out;
    // Templates are validated at parse time; a malformed word (impossible
    // through parse_command_template) is passed through verbatim.
    if (walk(w, [&](std::string_view s) { out += s; }, [&](std::string_view n) { out += value(n); }))
      out = w;
    argv.push_back(std::move(out));
  }
  return argv;
}

Plan make_plan(std::vector<Room> rooms, PlanOptions options) {
  Plan p;
  for (auto& r : rooms) {
    RoomPlan rp;
    rp.socket_path = protocol::instance_socket_path(options.socket_dir, std::to_string(r.instance_id));
    rp.bridge = r.multiplayer;
    rp.room = std::move(r);
    p.rooms.push_back(std::move(rp));
  }
  p.options = std::move(options);
  return p;
}

std::string log_path_for(const Plan& plan, std::size_t room, std::string_view role) {
  std::string dir = plan.options.log_dir;
  if (dir.empty()) return {};
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return (dir == "/" ? "" : dir) + "/" + plan.rooms.at(room).room.room_id + "." + std::string(role) + ".log";
}

Launch app_launch(const Plan& plan, std::size_t i, const std::string& secret) {
  const RoomPlan& rp = plan.rooms.at(i);
  Launch l;
  l.argv = expand(plan.options.app_command, rp.room, rp.socket_path);
  l.set = {{env_instance, std::to_string(rp.room.instance_id)}, {env_secret, secret}};
  l.unset = {env_partykit_url, env_partykit_room};
  return l;
}

std::string content_folders(const Room& room) {
  namespace fs = std::filesystem;
  const fs::path base = fs::path(room.source).parent_path();
  std::vector<std::string> folders;
  for (const auto& f : room.preload_files) {
    fs::path p(f);
    if (p.is_relative()) p = base / p;
    std::string dir = p.lexically_normal().parent_path().string();
    if (!dir.empty() && std::find(folders.begin(), folders.end(), dir) == folders.end()) folders.push_back(dir);
  }
  std::string out;
  for (const auto& d : folders) out += (out.empty() ? "" : ":") + d;
  return out;
}

Launch bridge_launch(const Plan& plan, std::size_t i, const std::string& secret) {
  const RoomPlan& rp = plan.rooms.at(i);
  Launch l;
  l.argv = expand(plan.options.bridge_command, rp.room, rp.socket_path);
  l.set = {{env_instance, std::to_string(rp.room.instance_id)},
           {env_secret, secret},
           {env_partykit_url, rp.room.partykit_server.value_or("")},
           {env_partykit_room, rp.room.partykit_room.value_or("")}};
  if (const auto folders = content_folders(rp.room); !folders.empty()) l.set.emplace_back(env_allow_paths, folders);
  return l;
}

std::string describe(const Plan& plan) {
  std::ostringstream o;
  std::size_t bridges = 0;
  for (const auto& rp : plan.rooms) bridges += rp.bridge ? 1 : 0;
  o << plan.rooms.size() << " room(s), " << bridges << " with a bridge\n";
  for (std::size_t i = 0; i < plan.rooms.size(); ++i) {
    const RoomPlan& rp = plan.rooms[i];
    const Room& r = rp.room;
    o << "\nroom " << r.room_id << " (" << r.source << ")\n"
      << "  display_name: " << r.display_name << "\n"
      << "  instance_id: " << r.instance_id << "  ttyd_port: " << r.ttyd_port
      << "  api_key_source: " << to_string(r.api_key_source) << "  max_visitors: " << r.max_visitors << "\n"
      << "  socket: " << rp.socket_path << "\n";
    auto show = [&](const char* what, const Launch& l) {
      o << "  " << what << ":";
      for (const auto& a : l.argv) o << " " << a;
      o << "\n";
      if (const auto log = log_path_for(plan, i, what); !log.empty()) o << "    log: " << log << "\n";
      for (const auto& [k, val] : l.set)
        o << "    " << k << "=" << (k == env_secret ? std::string("<fresh 32-byte hex secret per app start>") : val)
          << "\n";
      for (const auto& k : l.unset) o << "    (unset " << k << ")\n";
    };
    show("app", app_launch(plan, i, "x"));
    if (rp.bridge) {
      o << "  multiplayer: yes, max_players " << r.max_players << "\n";
      show("bridge", bridge_launch(plan, i, "x"));
    } else {
      o << "  multiplayer: no (no bridge)\n";
    }
  }
  return o.str();
}

protocol::Result<std::string> secret_from_bytes(std::string_view bytes) {
  if (bytes.size() != 32)
    return make_error(Errc::bad_value, "a secret needs 32 random bytes, got " + std::to_string(bytes.size()));
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    s += hex[u >> 4];
    s += hex[u & 15];
  }
  return s;
}

}  // namespace wibwob::orchestrator
