// Faults of a sweep, reproduced for real (issue 9): a cell whose training cannot run, in both
// worker modes; axis values that no cell may take; fits that must not count failures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rfx/config/config.h"
#include "rfx/sweep/plan.h"
#include "rfx/sweep/store.h"
#include "test_util.h"

namespace rfx {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExe = RFX_EXE;
const std::vector<std::string> kSets = {
    "dataset.image_size=32",   "dataset.distance=7", "net.depth=2",
    "train.steps=4",           "train.eval_samples=8", "train.device=cpu",
    "train.threads=1",         "dataset.threads=1",  "sweep.mode=grid",
    "sweep.axes.net.depth=[1,2,3]"};

std::string SetFlags() {
  std::string s;
  for (const auto& v : kSets) s += " --set '" + v + "'";
  return s;
}

class SweepFaults : public ::testing::TestWithParam<int> {};

// The training of one cell throws (its cell directory is a file): the cell is recorded failed,
// the others train, the sweep exits 1 saying how many failed; once the obstacle is gone a rerun
// trains only that cell.
TEST_P(SweepFaults, AThrowingCellIsRecordedFailedAndTheSweepGoesOn) {
  const int workers = GetParam();
  test::TempDir dir;
  const Config config = Config::Load("", kSets);
  const sweep::Plan plan(config);
  const std::string key = plan.CellKey(plan.GridCells()[1], 0);  // net.depth=2
  fs::create_directories(dir / "cells");
  std::ofstream(dir / ("cells/" + key)) << "in the way\n";
  const std::string cmd = kExe + " sweep" + SetFlags() + " --workers " + std::to_string(workers) +
                          " --out " + dir.path();
  auto first = test::RunCommand(cmd);
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.err.find("1 cell(s) failed; rerun to retry"), std::string::npos) << first.err;
  auto records = sweep::ReadDirRecords(dir.path());
  ASSERT_EQ(records.size(), 3u);
  int failed = 0;
  for (const auto& r : records) {
    if (r["key"] == key) {
      EXPECT_EQ(r["status"], "failed") << r.dump();
      ++failed;
    } else {
      EXPECT_EQ(r["status"], "ok") << r.dump();
    }
  }
  EXPECT_EQ(failed, 1);
  fs::remove(dir / ("cells/" + key));
  auto again = test::RunCommand(cmd);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("1 trainings run, 2 reused, 0 failed"), std::string::npos)
      << again.out;
  for (const auto& r : sweep::ReadDirRecords(dir.path())) EXPECT_EQ(r["status"], "ok");
}

INSTANTIATE_TEST_SUITE_P(Workers, SweepFaults, ::testing::Values(1, 2));

TEST(SweepFaultsTest, AxisValuesAreCheckedBeforeAnyTraining) {
  test::TempDir dir;
  auto dry = test::RunCommand(kExe + " sweep" + SetFlags() +
                              " --set 'sweep.axes.net.depth=[2,0]' --dry-run --no-measure --out " +
                              dir / "s");
  EXPECT_EQ(dry.exit_code, 2) << dry.err;
  EXPECT_NE(dry.err.find("net.depth"), std::string::npos) << dry.err;
  EXPECT_NE(dry.err.find("net.depth=0"), std::string::npos) << "names the cell: " << dry.err;
  auto run = test::RunCommand(kExe + " sweep" + SetFlags() +
                              " --set 'sweep.axes.net.depth=[2,0]' --out " + dir / "s");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_FALSE(fs::exists(dir / "s/results.jsonl")) << "nothing trained";
}

}  // namespace
}  // namespace rfx
