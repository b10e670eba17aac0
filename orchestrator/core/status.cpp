#include "orchestrator/core/status.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "protocol/ipc.hpp"

namespace wibwob::orchestrator {

namespace {

using protocol::Errc;
using protocol::make_error;
using Json = nlohmann::json;

// The status contract's keys, in the order `status --json` writes them.
constexpr const char* bridge_keys[] = {"connected",       "synced",     "room_version", "windows_synced",
                                       "pending_deltas",  "not_created", "held_over_bound", "ipc_errors",
                                       "room_errors",     "last_error",  "uptime_s",     "origin",
                                       "room_url"};

// Text from a bridge, safe to print on a terminal: control characters become
// '?', and it is cut to `max` bytes (with "...").
std::string printable(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

protocol::Error key_error(const std::string& key, const char* what) {
  return make_error(Errc::wrong_type, "'" + key + "' is not " + what);
}

// Reads the contract's keys into `s`; an error names the first bad key.
std::optional<protocol::Error> read_fields(const Json& j, BridgeStatus& s) {
  for (const char* k : bridge_keys)
    if (!j.contains(k)) return make_error(Errc::missing_field, std::string("missing key '") + k + "'");
  for (const char* k : {"connected", "synced"})
    if (!j[k].is_boolean()) return key_error(k, "true or false");
  s.connected = j["connected"].get<bool>();
  s.synced = j["synced"].get<bool>();
  if (!j["room_version"].is_null() && !j["room_version"].is_number_integer())
    return key_error("room_version", "an integer or null");
  if (j["room_version"].is_number_integer()) s.room_version = j["room_version"].get<std::int64_t>();
  const std::pair<const char*, std::int64_t*> counts[] = {{"windows_synced", &s.windows_synced},
                                                          {"pending_deltas", &s.pending_deltas},
                                                          {"held_over_bound", &s.held_over_bound},
                                                          {"ipc_errors", &s.ipc_errors},
                                                          {"room_errors", &s.room_errors}};
  for (const auto& [k, dst] : counts) {
    if (!j[k].is_number_integer()) return key_error(k, "an integer");
    *dst = j[k].get<std::int64_t>();
  }
  if (!j["uptime_s"].is_number() || !std::isfinite(j["uptime_s"].get<double>()))
    return key_error("uptime_s", "a number");
  s.uptime_s = j["uptime_s"].get<double>();
  if (!j["last_error"].is_null() && !j["last_error"].is_string()) return key_error("last_error", "a string or null");
  if (j["last_error"].is_string()) s.last_error = j["last_error"].get<std::string>();
  for (const char* k : {"origin", "room_url"})
    if (!j[k].is_string()) return key_error(k, "a string");
  s.origin = j["origin"].get<std::string>();
  s.room_url = j["room_url"].get<std::string>();
  return std::nullopt;
}

std::optional<protocol::Error> read_not_created(const Json& list, BridgeStatus& s) {
  if (!list.is_array()) return key_error("not_created", "an array");
  for (const auto& e : list) {
    if (!e.is_object() || !e.contains("id") || !e.contains("reason") || !e["id"].is_string() ||
        !e["reason"].is_string())
      return make_error(Errc::wrong_type,
                        "'not_created' has an entry that is not {\"id\": string, \"reason\": string}");
    s.not_created.push_back({e["id"].get<std::string>(), e["reason"].get<std::string>()});
  }
  return std::nullopt;
}

}  // namespace

protocol::Result<BridgeStatus> parse_bridge_status(std::string_view text) {
  if (auto nl = text.find('\n'); nl != std::string_view::npos) text = text.substr(0, nl);
  if (text.empty()) return make_error(Errc::not_json, "empty answer");
  auto parsed = protocol::ipc::parse_json(text);
  if (!parsed) return make_error(parsed.error().code, "not JSON: " + printable(text, 60));
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(Errc::wrong_type, "not a JSON object: " + printable(text, 60));
  BridgeStatus s;
  if (auto e = read_fields(j, s)) return *e;
  if (auto e = read_not_created(j["not_created"], s)) return *e;
  return s;
}

bool healthy(const RoomStatus& r) {
  if (!r.app_up) return false;
  if (!r.multiplayer) return true;
  return r.bridge == RoomStatus::Bridge::ok && r.status && r.status->connected && r.status->synced;
}

std::string format_uptime(double seconds) {
  const double clamped = std::isfinite(seconds) ? std::clamp(seconds, 0.0, 1e12) : 0.0;
  const auto s = static_cast<long long>(clamped);
  char buf[48];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, s / 3600 % 24);
  return buf;
}

namespace {

std::string bridge_part(const RoomStatus& r) {
  using B = RoomStatus::Bridge;
  switch (r.bridge) {
    case B::none: return "single-player (no bridge)";
    case B::not_running: return "bridge not running (" + printable(r.bridge_error) + ")";
    case B::bad_status: return "bridge: bad status (" + printable(r.bridge_error) + ")";
    case B::ok: break;
  }
  const BridgeStatus& s = *r.status;
  std::string out = std::string("bridge ") + (s.connected ? "connected" : "NOT connected") + ", " +
                    (s.synced ? "synced" : "NOT synced") + ", room version " +
                    (s.room_version ? std::to_string(*s.room_version) : std::string("none")) + ", " +
                    std::to_string(s.windows_synced) + " windows, " + std::to_string(s.pending_deltas) + " pending";
  if (!s.not_created.empty()) out += ", " + std::to_string(s.not_created.size()) + " not creatable here";
  if (s.held_over_bound) out += ", " + std::to_string(s.held_over_bound) + " held over the bound";
  if (s.ipc_errors || s.room_errors)
    out += ", errors: " + std::to_string(s.ipc_errors) + " IPC, " + std::to_string(s.room_errors) + " room";
  out += ", up " + format_uptime(s.uptime_s) + ", last error: " + (s.last_error ? printable(*s.last_error) : "none");
  return out;
}

}  // namespace

std::string status_line(const RoomStatus& r) {
  return printable(r.room_id) + " (instance " + std::to_string(r.instance_id) + "): " +
         (healthy(r) ? "ok" : "UNHEALTHY") + "; " +
         (r.app_up ? std::string("app up") : "app DOWN (" + printable(r.app_error) + ")") + "; " + bridge_part(r);
}

namespace {

using OJson = nlohmann::ordered_json;

OJson or_null(const std::optional<std::string>& s) { return s ? OJson(*s) : OJson(nullptr); }

OJson bridge_json(const RoomStatus& r) {
  using B = RoomStatus::Bridge;
  if (r.bridge == B::none) return nullptr;
  OJson b;
  b["socket"] = r.bridge_socket;
  b["state"] = r.bridge == B::ok ? "ok" : r.bridge == B::not_running ? "not_running" : "bad_status";
  b["error"] = r.bridge == B::ok ? OJson(nullptr) : OJson(r.bridge_error);
  b["log"] = r.bridge_log;
  if (r.bridge != B::ok || !r.status) {
    for (const char* k : bridge_keys) b[k] = nullptr;  // the same keys, unknown
    return b;
  }
  const BridgeStatus& s = *r.status;
  b["connected"] = s.connected;
  b["synced"] = s.synced;
  b["room_version"] = s.room_version ? OJson(*s.room_version) : OJson(nullptr);
  b["windows_synced"] = s.windows_synced;
  b["pending_deltas"] = s.pending_deltas;
  b["not_created"] = OJson::array();
  for (const auto& n : s.not_created) b["not_created"].push_back({{"id", n.id}, {"reason", n.reason}});
  b["held_over_bound"] = s.held_over_bound;
  b["ipc_errors"] = s.ipc_errors;
  b["room_errors"] = s.room_errors;
  b["last_error"] = or_null(s.last_error);
  b["uptime_s"] = s.uptime_s;
  b["origin"] = s.origin;
  b["room_url"] = s.room_url;
  return b;
}

}  // namespace

std::string status_json(const std::vector<RoomStatus>& rooms) {
  OJson out = OJson::array();
  for (const auto& r : rooms) {
    OJson o;
    o["room_id"] = r.room_id;
    o["instance_id"] = r.instance_id;
    o["multiplayer"] = r.multiplayer;
    o["healthy"] = healthy(r);
    o["app"] = {{"socket", r.app_socket},
                {"up", r.app_up},
                {"error", r.app_up ? OJson(nullptr) : OJson(r.app_error)},
                {"log", r.app_log}};
    o["bridge"] = bridge_json(r);
    out.push_back(std::move(o));
  }
  return out.dump(-1, ' ', false, OJson::error_handler_t::replace) + "\n";
}

}  // namespace wibwob::orchestrator
