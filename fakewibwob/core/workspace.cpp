#include "fakewibwob/core/workspace.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

namespace wibwob::fakewibwob {

using protocol::Errc;
using protocol::make_error;

std::optional<std::string> MemoryFiles::read(const std::string& path, std::size_t max_bytes) {
  auto it = files.find(path);
  if (it == files.end() || it->second.size() > max_bytes) return std::nullopt;
  return it->second;
}

bool MemoryFiles::write(const std::string& path, std::string_view contents) {
  if (std::find(unwritable.begin(), unwritable.end(), path) != unwritable.end()) return false;
  files[path] = std::string(contents);
  return true;
}

namespace {

// The app's file keeps its keys in this order; an ordered object keeps it too.
using Ordered = nlohmann::ordered_json;

Ordered window_entry(const DesktopWindow& w) {
  Ordered props = Ordered::object();
  if (w.path) props["path"] = *w.path;
  if (w.text) props["text"] = *w.text;
  if (w.gradient) props["gradient"] = *w.gradient;
  return Ordered{{"id", w.id},
                 {"type", w.type},
                 {"title", w.title},
                 {"bounds", {{"x", w.bounds.x}, {"y", w.bounds.y}, {"w", w.bounds.w}, {"h", w.bounds.h}}},
                 {"zoomed", false},
                 {"props", props}};
}

std::optional<std::int32_t> int32_of(const ipc::Json& obj, const char* key) {
  auto v = obj.find(key);
  if (v == obj.end() || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned()) {
    if (v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
      return std::nullopt;
    return static_cast<std::int32_t>(v->get<std::uint64_t>());
  }
  const auto i = v->get<std::int64_t>();
  if (i < std::numeric_limits<std::int32_t>::min() || i > std::numeric_limits<std::int32_t>::max()) return std::nullopt;
  return static_cast<std::int32_t>(i);
}

std::optional<std::string> string_of(const ipc::Json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto v = obj.find(key);
  if (v == obj.end() || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<OpenSpec> window_spec(const ipc::Json& j) {
  if (!j.is_object()) return std::nullopt;
  auto type = string_of(j, "type");
  if (!type) return std::nullopt;
  OpenSpec s;
  s.type = std::move(*type);
  s.title = string_of(j, "title");
  if (auto b = j.find("bounds"); b != j.end() && b->is_object()) {
    auto x = int32_of(*b, "x"), y = int32_of(*b, "y"), w = int32_of(*b, "w"), h = int32_of(*b, "h");
    if (x && y && w && h) s.bounds = Rect{*x, *y, *w, *h};
  }
  if (auto p = j.find("props"); p != j.end()) {
    s.path = string_of(*p, "path");
    s.text = string_of(*p, "text");
    s.gradient = string_of(*p, "gradient");
  }
  return s;
}

}  // namespace

std::string format_workspace(const std::vector<DesktopWindow>& front_to_back, Rect screen,
                             const std::string& timestamp) {
  Ordered windows = Ordered::array();
  for (auto it = front_to_back.rbegin(); it != front_to_back.rend(); ++it) windows.push_back(window_entry(*it));
  const std::size_t focused = front_to_back.empty() ? 0 : front_to_back.size() - 1;
  Ordered doc{{"version", 1},
              {"app", "test_pattern"},
              {"timestamp", timestamp},
              {"screen", {{"width", screen.w}, {"height", screen.h}}},
              {"globals", {{"patternMode", "continuous"}}},
              {"desktop", {{"char", "\u2591"}, {"fg", 7}, {"bg", 1}, {"gallery", false}, {"preset", "default"}}},
              {"windows", std::move(windows)},
              {"focusedIndex", focused}};
  // Titles and paths came over IPC as arbitrary bytes: replace what is not UTF-8.
  return doc.dump(2, ' ', false, Ordered::error_handler_t::replace) + "\n";
}

bool has_snapshot_keys(std::string_view text) {
  return text.find("\"version\"") != std::string_view::npos && text.find("\"windows\"") != std::string_view::npos;
}

protocol::Result<std::vector<OpenSpec>> parse_workspace(std::string_view text) {
  auto parsed = ipc::parse_json(text);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return make_error(Errc::wrong_type, "workspace is not a JSON object");
  auto list = parsed->find("windows");
  if (list == parsed->end()) return make_error(Errc::missing_field, "workspace has no 'windows'");
  if (!list->is_array()) return make_error(Errc::wrong_type, "workspace 'windows' is not a list");
  std::vector<OpenSpec> out;
  const std::size_t n = std::min(list->size(), kMaxWorkspaceWindows);
  for (std::size_t i = 0; i < n; ++i)
    if (auto s = window_spec((*list)[i])) out.push_back(std::move(*s));
  if (out.empty()) return make_error(Errc::missing_field, "workspace holds no windows");
  return out;
}

std::string iso_timestamp(std::int64_t epoch_seconds) {
  using namespace std::chrono;
  const sys_seconds t{seconds{epoch_seconds}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace wibwob::fakewibwob
