// DiskFiles: the app's workspace files on the real file system, for the
// fakewibwob binary (the core sees only the WorkspaceFiles interface).
//
// Paths are used as given: a relative path is relative to the process's
// working directory, as in the app. Only regular files are read (a FIFO or a
// device such as /dev/zero would block or never end), and at most
// `max_bytes` of them. Writes replace the file, creating missing parent
// directories. Never throws; blocking I/O
// on the calling thread, which for the fake is its one UI thread, as in the app.
#pragma once

#include "fakewibwob/core/workspace.hpp"

namespace wibwob::fakewibwob {

class DiskFiles final : public WorkspaceFiles {
 public:
  std::optional<std::string> read(const std::string& path, std::size_t max_bytes) override;
  bool write(const std::string& path, std::string_view contents) override;
};

}  // namespace wibwob::fakewibwob
