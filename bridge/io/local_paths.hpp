// The bridge's contact with this machine's file system, kept out of the pure
// engine: resolving paths (symlinks included) for the path policy, and
// reading the auth secret from a file only its owner can read.
#pragma once

#include <string>

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

}  // namespace wibwob::bridge
