// PathPolicy (bridge/core/path_policy.hpp) with the file-system resolver
// (bridge/io/local_paths.hpp): component-wise containment after resolving
// `.`, `..` and symlinks on this machine; the secret file's permission check;
// the handover file and the app's identity.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "bridge/core/path_policy.hpp"
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "bridge/core/handover.hpp"
#include "bridge/io/local_paths.hpp"
#include "tests/support/io_test_support.hpp"

using namespace wibwob;
using bridge::PathPolicy;
namespace fs = std::filesystem;

TEST(PathPolicy, NothingIsAllowedByDefault) {
  PathPolicy p;
  auto r = p.check("/etc/passwd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--allow-path"), std::string::npos);
}

TEST(PathPolicy, ComparesByComponentsNotByPrefix) {
  EXPECT_TRUE(bridge::path_within("/home/a/x", "/home/a"));
  EXPECT_TRUE(bridge::path_within("/home/a", "/home/a"));
  EXPECT_TRUE(bridge::path_within("/home/a/x", "/home/a/"));
  EXPECT_FALSE(bridge::path_within("/home/ab/x", "/home/a"));
  EXPECT_FALSE(bridge::path_within("/home", "/home/a"));
  EXPECT_TRUE(bridge::path_within("/anything", "/"));
}

TEST(PathPolicy, RelativeDotDotAndControlCharactersAreRefused) {
  PathPolicy p({"/home/a"}, nullptr);
  EXPECT_FALSE(p.check("notes.txt").ok());
  EXPECT_FALSE(p.check("").ok());
  EXPECT_FALSE(p.check("/home/a/../../etc/passwd").ok());
  EXPECT_FALSE(p.check(std::string("/home/a/x\n.txt")).ok());
  EXPECT_TRUE(p.check("/home/a/./b/../c.txt").ok());
}

TEST(PathPolicy, SymlinksAreResolvedOnThisMachine) {
  test::TempDir dir("wibwob-paths");
  const fs::path a = dir.path() / "a", ab = dir.path() / "ab", secret = dir.path() / "secret";
  fs::create_directories(a);
  fs::create_directories(ab);
  fs::create_directories(secret);
  std::ofstream(a / "notes.txt") << "ok";
  std::ofstream(secret / "key") << "no";
  fs::create_directory_symlink(secret, a / "link-to-secret");
  auto allowed = bridge::canonical_folder(a.string());
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  PathPolicy p({*allowed}, bridge::filesystem_resolver());
  EXPECT_TRUE(p.check((a / "notes.txt").string()).ok());
  EXPECT_TRUE(p.check((a / "not-yet-there.txt").string()).ok());
  EXPECT_FALSE(p.check((ab / "x.txt").string()).ok());
  auto through_link = p.check((a / "link-to-secret" / "key").string());
  ASSERT_FALSE(through_link.ok());
  EXPECT_NE(through_link.error().message.find("resolves to"), std::string::npos) << through_link.error().message;
}

TEST(PathPolicy, AllowedFoldersMustExist) {
  EXPECT_FALSE(bridge::canonical_folder("relative/dir/that/is/not/there").ok());
  EXPECT_FALSE(bridge::canonical_folder("").ok());
  EXPECT_FALSE(bridge::canonical_folder("/nonexistent/wibwob/folder").ok());
  test::TempDir dir("wibwob-paths");
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_FALSE(bridge::canonical_folder((dir.path() / "file").string()).ok());
  EXPECT_TRUE(bridge::canonical_folder(dir.path().string()).ok());
}

TEST(SecretFile, OnlyAnOwnerOnlyFileIsAccepted) {
  test::TempDir dir("wibwob-secret");
  const std::string path = dir / "secret";
  std::ofstream(path) << "s3cret\n";
  ::chmod(path.c_str(), 0644);
  auto open = bridge::read_secret_file(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos);
  EXPECT_EQ(open.error().message.find("s3cret"), std::string::npos);  // never echoes the secret
  ::chmod(path.c_str(), 0600);
  auto ok = bridge::read_secret_file(path);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, "s3cret");
  EXPECT_FALSE(bridge::read_secret_file(dir / "missing").ok());
  EXPECT_FALSE(bridge::read_secret_file(dir.path().string()).ok());  // a folder
  const std::string empty = dir / "empty";
  std::ofstream{empty};
  ::chmod(empty.c_str(), 0600);
  EXPECT_FALSE(bridge::read_secret_file(empty).ok());
}

TEST(HandoverFile, WrittenOwnerOnlyAndReadBackAndMissingIsNone) {
  test::TempDir dir("wibwob-handover");
  const std::string path = dir / "app.bridge.handover";
  auto none = bridge::read_handover_file(path);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(*none, "");
  ASSERT_TRUE(bridge::write_handover_file(path, R"({"a":1})").ok());
  ASSERT_TRUE(bridge::write_handover_file(path, R"({"b":2})").ok());  // replaced, not appended
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = bridge::read_handover_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, R"({"b":2})");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(HandoverFile, AFolderAnOversizedFileAndAnUnwritablePlaceAreErrors) {
  test::TempDir dir("wibwob-handover");
  EXPECT_FALSE(bridge::read_handover_file(dir.path().string()).ok());
  const std::string big = dir / "big";
  {
    std::ofstream out(big);
    out << std::string(bridge::max_handover_bytes + 1, ' ');
  }
  auto r = bridge::read_handover_file(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, protocol::Errc::too_large);
  EXPECT_FALSE(bridge::write_handover_file((dir.path() / "no" / "such" / "folder").string(), "{}").ok());
}

// The file lives beside the app's socket, often in /tmp: a link planted at
// its temporary name or at its own name is never written through.
TEST(HandoverFile, APlantedLinkIsReplacedNotWrittenThrough) {
  test::TempDir dir("wibwob-handover");
  const std::string path = dir / "app.bridge.handover";
  const std::string victim = dir / "victim";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, path + ".tmp");
  ASSERT_TRUE(bridge::write_handover_file(path, R"({"a":1})").ok());
  fs::create_symlink(victim, dir / "other.handover");
  ASSERT_TRUE(bridge::write_handover_file(dir / "other.handover", R"({"b":2})").ok());
  std::ifstream in(victim);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(path)));
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir / "other.handover")));
  EXPECT_EQ(*bridge::read_handover_file(path), R"({"a":1})");
  EXPECT_FALSE(fs::exists(fs::symlink_status(path + ".tmp")));
}

TEST(AppIdentity, ASocketFileNamesItsProcessAndANewSocketIsAnotherOne) {
  test::TempDir dir("wibwob-identity");
  const std::string path = dir / "app.sock";
  EXPECT_EQ(bridge::socket_identity(path), "");  // nothing there
  std::ofstream(path) << "x";
  EXPECT_EQ(bridge::socket_identity(path), "");  // not a socket
  fs::remove(path);
  boost::asio::io_context io;
  std::string first;
  {
    boost::asio::local::stream_protocol::acceptor a(io, boost::asio::local::stream_protocol::endpoint(path));
    first = bridge::socket_identity(path);
    EXPECT_NE(first, "");
    EXPECT_EQ(bridge::socket_identity(path), first);
  }
  fs::remove(path);
  boost::asio::local::stream_protocol::acceptor again(io, boost::asio::local::stream_protocol::endpoint(path));
  EXPECT_NE(bridge::socket_identity(path), "");
  EXPECT_NE(bridge::socket_identity(path), first);  // the app made its socket again
}
