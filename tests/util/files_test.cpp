#include "rfx/util/files.h"

#include <gtest/gtest.h>

#include "rfx/util/hash.h"
#include "test_util.h"

namespace rfx {
namespace {

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

TEST(HashTest, StableValues) {
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ULL);
  EXPECT_EQ(HexDigest(Fnv1a64("a")), "af63dc4c8601ec8c");
  EXPECT_NE(DeriveSeed(1, 0, 5), DeriveSeed(1, 0, 6));
  EXPECT_NE(DeriveSeed(1, 0, 5), DeriveSeed(2, 0, 5));
  EXPECT_NE(DeriveSeed(1, 0, 5), DeriveSeed(1, 1, 5));
}

}  // namespace
}  // namespace rfx
