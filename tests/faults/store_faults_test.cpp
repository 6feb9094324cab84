// Faults of the file layer and the results store: a really full disk, hostile record files,
// empty paths, a second writer. Each test reproduces a fault found before.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/sweep/store.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/lock.h"
#include "test_util.h"

namespace rfx {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string Rfx(const std::string& args) { return std::string(rfx::test::RfxExe()) + " " + args; }

// A 2 MiB tmpfs, filled up by Fill(). Skips (saying why) where it cannot be mounted.
class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    dir_ = std::make_unique<test::TempDir>();
    if (::mount("tmpfs", dir_->path().c_str(), "tmpfs", 0, "size=2m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << dir_->path() << ": " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(dir_->path().c_str(), MNT_DETACH);
  }
  std::string operator/(const std::string& name) const { return *dir_ / name; }

  // Writes a filler file until the file system has no block left.
  void Fill() {
    std::FILE* f = std::fopen((*this / "filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string chunk(64 * 1024, 'f');
    while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) {
    }
    std::fclose(f);
    std::FILE* g = std::fopen((*this / "probe").c_str(), "wb");
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(std::fwrite(chunk.data(), 1, 4096, g) == 4096 && std::fflush(g) == 0, false)
        << "the tmpfs is not full";
    std::fclose(g);
    fs::remove(*this / "probe");
  }

  std::unique_ptr<test::TempDir> dir_;
  bool mounted_ = false;
};

TEST_F(FullDiskTest, AtomicWriteFailsCleanlyAndKeepsTheOldFile) {
  const std::string p = *this / "config.yaml";
  WriteFileAtomic(p, "old: 1\n");
  Fill();
  try {
    WriteFileAtomic(p, std::string(100000, 'n'));
    ADD_FAILURE() << "wrote 100 kB onto a full disk";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "no space left on device: " + p);
    EXPECT_TRUE(e.disk_full());
  }
  EXPECT_EQ(ReadFile(p), "old: 1\n");
  EXPECT_EQ(Names(dir_->path()), (std::vector<std::string>{"config.yaml", "filler"}))
      << "no config.yaml.tmp.* left behind";
}

TEST_F(FullDiskTest, AppendLeavesNoPartialLine) {
  const std::string p = *this / "results.jsonl";
  AppendLineDurable(p, "{\"key\":\"a\"}");
  Fill();
  // The file's page has room for part of a long line: a short write, then ENOSPC.
  EXPECT_THROW(AppendLineDurable(p, std::string(20000, 'x')), IoError);
  EXPECT_EQ(ReadFile(p), "{\"key\":\"a\"}\n");
  AppendLineDurable(p, "{\"key\":\"b\"}");  // still fits in the page: the file stays usable
  EXPECT_EQ(ReadFile(p), "{\"key\":\"a\"}\n{\"key\":\"b\"}\n");
}

TEST_F(FullDiskTest, MergeOntoAFullDiskFailsWithOneSentenceAndKeepsEverything) {
  const std::string dir = dir_->path();
  AppendLineDurable(sweep::ResultsPath(dir), json{{"key", "a"}, {"accuracy", 0.5}}.dump());
  AppendLineDurable(sweep::ShardPath(dir, 1, 1),
                    json{{"key", "b"}, {"accuracy", std::string(50000, '9')}}.dump());
  const std::string before = ReadFile(sweep::ResultsPath(dir));
  Fill();
  const test::CommandResult r = test::RunCommand(Rfx("merge " + dir));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "rfx: failed: no space left on device: " + sweep::ResultsPath(dir) + "\n");
  EXPECT_EQ(ReadFile(sweep::ResultsPath(dir)), before);
  for (const auto& name : Names(dir)) EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

// `rfx merge` replaced a results.jsonl of garbage by an empty file and exited 0.
TEST(MergeFaultTest, GarbageIsKeptAndReported) {
  test::TempDir dir;
  const std::string results = sweep::ResultsPath(dir.path());
  {
    std::ofstream f(results, std::ios::binary);
    f << "\x01\x02 not json\n{\"key\":\"a\",\"accuracy\":0.9}\n[1,2,3]\nlast garbage\n{\"key\":";
  }
  const test::CommandResult r = test::RunCommand(Rfx("merge " + dir.path()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "rfx merge: 3 unreadable line(s) kept in " + dir / "results.rejected.jsonl" +
                       ": results.jsonl lines 1, 3, 4\n");
  const auto kept = ReadCompleteLines(dir / "results.rejected.jsonl");
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(json::parse(kept[0])["text"], "\x01\x02 not json");
  EXPECT_EQ(json::parse(kept[1])["line"], 3);
  EXPECT_EQ(json::parse(kept[2])["text"], "last garbage");
  EXPECT_EQ(ReadFile(results), "{\"accuracy\":0.9,\"key\":\"a\"}\n");

  const std::string rejected = ReadFile(dir / "results.rejected.jsonl");
  const test::CommandResult again = test::RunCommand(Rfx("merge " + dir.path()));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(ReadFile(dir / "results.rejected.jsonl"), rejected);
  EXPECT_EQ(ReadFile(results), "{\"accuracy\":0.9,\"key\":\"a\"}\n");
}

TEST(MergeFaultTest, ASecondWriterIsRefused) {
  test::TempDir dir;
  AppendLineDurable(sweep::ShardPath(dir.path(), 1, 1), "{\"key\":\"a\"}");
  auto lock = FileLock::TryLock(sweep::LockPath(sweep::ResultsPath(dir.path())));
  ASSERT_TRUE(lock.has_value());
  const test::CommandResult r = test::RunCommand(Rfx("merge " + dir.path()));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("(pid " + std::to_string(::getpid()) + ")"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(sweep::ResultsPath(dir.path())));
}

// Regression: `rfx merge` hung when results.jsonl was a FIFO (it waited for a writer).
TEST(MergeFaultTest, AFifoInPlaceOfResultsIsRefusedWithoutWaiting) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo(sweep::ResultsPath(dir.path()).c_str(), 0600), 0);
  const test::CommandResult r = test::RunCommand("timeout 30 " + Rfx("merge " + dir.path()));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("results.jsonl' is a pipe (FIFO)"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_fifo(sweep::ResultsPath(dir.path())));
}

// `rfx dataset preview --out ''` left a hidden .tmp.<host>.<pid>.0 in the working directory.
TEST(EmptyPathFaultTest, LeavesNoTempInTheWorkingDirectory) {
  test::TempDir cwd;
  const test::CommandResult r =
      test::RunCommand("cd " + cwd.path() + " && " + Rfx("dataset preview --out '' --count 1"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_GE(r.exit_code, 1) << "no crash";
  EXPECT_EQ(Names(cwd.path()), std::vector<std::string>{}) << r.err;
}

}  // namespace
}  // namespace rfx
