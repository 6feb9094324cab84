// rfx slurm's scripts and checks, without a cluster (tests/cli/slurm_cli_test.cpp runs them on
// a real local Slurm).
#include "rfx/sweep/slurm.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>

#include "rfx/sweep/store.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx::sweep {
namespace {

Config Grid(std::vector<std::string> extra = {}) {
  std::vector<std::string> sets = {"sweep.mode=grid", "sweep.axes.net.depth=[1,6]",
                                   "sweep.axes.dataset.distance=[7,9]", "train.steps=5"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return Config::Load("", sets);
}

SlurmOptions Opts(const std::string& dir, int shards) {
  SlurmOptions o;
  o.out_dir = dir;
  o.shards = shards;
  o.rfx_path = "/bin/sh";  // any existing file: nothing runs here
  return o;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ErrorOf(const Config& c, const SlurmOptions& o) {
  try {
    WriteSlurmScripts(c, o);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SlurmTest, WritesTheArrayAndTheMergeJob) {
  test::TempDir dir;
  SlurmOptions o = Opts(dir / "sw", 2);
  o.workers = 3;
  o.sbatch_args = {"--partition=gpu", "--gres=gpu:1", "--time=04:00:00"};
  const SlurmScripts s = WriteSlurmScripts(Grid(), o);
  EXPECT_EQ(s.dir, dir / "sw");
  EXPECT_EQ(s.unit, "cells");
  EXPECT_EQ(s.largest_shard, 2);  // 4 cells over 2 shards
  EXPECT_TRUE(FileExists(SweepConfigPath(s.dir)));
  const std::string sweep = ReadFile(s.sweep_script), merge = ReadFile(s.merge_script);
  EXPECT_EQ(sweep.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_TRUE(Contains(sweep, "#SBATCH --array=1-2\n"));
  EXPECT_TRUE(Contains(sweep, "#SBATCH --job-name=rfx-sw\n"));
  EXPECT_TRUE(Contains(sweep, "#SBATCH --output=" + s.dir + "/slurm/shard-%a-of-2.log\n"));
  EXPECT_TRUE(Contains(sweep, "#SBATCH --gres=gpu:1\n#SBATCH --time=04:00:00\n"));
  EXPECT_TRUE(Contains(sweep, "exec /bin/sh sweep --config " + s.dir + "/sweep.yaml --out " +
                                  s.dir + " --shard \"${SLURM_ARRAY_TASK_ID}/2\" --workers 3\n"));
  // The merge job runs where the array runs, without its resources.
  EXPECT_TRUE(Contains(merge, "#SBATCH --partition=gpu\n"));
  EXPECT_FALSE(Contains(merge, "gres"));
  EXPECT_FALSE(Contains(merge, "--time"));
  EXPECT_TRUE(Contains(merge, "/bin/sh merge " + s.dir + "\n"));
  EXPECT_TRUE(Contains(merge, "/bin/sh fit " + s.dir + " --json > " + s.dir + "/fit.json.tmp\n"));
  struct stat st {};
  ASSERT_EQ(::stat(s.sweep_script.c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  // Several GPUs per task: the workers take them round-robin.
  o.devices = "0,1";
  o.sbatch_args = {};
  EXPECT_TRUE(Contains(ErrorOf(Grid(), o), "devices '0,1' needs train.device: cuda"));
  o.out_dir = dir / "gpu";
  EXPECT_TRUE(Contains(ReadFile(WriteSlurmScripts(Grid({"train.device=cuda"}), o).sweep_script),
                       "--workers 3 --devices 0,1\n"));
  // Threshold mode shards searches: 2 depths = 2 searches.
  const SlurmScripts t = WriteSlurmScripts(Grid({"sweep.mode=threshold"}), Opts(dir / "th", 2));
  EXPECT_EQ(t.unit, "searches");
  EXPECT_EQ(t.largest_shard, 1);
}

TEST(SlurmTest, BadOptionsNameTheFieldAndWhatIsAllowed) {
  test::TempDir dir;
  EXPECT_TRUE(Contains(ErrorOf(Grid(), Opts(dir / "a", 0)), "shards '0' is out of range"));
  const std::string too_many = ErrorOf(Grid(), Opts(dir / "a", 5));
  EXPECT_TRUE(Contains(too_many, "shards '5'")) << too_many;
  EXPECT_TRUE(Contains(too_many, "allowed 1..4")) << too_many;
  // Regression: every shard was planned before the count was checked (2^31 - 1 shards
  // never ended, 10,000 took 66 s). Now the count is checked first.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string most = ErrorOf(Grid(), Opts(dir / "a", 2147483647));
  EXPECT_TRUE(Contains(most, "shards '2147483647' is more than the sweep's 4 cells")) << most;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
  // The largest shard of 100 cells over 3 shards, from the count (cells i mod 3).
  const SlurmScripts big =
      WriteSlurmScripts(Grid({"sweep.axes.net.depth={from: 1, to: 50}"}), Opts(dir / "big", 3));
  EXPECT_EQ(big.largest_shard, 34);
  SlurmOptions o = Opts(dir / "a", 2);
  o.sbatch_args = {"gpu"};
  EXPECT_TRUE(Contains(ErrorOf(Grid(), o), "sbatch_args 'gpu' is not an sbatch option"));
  o.sbatch_args = {"--array=1-9"};
  EXPECT_TRUE(Contains(ErrorOf(Grid(), o), "sets --array itself"));
  o.sbatch_args = {"-o", "x.log"};
  EXPECT_TRUE(Contains(ErrorOf(Grid(), o), "sbatch_args '-o'"));
  o.sbatch_args = {};
  o.devices = "cuda:0";
  EXPECT_TRUE(Contains(ErrorOf(Grid(), o), "devices 'cuda:0'"));
  o.devices = "";
  o.rfx_path = dir / "no-such-rfx";
  EXPECT_TRUE(
      Contains(ErrorOf(Grid(), o), "rfx_path '" + (dir / "no-such-rfx") + "' does not exist"));
  EXPECT_TRUE(Contains(ErrorOf(Grid(), Opts(dir / "with space", 2)), "out_dir '"));
  // A bad sweep config is refused as `rfx sweep` refuses it (with its key).
  try {
    WriteSlurmScripts(Grid({"sweep.mode=diagonal"}), Opts(dir / "b", 2));
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "sweep.mode");
  }
  EXPECT_FALSE(FileExists(dir / "a/sweep.yaml")) << "nothing written for refused options";
}

TEST(SlurmTest, RefusesADirectoryHoldingAnotherSweep) {
  test::TempDir dir;
  WriteSlurmScripts(Grid(), Opts(dir / "sw", 2));
  WriteSlurmScripts(Grid(), Opts(dir / "sw", 4));  // the same sweep, other sharding: fine
  const std::string before = ReadFile(dir / "sw/sweep.yaml");
  EXPECT_TRUE(Contains(ErrorOf(Grid({"train.steps=6"}), Opts(dir / "sw", 2)), "train.steps"));
  EXPECT_EQ(ReadFile(dir / "sw/sweep.yaml"), before);
}

TEST(SlurmTest, SubmittingWithoutSbatchSaysSo) {
  test::TempDir dir;
  const SlurmScripts s = WriteSlurmScripts(Grid(), Opts(dir / "sw", 2));
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir / "empty-bin").c_str(), 1);
  std::string what;
  try {
    SubmitSlurm(s);
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  ::setenv("PATH", path.c_str(), 1);
  EXPECT_TRUE(Contains(what, "sbatch is not on PATH")) << what;
  EXPECT_FALSE(FileExists(dir / "sw/slurm/jobs.jsonl"));
}

}  // namespace
}  // namespace rfx::sweep
