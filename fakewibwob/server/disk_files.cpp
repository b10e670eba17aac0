#include "fakewibwob/server/disk_files.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace wibwob::fakewibwob {

std::optional<std::string> DiskFiles::read(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > max_bytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  text.resize(static_cast<std::size_t>(size));
  in.read(text.data(), static_cast<std::streamsize>(size));
  // The file may have shrunk since file_size(); keep what was read.
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return std::nullopt;
  return text;
}

bool DiskFiles::write(const std::string& path, std::string_view contents) {
  if (path.empty()) return false;
  // save_workspace writes into workspaces/ under the app's folder: make it.
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  return !out.fail();
}

}  // namespace wibwob::fakewibwob
