// Faults of a sweep, reproduced for real: a cell whose training cannot run, in both
// worker modes; axis values that no cell may take; fits that must not count failures.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "rfx/config/config.h"
#include "rfx/sweep/plan.h"
#include "rfx/sweep/store.h"
#include "test_util.h"

namespace rfx {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExe = rfx::test::RfxExe();
const std::vector<std::string> kSets = {"dataset.image_size=32", "dataset.distance=7",
                                        "net.depth=2",           "train.steps=4",
                                        "train.eval_samples=8",  "train.device=cpu",
                                        "train.threads=1",       "dataset.threads=1",
                                        "sweep.mode=grid",       "sweep.axes.net.depth=[1,2,3]"};

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
  EXPECT_NE(again.out.find("1 trainings run, 2 reused, 0 failed"), std::string::npos) << again.out;
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

// Starts `cmd` in the background (its own process group); returns its pid.
pid_t Spawn(const std::string& cmd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// The first sweep's 3 trainings of 1500 steps take seconds: the second starts while the first
// holds the results file's lock.
TEST(SweepFaultsTest, TwoSweepsOnOneDirectoryTrainEachCellOnce) {
  test::TempDir dir;
  const std::string cmd =
      kExe + " sweep" + SetFlags() + " --set train.steps=1500 --out " + dir.path();
  const pid_t first = Spawn(cmd);
  // Wait until the first one has its lock (its sweep.yaml is written after it), then start another.
  for (int i = 0; i < 400 && !fs::exists(dir / "sweep.yaml"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto second = test::RunCommand(cmd);
  EXPECT_EQ(second.exit_code, 2) << second.err;
  EXPECT_NE(second.err.find("another rfx sweep is writing"), std::string::npos) << second.err;
  EXPECT_EQ(Wait(first), 0);
  const auto records = sweep::ReadRecords(sweep::ResultsPath(dir.path()));
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r["key"].get<std::string>());
  EXPECT_EQ(records.size(), 3u);
  EXPECT_EQ(keys.size(), 3u);
}

// A real small adaptive sweep killed with SIGKILL at random moments and rerun ends with exactly
// the records of an uninterrupted run: same keys, same accuracies, none twice.
TEST(SweepFaultsTest, AnAdaptiveSweepKilledAnywhereResumesToTheSameRecords) {
  const std::string sets =
      " --set dataset.image_size=32 --set net.width=8 --set train.steps=30"
      " --set train.eval_samples=16 --set train.device=cpu --set train.threads=1"
      " --set dataset.threads=1 --set train.checkpoint_every=10 --set sweep.mode=adaptive"
      " --set 'sweep.axes.net.depth=[2,4]' --set 'sweep.axes.dataset.distance={from: 7, to: 12}'"
      " --set sweep.adaptive.min_trainings=3 --set sweep.adaptive.max_trainings=5";
  auto records = [](const std::string& d) {
    std::map<std::string, json> m;
    for (const auto& r : sweep::ReadRecords(sweep::ResultsPath(d))) {
      EXPECT_EQ(m.count(r["key"].get<std::string>()), 0u) << "duplicate " << r.dump();
      m[r["key"].get<std::string>()] = r["accuracy"];
    }
    return m;
  };
  test::TempDir whole, killed;
  auto ref = test::RunCommand(kExe + " sweep" + sets + " --out " + whole.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const auto reference = records(whole.path());
  ASSERT_GE(reference.size(), 6u);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> ms(300, 1500);
  for (int k = 0; k < 3; ++k) {
    const pid_t pid = Spawn(kExe + " sweep" + sets + " --out " + killed.path());
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
    ::kill(-pid, SIGKILL);
    Wait(pid);
  }
  auto rest = test::RunCommand(kExe + " sweep" + sets + " --out " + killed.path());
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(records(killed.path()), reference);
}

// Regression: deleting DIR/sweep.yaml disabled the other-config guard: a rerun with another
// config appended its records and fit pooled both. Now a sweep refuses results without a
// sweep.yaml, and every record carries its config's hash, which sweep, fit and merge check.
TEST(SweepFaultsTest, RecordsOfAnotherConfigAreNeverPooled) {
  const std::string sets =
      " --set dataset.image_size=32 --set train.eval_samples=8 --set train.device=cpu"
      " --set train.threads=1 --set dataset.threads=1 --set sweep.mode=grid"
      " --set 'sweep.axes.net.depth=[1,2]' --set 'sweep.axes.dataset.distance=[7,9]'";
  const std::string a = sets + " --set train.steps=4", b = sets + " --set train.steps=5";
  test::TempDir dir, other;
  ASSERT_EQ(test::RunCommand(kExe + " sweep" + a + " --out " + dir.path()).exit_code, 0);
  const std::string results = sweep::ResultsPath(dir.path());
  const std::string before = test::Slurp(results);
  ASSERT_EQ(sweep::ReadRecords(results).size(), 4u);
  // sweep.yaml deleted: another config is refused, and so is this one (nothing says which it is).
  fs::remove(dir / "sweep.yaml");
  for (const std::string& sets_now : {b, a}) {
    const auto r = test::RunCommand(kExe + " sweep" + sets_now + " --out " + dir.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("holds 4 results but no sweep.yaml"), std::string::npos) << r.err;
    EXPECT_EQ(test::Slurp(results), before);
    EXPECT_FALSE(fs::exists(dir / "sweep.yaml"));
  }
  // sweep.yaml replaced by another config's: the records' hash is not its hash.
  ASSERT_EQ(test::RunCommand(kExe + " sweep" + b + " --out " + other.path()).exit_code, 0);
  fs::copy_file(other / "sweep.yaml", dir / "sweep.yaml");
  const auto replaced = test::RunCommand(kExe + " sweep" + b + " --out " + dir.path());
  EXPECT_EQ(replaced.exit_code, 2) << replaced.err;
  EXPECT_NE(replaced.err.find("holds 4 results of another config than its sweep.yaml"),
            std::string::npos)
      << replaced.err;
  EXPECT_EQ(test::Slurp(results), before);
  // Records of both configs in one file (as the guard let happen): fit and merge refuse to pool.
  fs::remove(dir / "sweep.yaml");
  fs::copy_file(other / "sweep.yaml", dir / "sweep.yaml");
  {
    std::ofstream out(results, std::ios::app);
    out << test::Slurp(sweep::ResultsPath(other.path()));
  }
  const std::string pooled = test::Slurp(results);
  const auto fit = test::RunCommand(kExe + " fit " + dir.path());
  EXPECT_EQ(fit.exit_code, 2) << fit.err;
  EXPECT_NE(fit.err.find("4 of config"), std::string::npos) << fit.err;
  EXPECT_NE(fit.err.find("fit would pool them"), std::string::npos) << fit.err;
  const auto merge = test::RunCommand(kExe + " merge " + dir.path());
  EXPECT_EQ(merge.exit_code, 2) << merge.err;
  EXPECT_NE(merge.err.find("merge would pool them"), std::string::npos) << merge.err;
  EXPECT_EQ(test::Slurp(results), pooled) << "a refused merge rewrites nothing";
  // The other directory alone fits; --force-new sets the mixed results aside.
  EXPECT_EQ(test::RunCommand(kExe + " fit " + other.path()).exit_code, 0);
  const auto fresh = test::RunCommand(kExe + " sweep" + b + " --force-new --out " + dir.path());
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(test::Slurp(dir / "superseded-1/results.jsonl"), pooled);
  EXPECT_EQ(sweep::ReadRecords(results).size(), 4u);
  EXPECT_EQ(test::RunCommand(kExe + " fit " + dir.path()).exit_code, 0);
}

}  // namespace
}  // namespace rfx
