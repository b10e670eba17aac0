#include "bridge/core/handover.hpp"

#include "protocol/ipc.hpp"

namespace wibwob::bridge {

using protocol::Errc;
using protocol::Json;
using protocol::make_error;

namespace {

constexpr int kFormat = 1;

protocol::Result<std::string> string_field(const Json& j, const char* key, const protocol::Limits& limits) {
  const auto it = j.find(key);
  if (it == j.end()) return make_error(Errc::missing_field, std::string("handover: no \"") + key + "\"");
  if (!it->is_string()) return make_error(Errc::wrong_type, std::string("handover: \"") + key + "\" is not a string");
  auto s = it->get<std::string>();
  if (s.size() > limits.max_string_bytes) return make_error(Errc::too_large, std::string("handover: \"") + key + "\" too long");
  return s;
}

// A layout field: every entry must be a valid window (no skipping here).
protocol::Result<protocol::Layout> layout_field(const Json& j, const char* key, const protocol::Limits& limits) {
  const auto it = j.find(key);
  if (it == j.end()) return make_error(Errc::missing_field, std::string("handover: no \"") + key + "\"");
  if (!it->is_object()) return make_error(Errc::wrong_type, std::string("handover: \"") + key + "\" is not an object");
  if (it->size() > limits.max_windows) return make_error(Errc::too_large, std::string("handover: too many windows in \"") + key + "\"");
  protocol::Layout out;
  for (const auto& [id, w] : it->items()) {
    auto win = protocol::normalise_window(w, limits);
    if (!win) return make_error(win.error().code, std::string("handover: \"") + key + "\" window " + id.substr(0, 64) + ": " + win.error().message);
    if (win->id != id) return make_error(Errc::bad_value, std::string("handover: \"") + key + "\" window " + id.substr(0, 64) + " carries another id");
    out.emplace(id, std::move(*win));
  }
  return out;
}

}  // namespace

std::string encode_handover(const Handover& h) {
  Json map = Json::object();
  for (const auto& [rid, local] : h.room_to_local) map[rid] = local;
  return Json{{"format", kFormat},
              {"app", h.app_key},
              {"room", h.room_key},
              {"map", std::move(map)},
              {"believed", protocol::to_json_map(h.believed)},
              {"creating", protocol::to_json_map(h.creating)}}
      // A title the app sent with broken UTF-8 must not stop the bridge.
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

protocol::Result<Handover> decode_handover(std::string_view text, const protocol::Limits& limits) {
  if (text.size() > max_handover_bytes)
    return make_error(Errc::too_large, "handover: over " + std::to_string(max_handover_bytes) + " bytes");
  auto parsed = protocol::ipc::parse_json(text);
  if (!parsed)
    return make_error(parsed.error().code, parsed.error().code == Errc::too_deep ? "handover: JSON nested too deep"
                                                                                  : "handover: not valid JSON");
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(Errc::wrong_type, "handover: not a JSON object");
  const auto format = j.find("format");
  if (format == j.end() || !format->is_number_integer() || format->get<std::int64_t>() != kFormat)
    return make_error(Errc::unsupported, "handover: not format 1");
  Handover h;
  auto app = string_field(j, "app", limits);
  if (!app) return app.error();
  auto room = string_field(j, "room", limits);
  if (!room) return room.error();
  auto believed = layout_field(j, "believed", limits);
  if (!believed) return believed.error();
  auto creating = layout_field(j, "creating", limits);
  if (!creating) return creating.error();
  h.app_key = std::move(*app);
  h.room_key = std::move(*room);
  h.believed = std::move(*believed);
  h.creating = std::move(*creating);
  const auto map = j.find("map");
  if (map == j.end() || !map->is_object()) return make_error(Errc::wrong_type, "handover: \"map\" is not an object");
  if (map->size() > limits.max_windows) return make_error(Errc::too_large, "handover: too many mapped windows");
  std::map<std::string, std::string> seen_local;
  for (const auto& [rid, local] : map->items()) {
    if (!local.is_string() || !protocol::ipc::is_app_window_id(local.get<std::string>()))
      return make_error(Errc::bad_value, "handover: window " + rid.substr(0, 64) + " maps to no app id");
    if (!h.believed.count(rid))
      return make_error(Errc::bad_value, "handover: mapped window " + rid.substr(0, 64) + " is not in \"believed\"");
    if (!seen_local.emplace(local.get<std::string>(), rid).second)
      return make_error(Errc::bad_value, "handover: app id " + local.get<std::string>() + " is mapped twice");
    h.room_to_local.emplace(rid, local.get<std::string>());
  }
  return h;
}

}  // namespace wibwob::bridge
