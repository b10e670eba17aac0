// Tests for SHA-256 and HMAC-SHA256 (protocol/sha256.hpp): the published
// vectors of FIPS 180-4 (examples) and RFC 4231, then every length around the
// block and padding boundaries and arbitrary keys and messages against
// OpenSSL, which the tests link for this comparison only.
#include "protocol/sha256.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

namespace {

using wibwob::protocol::hmac_sha256;
using wibwob::protocol::sha256;
using wibwob::protocol::Sha256Digest;

std::string hex(const Sha256Digest& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += digits[b >> 4];
    s += digits[b & 0xF];
  }
  return s;
}

std::string unhex(const std::string& h) {
  std::string s;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) s += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return s;
}

Sha256Digest openssl_hmac(const std::string& key, const std::string& msg) {
  Sha256Digest out{};
  unsigned len = 0;
  static const unsigned char empty = 0;
  const void* k = key.empty() ? static_cast<const void*>(&empty) : static_cast<const void*>(key.data());
  HMAC(EVP_sha256(), k, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
       out.data(), &len);
  return out;
}

Sha256Digest openssl_sha256(const std::string& msg) {
  Sha256Digest out{};
  unsigned len = 0;
  EVP_Digest(msg.data(), msg.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

rc::Gen<std::string> gen_bytes(std::size_t max) {
  return rc::gen::map(rc::gen::container<std::vector<unsigned char>>(rc::gen::arbitrary<unsigned char>()),
                      [max](const std::vector<unsigned char>& v) {
                        return std::string(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(max, v.size())));
                      });
}

}  // namespace

TEST(Sha256, Fips180Examples) {
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EveryLengthAroundTheBlockAndPaddingBoundariesMatchesOpenSsl) {
  for (std::size_t n = 0; n <= 200; ++n) {
    std::string msg;
    for (std::size_t i = 0; i < n; ++i) msg += static_cast<char>((i * 37 + n) & 0xFF);
    EXPECT_EQ(hex(sha256(msg)), hex(openssl_sha256(msg))) << "length " << n;
  }
}

TEST(HmacSha256, Rfc4231TestCases) {
  struct Case {
    std::string key, data, mac;
  };
  const std::vector<Case> cases = {
      {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      // Keys longer than a block are hashed first.
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) EXPECT_EQ(hex(hmac_sha256(c.key, c.data)), c.mac) << c.data;
}

RC_GTEST_PROP(HmacSha256, MatchesOpenSslForAnyKeyAndMessage, ()) {
  const std::string key = *gen_bytes(200);
  const std::string msg = *gen_bytes(300);
  RC_ASSERT(hex(hmac_sha256(key, msg)) == hex(openssl_hmac(key, msg)));
}
