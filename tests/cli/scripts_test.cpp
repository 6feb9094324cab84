// The scripts' own argument checks (their full runs are the README's commands; reproduce.sh
// takes minutes and is run by hand, see bench/RESULTS.md and the README).
#include <gtest/gtest.h>

#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

const std::string kScripts = std::string(RFX_SOURCE_DIR) + "/scripts/";

TEST(ScriptsTest, ReproduceRefusesBadOptionsBeforeDoingAnything) {
  test::TempDir dir;
  auto run = [&](const std::string& args) {
    return test::RunCommand("bash " + kScripts + "reproduce.sh --out " + dir / "out " + args);
  };
  auto r = run("--slurm x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--slurm 'x'"), std::string::npos) << r.err;
  r = run("--fast");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--fast'"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(dir / "out")) << "nothing written";
}

TEST(ScriptsTest, SlurmLocalNeedsACommandAndADirectory) {
  const auto r = test::RunCommand("bash " + kScripts + "slurm_local.sh start");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rfx
