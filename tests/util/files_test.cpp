#include "rfx/util/files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "rfx/util/error.h"
#include "rfx/util/hash.h"
#include "test_util.h"

namespace rfx {
namespace {

// Names of the files in `dir` (temp files included).
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Injects `err` into every write of `path` while in scope.
class FailWrites {
 public:
  FailWrites(const std::string& path, int err) {
    SetWriteFailureForTesting([path, err](const std::string& p) { return p == path ? err : 0; });
  }
  ~FailWrites() { SetWriteFailureForTesting(nullptr); }
};

TEST(FilesTest, PartialLastLineIsIgnoredAndDropped) {
  test::TempDir dir;
  const std::string p = dir / "log.jsonl";
  AppendLineDurable(p, "{\"a\":1}");
  AppendLineDurable(p, "{\"a\":2}");
  {
    FILE* f = std::fopen(p.c_str(), "ab");
    std::fputs("{\"a\":", f);  // a write cut short
    std::fclose(f);
  }
  bool truncated = false;
  auto lines = ReadCompleteLines(p, &truncated);
  EXPECT_TRUE(truncated);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "{\"a\":2}");
  DropPartialLastLine(p);
  EXPECT_EQ(ReadFile(p), "{\"a\":1}\n{\"a\":2}\n");
  ReadCompleteLines(p, &truncated);
  EXPECT_FALSE(truncated);
}

TEST(FilesTest, AtomicWriteReplaces) {
  test::TempDir dir;
  WriteFileAtomic(dir / "x", "one");
  WriteFileAtomic(dir / "x", "two");
  EXPECT_EQ(ReadFile(dir / "x"), "two");
  EXPECT_THROW(ReadFile(dir / "missing"), std::runtime_error);
}

TEST(FilesTest, NumberedLinesCountEveryLine) {
  test::TempDir dir;
  WriteFileAtomic(dir / "l", "a\n\nb\nc");
  bool truncated = false;
  const auto lines = ReadNumberedLines(dir / "l", &truncated);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].number, 1u);
  EXPECT_EQ(lines[1].number, 3u);
  EXPECT_EQ(lines[1].text, "b");
  EXPECT_TRUE(truncated) << "'c' has no newline yet";
}

TEST(FilesTest, FailedAtomicWriteKeepsTheOldFileAndLeavesNoTemp) {
  test::TempDir dir;
  const std::string p = dir / "config.yaml";
  WriteFileAtomic(p, "old\n");
  {
    FailWrites fail(p, ENOSPC);
    try {
      WriteFileAtomic(p, std::string(10000, 'x'));
      ADD_FAILURE() << "the write did not fail";
    } catch (const IoError& e) {
      EXPECT_STREQ(e.what(), ("no space left on device: " + p).c_str());
      EXPECT_EQ(e.path(), p);
      EXPECT_TRUE(e.disk_full());
    }
  }
  EXPECT_EQ(ReadFile(p), "old\n");
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"config.yaml"});
  {
    FailWrites fail(p, EIO);
    try {
      WriteFileAtomic(p, "new");
      ADD_FAILURE() << "the write did not fail";
    } catch (const IoError& e) {
      EXPECT_EQ(std::string(e.what()), "cannot write '" + p + "': " + std::strerror(EIO));
      EXPECT_EQ(e.error_code(), EIO);
    }
  }
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"config.yaml"});
  WriteFileAtomic(p, "new");
  EXPECT_EQ(ReadFile(p), "new") << "the hook is gone";
}

TEST(FilesTest, AtomicWriteRefusesEmptyPathsAndDirectoriesWithoutLeavingTemps) {
  test::TempDir dir;
  const std::string cwd = std::filesystem::current_path().string();
  std::filesystem::current_path(dir.path());
  EXPECT_THROW(WriteFileAtomic("", "x"), IoError);
  EXPECT_THROW(WriteFileAtomic(".", "x"), IoError);
  EXPECT_THROW(WriteFileAtomic(dir.path(), "x"), IoError);
  EXPECT_THROW(WriteFileAtomic(dir / "missing/x", "x"), IoError);
  std::filesystem::current_path(cwd);
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{}) << "no .tmp.* in the working directory";
}

TEST(FilesTest, FailedAppendLeavesNoPartialLine) {
  test::TempDir dir;
  const std::string p = dir / "results.jsonl";
  AppendLineDurable(p, "{\"a\":1}");
  {
    FailWrites fail(p, ENOSPC);
    EXPECT_THROW(AppendLineDurable(p, std::string(5000, 'y')), IoError);
  }
  EXPECT_EQ(ReadFile(p), "{\"a\":1}\n");
  AppendLineDurable(p, "{\"a\":2}");
  EXPECT_EQ(ReadFile(p), "{\"a\":1}\n{\"a\":2}\n");
}

TEST(FilesTest, WriteErrorsAreIoErrorsNamingThePath) {
  test::TempDir dir;
  WriteFileAtomic(dir / "f", "x");
  try {
    MakeDirs(dir / "f/sub");
    ADD_FAILURE() << "created a directory under a file";
  } catch (const IoError& e) {
    EXPECT_EQ(e.path(), dir / "f/sub");
  }
  EXPECT_THROW(AppendLineDurable(dir / "no/such/dir/f", "x"), IoError);
}

TEST(HashTest, StableValues) {
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ULL);
  EXPECT_EQ(HexDigest(Fnv1a64("a")), "af63dc4c8601ec8c");
  EXPECT_NE(DeriveSeed(1, 0, 5), DeriveSeed(1, 0, 6));
  EXPECT_NE(DeriveSeed(1, 0, 5), DeriveSeed(2, 0, 5));
  EXPECT_NE(DeriveSeed(1, 0, 5), DeriveSeed(1, 1, 5));
}

}  // namespace
}  // namespace rfx
