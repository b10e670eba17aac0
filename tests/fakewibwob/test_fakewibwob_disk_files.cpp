// Tests for DiskFiles, the fakewibwob binary's workspace file store, and for
// a FakeApp over it: files on the real file system, unreadable and special
// files refused, size limit, parent directories made on write.
#include "fakewibwob/server/disk_files.hpp"
#include "tests/support/io_test_support.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

namespace fw = wibwob::fakewibwob;
using wibwob::test::TempDir;

TEST(FakeDiskFiles, WritesReadsAndRefusesWhatIsNotARegularFile) {
  TempDir dir;
  fw::DiskFiles files;
  EXPECT_TRUE(files.write(dir / "a.json", "{\"x\":1}\n"));
  EXPECT_EQ(files.read(dir / "a.json", 100), "{\"x\":1}\n");
  EXPECT_EQ(files.read(dir / "a.json", 3), std::nullopt);  // larger than allowed
  EXPECT_EQ(files.read(dir / "missing.json", 100), std::nullopt);
  EXPECT_EQ(files.read(dir.path().string(), 100), std::nullopt);  // a directory
  EXPECT_EQ(files.read("", 100), std::nullopt);
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(files.read(dir / "fifo", 100), std::nullopt);  // would block forever
  EXPECT_EQ(files.read("/dev/zero", 100), std::nullopt);   // would never end
  // save_workspace's workspaces/ folder is made when missing.
  EXPECT_TRUE(files.write(dir / "deep/er/b.json", "b"));
  EXPECT_EQ(files.read(dir / "deep/er/b.json", 100), "b");
  EXPECT_FALSE(files.write(dir.path().string(), "x"));  // a directory cannot be replaced
  EXPECT_FALSE(files.write("", "x"));
}

TEST(FakeDiskFiles, AppExportsAndImportsThroughTheDisk) {
  TempDir dir;
  fw::CoreConfig c;
  c.files = std::make_shared<fw::DiskFiles>();
  c.app_dir = dir.path().string();
  fw::FakeApp app(c);
  app.handle_request("cmd:create_window type=verse x=1 y=2 w=30 h=10\n", fw::Millis{0});
  EXPECT_EQ(app.handle_request("cmd:save_workspace\n", fw::Millis{0}).reply, "ok\n");
  EXPECT_EQ(app.handle_request("cmd:export_state\n", fw::Millis{0}).reply, "ok\n");
  ASSERT_TRUE(std::filesystem::exists(dir / "workspaces/last_workspace.json"));
  ASSERT_TRUE(std::filesystem::exists(dir / "workspace_state.json"));
  app.handle_request("cmd:close_all\n", fw::Millis{0});
  const std::string import = "cmd:import_state path=" + (dir / "workspace_state.json") + "\n";
  EXPECT_EQ(app.handle_request(import, fw::Millis{0}).reply, "ok\n");
  ASSERT_EQ(app.desktop().windows().size(), 1u);
  EXPECT_EQ(app.desktop().windows()[0].bounds, (fw::Rect{1, 2, 30, 10}));
}
