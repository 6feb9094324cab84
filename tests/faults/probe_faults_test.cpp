// Faults of the probes, reproduced for real: a plot written onto a full disk.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace rfx {
namespace {

namespace fs = std::filesystem;

const std::string kExe = rfx::test::RfxExe();

// Regression: `probe compare --plot` onto a full disk printed a 44-line Python traceback and
// once left a 0-byte PNG. On a real 16 KiB tmpfs (root, as CI runs) the table's JSON fits and the
// PNG does not: one sentence, exit 1, no PNG and no temp file left.
TEST(ProbeFaults, APlotOntoAFullDiskFailsWithOneSentenceAndLeavesNoFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  test::TempDir dir;
  const std::string mnt = dir / "full";
  fs::create_directories(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16k"), 0) << std::strerror(errno);
  const auto r = test::RunCommand(kExe +
                                  " probe compare --depths 1:2 --size 17 --samples 2 "
                                  "--bootstrap 0 --set train.device=cpu --set train.threads=1 "
                                  "--plot " +
                                  mnt + "/c.png");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(mnt)) left.push_back(e.path().filename().string());
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("plot_compare.py: cannot write " + mnt + "/c.png: No space left on device"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(left, std::vector<std::string>{"c.png.json"}) << "only the table's JSON";
}

}  // namespace
}  // namespace rfx
