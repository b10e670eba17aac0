// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the IPC auth
// handshake. Written here rather than taken from OpenSSL because OpenSSL 3
// initialises its provider tables on the first digest, which costs every
// process that authenticates ~2.3 MB of resident memory (docs/bench-bridge.md,
// "Footprint"); these few lines cost nothing at start. Tested against the
// FIPS 180-4 and RFC 4231 vectors and against OpenSSL (tests/protocol/test_sha256.cpp).
// Pure and constant-time in the data (no branches or table lookups on it).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace wibwob::protocol {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

}  // namespace wibwob::protocol
