// The adaptive sweep mode through RunSweep, against a noisy synthetic oracle whose outcome is a
// pure function of (depth, distance, seed): P(learned) = σ((3√N − d)/1).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include "rfx/sweep/dry_run.h"
#include "rfx/sweep/fit.h"
#include "rfx/sweep/fit_dir.h"
#include "rfx/sweep/run.h"
#include "rfx/sweep/store.h"
#include "rfx/util/hash.h"
#include "test_util.h"

namespace rfx::sweep {
namespace {

using nlohmann::json;

double TrueD50(int64_t depth) { return 3.0 * std::sqrt(static_cast<double>(depth)); }

train::TrainResult Oracle(const Config& c) {
  const int64_t depth = c.GetInt("net.depth"), d = c.GetInt("dataset.distance");
  const uint64_t seed = static_cast<uint64_t>(c.GetInt("train.seed"));
  // A uniform number from (depth, distance, seed) alone.
  const std::string id =
      std::to_string(depth) + "/" + std::to_string(d) + "/" + std::to_string(seed);
  uint64_t h = 1469598103934665603ull;
  for (char ch : id) h = (h ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
  const double u = static_cast<double>(h >> 11) / 9007199254740992.0;
  const double p = 1.0 / (1.0 + std::exp(-(TrueD50(depth) - static_cast<double>(d))));
  train::TrainResult r;
  r.accuracy = u < p ? 0.98 : 0.5;
  r.steps = 3;
  r.device = "synthetic";
  return r;
}

Config Adaptive(std::vector<std::string> extra = {}) {
  std::vector<std::string> sets = {"dataset.glyph_scale=0.1",
                                   "sweep.mode=adaptive",
                                   "sweep.axes.net.depth=[2,4,8,16]",
                                   "sweep.axes.dataset.distance={from: 2, to: 20}",
                                   "sweep.adaptive.max_trainings=24",
                                   "sweep.adaptive.min_trainings=6",
                                   "sweep.adaptive.ci=3",
                                   "train.steps=3"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return Config::Load("", sets);
}

SweepRunOptions Opts(const std::string& dir) {
  SweepRunOptions o;
  o.out_dir = dir;
  o.progress = false;
  return o;
}

std::map<std::string, json> ByKey(const std::string& dir) {
  std::map<std::string, json> m;
  for (const auto& r : ReadDirRecords(dir)) m[r["key"].get<std::string>()] = r["accuracy"];
  return m;
}

TEST(AdaptiveRunTest, EachDepthStopsWithATightIntervalAroundTheTruth) {
  test::TempDir dir;
  std::atomic<int> calls{0};
  const SweepSummary s =
      RunSweep(Adaptive(), Opts(dir.path()), [&](const Config& c, const CellTask&) {
        ++calls;
        return Oracle(c);
      });
  ASSERT_EQ(s.searches.size(), 4u);
  for (const auto& r : s.searches) {
    const double truth = TrueD50(r.outer["net.depth"].get<int64_t>());
    EXPECT_LE(r.cells, 24);
    EXPECT_GE(r.cells, 6);
    EXPECT_LE(r.ci_lo, truth + 1.0) << r.reason;
    EXPECT_GE(r.ci_hi, truth - 1.0) << r.reason;
  }
  EXPECT_EQ(calls.load(), s.trained);
  EXPECT_LE(s.trained, PlanDryRun(Adaptive(), Opts(dir.path())).trainings_bound);
  // Rerun: every next point is read back from the store, nothing is trained again.
  const SweepSummary again =
      RunSweep(Adaptive(), Opts(dir.path()), [&](const Config& c, const CellTask&) {
        ADD_FAILURE() << "retrained";
        return Oracle(c);
      });
  EXPECT_EQ(again.trained, 0);
  for (size_t i = 0; i < s.searches.size(); ++i) {
    EXPECT_EQ(again.searches[i].d50, s.searches[i].d50);
  }
  // The fit sees every training.
  const DirFit fit = FitSweepDir(dir.path());
  EXPECT_EQ(fit.groups[0].trainings, s.trained);
}

TEST(AdaptiveRunTest, InterruptedAnywhereItResumesToTheSameRecords) {
  test::TempDir whole;
  RunSweep(Adaptive(), Opts(whole.path()),
           [](const Config& c, const CellTask&) { return Oracle(c); });
  const auto reference = ByKey(whole.path());
  for (int cut : {1, 7, 23, 40}) {
    test::TempDir dir;
    std::atomic<bool> stop{false};
    int n = 0;
    SweepRunOptions o = Opts(dir.path());
    o.stop = &stop;
    const Evaluator eval = [&](const Config& c, const CellTask&) {
      if (++n == cut) {
        stop = true;
        train::TrainResult r;
        r.status = train::TrainStatus::kFailed;
        return r;
      }
      return Oracle(c);
    };
    EXPECT_TRUE(RunSweep(Adaptive(), o, eval).interrupted) << cut;
    stop = false;
    EXPECT_FALSE(RunSweep(Adaptive(), o, eval).interrupted);
    EXPECT_EQ(ByKey(dir.path()), reference) << "cut at training " << cut;
    EXPECT_EQ(ReadDirRecords(dir.path()).size(), reference.size());
  }
}

TEST(AdaptiveRunTest, ShardsOwnWholeDepthsAndWorkersKeepTheirOwnChains) {
  test::TempDir dir;
  for (int i = 1; i <= 2; ++i) {
    SweepRunOptions o = Opts(dir.path());
    o.shard = i;
    o.shard_count = 2;
    RunSweep(Adaptive(), o, [](const Config& c, const CellTask&) { return Oracle(c); });
  }
  std::map<int64_t, std::set<std::string>> files_of_depth;
  for (int i = 1; i <= 2; ++i) {
    for (const auto& r : ReadRecords(ShardPath(dir.path(), i, 2))) {
      files_of_depth[r["net.depth"].get<int64_t>()].insert(std::to_string(i));
    }
  }
  ASSERT_EQ(files_of_depth.size(), 4u);
  for (const auto& [depth, files] : files_of_depth) EXPECT_EQ(files.size(), 1u) << depth;
  // Two workers: the same records as one worker run twice (each worker's chain is fixed).
  test::TempDir w1, w2;
  SweepRunOptions o1 = Opts(w1.path()), o2 = Opts(w2.path());
  o1.workers = o2.workers = 2;
  RunSweep(Adaptive(), o1, [](const Config& c, const CellTask&) { return Oracle(c); });
  RunSweep(Adaptive(), o2, [](const Config& c, const CellTask&) { return Oracle(c); });
  EXPECT_EQ(ByKey(w1.path()), ByKey(w2.path()));
}

}  // namespace
}  // namespace rfx::sweep
