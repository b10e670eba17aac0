// Workspace files, the app's `export_state` format (spec/wibwob-ipc.md,
// "Workspace file"), and the file store the core reads and writes them
// through.
//
// The core never touches a file system: FakeApp reads and writes workspace
// files through a `WorkspaceFiles` the driver provides. The Asio server gives
// it the disk (fakewibwob/server/disk_files.hpp); the simulator and the tests
// use `MemoryFiles`, so workspaces can live entirely in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakewibwob/core/desktop.hpp"
#include "fakewibwob/core/fake_app.hpp"
#include "protocol/result.hpp"

namespace wibwob::fakewibwob {

// Where workspace files live. Implementations must not throw.
class WorkspaceFiles {
 public:
  virtual ~WorkspaceFiles() = default;
  // The whole file, or nullopt when it cannot be opened (missing, not a
  // regular file, unreadable) or is larger than `max_bytes`.
  virtual std::optional<std::string> read(const std::string& path, std::size_t max_bytes) = 0;
  // Replaces the file. False when it cannot be written.
  virtual bool write(const std::string& path, std::string_view contents) = 0;
};

// Files in a map: path -> contents. `unwritable` paths refuse writes (for
// tests of `err export failed`).
class MemoryFiles final : public WorkspaceFiles {
 public:
  std::optional<std::string> read(const std::string& path, std::size_t max_bytes) override;
  bool write(const std::string& path, std::string_view contents) override;
  std::map<std::string, std::string> files;
  std::vector<std::string> unwritable;
};

// Larger workspace files are treated as unreadable.
inline constexpr std::size_t kMaxWorkspaceBytes = 4 * 1024 * 1024;
// Windows beyond this many in one file are ignored.
inline constexpr std::size_t kMaxWorkspaceWindows = 1024;

// What `export_state` writes: the desktop back to front (the window furthest
// back first), so opening the windows in file order restores the z-order;
// `focusedIndex` is the focused (front-most) window's index, 0 when empty.
// `timestamp` is "YYYY-MM-DDTHH:MM:SS"; `screen` is the desktop's size.
std::string format_workspace(const std::vector<DesktopWindow>& front_to_back, Rect screen,
                             const std::string& timestamp);

// The app's own pre-check in import_state: the text mentions both keys.
bool has_snapshot_keys(std::string_view text);

// A workspace file's windows, in file order, as what to open: `type`,
// `title`, `bounds` {x,y,w,h} and `props` {path, text, gradient}; the file's
// `id` is ignored (ids come from the app). Errors: not JSON (or too deep),
// not an object, `windows` missing or not a list, or no window object with a
// string `type` in it. Entries that are not objects or have no string `type`
// are skipped; `bounds` that is missing or not four int32s gives the type's
// default bounds, a title or prop that is not a string is left out; unknown
// keys are ignored. At most kMaxWorkspaceWindows entries are read.
protocol::Result<std::vector<OpenSpec>> parse_workspace(std::string_view text);

// "YYYY-MM-DDTHH:MM:SS" (UTC) for seconds since the Unix epoch.
std::string iso_timestamp(std::int64_t epoch_seconds);

}  // namespace wibwob::fakewibwob
