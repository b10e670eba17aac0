#include "tests/support/test_support.hpp"

#include <algorithm>

namespace wibwob::test {

using protocol::Delta;
using protocol::Json;
using protocol::Layout;
using protocol::Window;

rc::Gen<std::string> gen_window_id() {
  return rc::gen::map(rc::gen::inRange(0, 24), [](int n) { return "r" + std::to_string(n); });
}

rc::Gen<std::string> gen_synced_type() {
  std::vector<std::string> types;
  for (const auto& t : protocol::window_types())
    if (!t.internal) types.push_back(std::string(t.name));
  return rc::gen::elementOf(types);
}

static rc::Gen<std::int32_t> gen_coord() { return rc::gen::inRange<std::int32_t>(-50, 400); }

rc::Gen<Window> gen_window() {
  return rc::gen::apply(
      [](std::string id, std::string type, std::int32_t x, std::int32_t y, std::int32_t w,
         std::int32_t h, rc::Maybe<std::string> path) {
        Window win;
        win.id = std::move(id);
        win.type = std::move(type);
        win.x = x; win.y = y; win.w = w; win.h = h;
        if (path) win.path = *path;
        return win;
      },
      gen_window_id(), gen_synced_type(), gen_coord(), gen_coord(), gen_coord(), gen_coord(),
      rc::gen::maybe(rc::gen::elementOf(std::vector<std::string>{"/tmp/a.txt", "/home/u/b c.txt", "x"})));
}

rc::Gen<Window> gen_window_with_extra() {
  return rc::gen::apply(
      [](Window w, rc::Maybe<std::string> text, rc::Maybe<int> rev) {
        if (text) w.extra["text"] = *text;
        if (rev) w.extra["rev"] = *rev;
        return w;
      },
      gen_window(), rc::gen::maybe(rc::gen::string<std::string>()), rc::gen::maybe(rc::gen::inRange(0, 100)));
}

rc::Gen<Layout> gen_layout() {
  return rc::gen::map(rc::gen::container<std::vector<Window>>(gen_window()), [](std::vector<Window> ws) {
    Layout l;
    for (auto& w : ws) {
      if (l.size() >= 12) break;
      l[w.id] = w;
    }
    return l;
  });
}

rc::Gen<Delta> gen_delta() {
  return rc::gen::apply(
      [](std::vector<Window> add, std::vector<std::string> remove, std::vector<Window> update) {
        return Delta{std::move(add), std::move(remove), std::move(update)};
      },
      rc::gen::container<std::vector<Window>>(gen_window_with_extra()),
      rc::gen::container<std::vector<std::string>>(gen_window_id()),
      rc::gen::container<std::vector<Window>>(gen_window_with_extra()));
}

rc::Gen<Json> gen_json(int depth) {
  auto scalar = rc::gen::oneOf(
      rc::gen::just(Json(nullptr)),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Json(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Json(i); }),
      rc::gen::map(rc::gen::arbitrary<double>(), [](double d) { return Json(d); }),
      rc::gen::map(rc::gen::string<std::string>(), [](std::string s) { return Json(std::move(s)); }),
      rc::gen::map(gen_window_id(), [](std::string s) { return Json(std::move(s)); }));
  if (depth <= 0) return scalar;
  auto child = rc::gen::lazy([depth] { return gen_json(depth - 1); });
  auto keys = rc::gen::elementOf(std::vector<std::string>{
      "id", "type", "x", "y", "w", "h", "width", "height", "path", "add", "remove", "update",
      "delta", "windows", "version", "__proto__", "text", ""});
  // Small containers: depth x width stays bounded, so a property runs fast.
  auto small = [](auto gen) {
    return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 5), [gen](std::size_t n) {
      return rc::gen::container<std::vector<typename decltype(gen)::ValueType>>(n, gen);
    });
  };
  auto array = rc::gen::map(small(child), [](std::vector<Json> v) {
    Json a = Json::array();
    for (auto& e : v) a.push_back(std::move(e));
    return a;
  });
  auto object = rc::gen::map(
      small(rc::gen::pair(keys, child)),
      [](std::vector<std::pair<std::string, Json>> kv) {
        Json o = Json::object();
        for (auto& [k, v] : kv) o[k] = std::move(v);
        return o;
      });
  return rc::gen::weightedOneOf<Json>({{3, scalar}, {1, array}, {2, object}});
}

}  // namespace wibwob::test
