#include "rfx/config/config_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

// The UsageError text of reading `path`, or "" when it reads.
std::string RefusalOf(const std::string& path) {
  try {
    ReadConfigFile(path);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigFileTest, ReadsARegularFile) {
  test::TempDir dir;
  WriteFileAtomic(dir / "a.yaml", "net:\n  depth: 4\n");
  EXPECT_EQ(ReadConfigFile(dir / "a.yaml"), "net:\n  depth: 4\n");
  WriteFileAtomic(dir / "empty.yaml", "");
  EXPECT_EQ(ReadConfigFile(dir / "empty.yaml"), "");
}

TEST(ConfigFileTest, RefusesDirectoriesDevicesFifosAndMissingFiles) {
  test::TempDir dir;
  std::string m = RefusalOf(dir.path());
  EXPECT_NE(m.find("'" + dir.path() + "' is a directory"), std::string::npos) << m;
  m = RefusalOf("/dev/zero");
  EXPECT_NE(m.find("'/dev/zero' is a character device"), std::string::npos) << m;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  m = RefusalOf(dir / "fifo");  // no writer: opening it must not block
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(m.find("is a pipe (FIFO)"), std::string::npos) << m;
  m = RefusalOf(dir / "nope.yaml");
  EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
}

TEST(ConfigFileTest, RefusesFilesOverTheLimitAndTakesOnesAtIt) {
  test::TempDir dir;
  WriteFileAtomic(dir / "at.yaml", std::string(kMaxConfigFileBytes, '#'));
  EXPECT_EQ(ReadConfigFile(dir / "at.yaml").size(), static_cast<size_t>(kMaxConfigFileBytes));
  WriteFileAtomic(dir / "over.yaml", std::string(kMaxConfigFileBytes + 1, '#'));
  const std::string m = RefusalOf(dir / "over.yaml");
  EXPECT_NE(m.find("larger than 4 MiB"), std::string::npos) << m;
}

TEST(ConfigFileTest, ProcFilesThatClaimSizeZeroAreReadToTheirEnd) {
  // /proc files report st_size 0: the read loop, not the size, decides.
  const std::string text = ReadConfigFile("/proc/self/status");
  EXPECT_NE(text.find("VmRSS"), std::string::npos);
}

TEST(ConfigFileTest, NonScalarKeysAreRefused) {
  try {
    CheckYamlKeys(YAML::Load("net:\n  ? [a, b]\n  : 1\n"), "k.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "net");
    EXPECT_EQ(e.where(), "k.yaml line 2");
  }
}

TEST(ConfigFileTest, AliasesAreWalkedOnce) {
  // Nine levels of ten aliases: 10^9 nodes if expanded; checked in its written size.
  std::string yaml = "a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string p = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int j = 1; j < 10; ++j) yaml += ", " + p;
    yaml += "]\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  CheckYamlKeys(YAML::Load(yaml), "bomb.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // A duplicate inside an aliased map is still found.
  EXPECT_THROW(CheckYamlKeys(YAML::Load("a: &x {k: 1, k: 2}\nb: *x\n"), "x.yaml"), ConfigError);
}

}  // namespace
}  // namespace rfx
