// The bridge's contact with this machine's file system, kept out of the pure
// engine: resolving paths (symlinks included) for the path policy, reading
// the auth secret from a file only its owner can read, the app's identity
// and the handover file a bridge run leaves for the next one.
#pragma once

#include <string>
#include <string_view>

#include "bridge/core/path_policy.hpp"
#include "protocol/result.hpp"

namespace wibwob::bridge {

// Resolves `.`, `..` and symlinks of the existing part of a path
// (std::filesystem::weakly_canonical); the rest is normalised lexically.
PathPolicy::Resolver filesystem_resolver();

// An --allow-path folder in canonical form (a relative one is relative to the
// working directory). A folder that does not exist is an error: a typo would
// otherwise allow nothing, silently.
protocol::Result<std::string> canonical_folder(const std::string& dir);

// The secret from --secret-file: the first line, without its newline. The
// file must be a regular file owned by this user and unreadable by anyone
// else (mode 0600 or 0400): a secret others can read is refused.
protocol::Result<std::string> read_secret_file(const std::string& path);

// Which process serves the Unix socket at `path`, as far as the file system
// tells: the socket file's device, inode and change time. The app creates its
// socket at start, so a restarted app has another one. Empty when there is
// no socket there.
std::string socket_identity(const std::string& path);

// The handover file's text (bridge/core/handover.hpp); empty when there is none. A file that is not a regular file of
// this user, or is larger than handover.hpp's bound, is an error.
protocol::Result<std::string> read_handover_file(const std::string& path);
// Replaces it atomically (a temporary file beside it, then rename), mode 0600.
protocol::Result<void> write_handover_file(const std::string& path, std::string_view text);

}  // namespace wibwob::bridge
