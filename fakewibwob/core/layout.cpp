#include <limits>

#include "fakewibwob/core/fake_app.hpp"

namespace wibwob::fakewibwob {

using protocol::Errc;
using protocol::make_error;

// --- layout files ------------------------------------------------------------------------

protocol::Result<std::vector<OpenSpec>> parse_layout(std::string_view text) {
  auto parsed = ipc::parse_json(text);
  if (!parsed) return parsed.error();
  const ipc::Json* list = &*parsed;
  if (parsed->is_object()) {
    auto it = parsed->find("windows");
    if (it == parsed->end()) return make_error(Errc::missing_field, "layout has no 'windows'");
    list = &*it;
  }
  if (!list->is_array()) return make_error(Errc::wrong_type, "layout windows are not a list");
  if (list->size() > 4096) return make_error(Errc::too_large, "layout has more than 4096 windows");
  std::vector<OpenSpec> out;
  for (const auto& j : *list) {
    if (!j.is_object()) return make_error(Errc::wrong_type, "layout window is not an object");
    OpenSpec s;
    auto type = j.find("type");
    if (type == j.end() || !type->is_string()) return make_error(Errc::missing_field, "layout window without a string 'type'");
    s.type = type->get<std::string>();
    int present = 0;
    Rect r;
    for (auto [key, dst] : {std::pair{"x", &r.x}, std::pair{"y", &r.y}, std::pair{"w", &r.w}, std::pair{"h", &r.h}}) {
      auto v = j.find(key);
      if (v == j.end()) continue;
      if (!v->is_number_integer() || v->get<std::int64_t>() < std::numeric_limits<std::int32_t>::min() ||
          v->get<std::int64_t>() > std::numeric_limits<std::int32_t>::max())
        return make_error(Errc::wrong_type, std::string("layout window '") + key + "' is not an int32");
      *dst = static_cast<std::int32_t>(v->get<std::int64_t>());
      ++present;
    }
    if (present == 4) s.bounds = r;
    for (auto [key, dst] : {std::pair{"title", &s.title}, std::pair{"path", &s.path}, std::pair{"text", &s.text},
                            std::pair{"gradient", &s.gradient}}) {
      auto v = j.find(key);
      if (v == j.end() || v->is_null()) continue;
      if (!v->is_string()) return make_error(Errc::wrong_type, std::string("layout window '") + key + "' is not a string");
      *dst = v->get<std::string>();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace wibwob::fakewibwob
