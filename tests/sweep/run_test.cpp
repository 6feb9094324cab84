#include "rfx/sweep/run.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "rfx/sweep/dry_run.h"
#include "rfx/sweep/fit.h"
#include "rfx/sweep/fit_dir.h"
#include "rfx/sweep/merge.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/train_eval.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx::sweep {
namespace {

using nlohmann::json;

// A synthetic monotone oracle: a net of depth N sees up to round(2·√N) + 1 px.
int TrueThreshold(int64_t depth) {
  return static_cast<int>(std::lround(2.0 * std::sqrt(depth))) + 1;
}

struct Oracle {
  std::mutex mu;
  std::multiset<std::string> trained;  // keys
  int calls = 0;
  Evaluator Make() {
    return [this](const Config& c, const CellTask& task) {
      train::TrainResult r;
      const bool sees = c.GetInt("dataset.distance") <= TrueThreshold(c.GetInt("net.depth"));
      r.accuracy = sees ? 0.97 : 0.52;
      r.loss = 0.01;
      r.steps = c.GetInt("train.steps");
      r.device = "synthetic";
      std::lock_guard<std::mutex> lock(mu);
      trained.insert(task.key);
      ++calls;
      return r;
    };
  }
};

Config SweepConfig(const std::string& mode, std::vector<std::string> extra = {}) {
  // Small glyphs: the synthetic oracle's distances (2..17) are legal data-set distances.
  std::vector<std::string> sets = {
      "dataset.glyph_scale=0.1", "sweep.mode=" + mode, "sweep.axes.net.depth=[2,4,8,16,32]",
      "sweep.axes.dataset.distance={from: 2, to: 17}", "train.steps=3"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return Config::Load("", sets);
}

SweepRunOptions Opts(const std::string& dir) {
  SweepRunOptions o;
  o.out_dir = dir;
  o.progress = false;
  return o;
}

TEST(RunSweepTest, GridTrainsEveryCellOnceAndResumesWithoutRetraining) {
  test::TempDir dir;
  Oracle oracle;
  const Config c = SweepConfig("grid");
  const SweepSummary s = RunSweep(c, Opts(dir.path()), oracle.Make());
  EXPECT_EQ(s.trained, 5 * 16);
  const auto recs = ReadRecords(ResultsPath(dir.path()));
  ASSERT_EQ(recs.size(), 80u);
  std::set<std::string> keys;
  for (const auto& r : recs) {
    keys.insert(r["key"].get<std::string>());
    EXPECT_TRUE(r["net.depth"].is_number_integer());
    for (const char* f : {"accuracy", "loss", "status", "steps", "wall_s", "device", "seed"}) {
      EXPECT_TRUE(r.contains(f)) << f;
    }
  }
  EXPECT_EQ(keys.size(), 80u);
  const SweepSummary again = RunSweep(c, Opts(dir.path()), oracle.Make());
  EXPECT_EQ(again.trained, 0);
  EXPECT_EQ(again.reused, 80);
  EXPECT_EQ(oracle.calls, 80);
  // The grid's fields lie between the oracle's last seen and first unseen distance.
  const DirFit fit = FitSweepDir(dir.path());
  ASSERT_EQ(fit.groups.size(), 1u);
  for (const auto& e : fit.groups[0].curve.fit.depths) {
    ASSERT_EQ(e.censored, stats::Censoring::kNone) << e.depth;
    const int t = TrueThreshold(static_cast<int64_t>(e.depth));
    EXPECT_GE(e.d50, t) << e.depth;
    EXPECT_LE(e.d50, t + 1) << e.depth;
  }
}

TEST(RunSweepTest, ThresholdFindsTheGridsThresholdsWithFewTrainings) {
  test::TempDir dir;
  Oracle oracle;
  const SweepSummary s = RunSweep(SweepConfig("threshold"), Opts(dir.path()), oracle.Make());
  ASSERT_EQ(s.searches.size(), 5u);
  for (const auto& r : s.searches) {
    ASSERT_TRUE(r.value.has_value());
    EXPECT_EQ(*r.value, TrueThreshold(r.outer["net.depth"].get<int64_t>()));
  }
  EXPECT_LE(s.trained * 3, 80) << s.trained;
  EXPECT_EQ(static_cast<int64_t>(ReadRecords(ResultsPath(dir.path())).size()), s.trained);
  const DirFit fit = FitSweepDir(dir.path());
  for (const auto& e : fit.groups[0].curve.fit.depths) {
    const int t = TrueThreshold(static_cast<int64_t>(e.depth));
    EXPECT_GE(e.d50, t) << e.depth;
    EXPECT_LE(e.d50, t + 1) << e.depth;
  }
  // The dry run's bound holds.
  const DryRun d = PlanDryRun(SweepConfig("threshold"), Opts(dir.path()));
  EXPECT_EQ(d.searches, 5);
  EXPECT_EQ(d.grid_trainings, 80);
  EXPECT_LE(s.trained, d.trainings_bound);
  const SweepSummary again = RunSweep(SweepConfig("threshold"), Opts(dir.path()), oracle.Make());
  EXPECT_EQ(again.trained, 0);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(again.searches[i].value, s.searches[i].value);
}

TEST(RunSweepTest, SeesNothingAndSeesEverything) {
  test::TempDir dir;
  Oracle oracle;
  // Depth 2 sees 4 px: distances 5..7 are never seen; depth 32 sees 12 px: all of them.
  const Config c = Config::Load("", {"dataset.glyph_scale=0.1", "sweep.axes.net.depth=[2,32]",
                                     "sweep.axes.dataset.distance={from: 5, to: 7}"});
  const SweepSummary s = RunSweep(c, Opts(dir.path()), oracle.Make());
  ASSERT_EQ(s.searches.size(), 2u);
  EXPECT_FALSE(s.searches[0].value.has_value());
  EXPECT_EQ(s.searches[0].censored, stats::Censoring::kBelow);
  EXPECT_EQ(s.searches[0].cells, 1);
  EXPECT_EQ(*s.searches[1].value, 7);
  EXPECT_EQ(s.searches[1].censored, stats::Censoring::kAbove);
  const json j = FitSweepDir(dir.path()).ToJson();
  EXPECT_TRUE(j["thresholds"][0]["distance"].is_null());
  EXPECT_EQ(j["thresholds"][1]["censored"], "above");
}

TEST(RunSweepTest, RepeatsAverageAccuracy) {
  test::TempDir dir;
  // Seed 0 always sees, seed 1 never: the mean 0.5 is below 0.9, so nothing is seen.
  Evaluator eval = [](const Config& c, const CellTask&) {
    train::TrainResult r;
    r.accuracy = c.GetInt("train.seed") == 0 ? 1.0 : 0.0;
    return r;
  };
  const Config c = Config::Load("", {"dataset.glyph_scale=0.1", "sweep.axes.net.depth=[2]",
                                     "sweep.axes.dataset.distance=[2,3,4]", "sweep.repeats=2"});
  const SweepSummary s = RunSweep(c, Opts(dir.path()), eval);
  EXPECT_EQ(s.searches[0].censored, stats::Censoring::kBelow);
  EXPECT_EQ(s.trained, 2);
  const auto recs = ReadRecords(ResultsPath(dir.path()));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["seed"], 0);
  EXPECT_EQ(recs[1]["seed"], 1);
}

TEST(RunSweepTest, ShardsPartitionTheWorkAndMergeToTheSameResults) {
  for (const std::string mode : {"grid", "threshold"}) {
    test::TempDir whole, sharded;
    Oracle o1, o2;
    const SweepSummary ref = RunSweep(SweepConfig(mode), Opts(whole.path()), o1.Make());
    int64_t trained = 0;
    for (int i = 1; i <= 3; ++i) {
      SweepRunOptions so = Opts(sharded.path());
      so.shard = i;
      so.shard_count = 3;
      trained += RunSweep(SweepConfig(mode), so, o2.Make()).trained;
      EXPECT_TRUE(FileExists(ShardPath(sharded.path(), i, 3)));
    }
    EXPECT_FALSE(FileExists(ResultsPath(sharded.path())));
    // Each cell trained once across the shards.
    EXPECT_EQ(o2.trained.size(),
              std::set<std::string>(o2.trained.begin(), o2.trained.end()).size());
    if (mode == "grid") {
      EXPECT_EQ(trained, ref.trained);
    }
    const MergeReport m = Merge({sharded.path()});
    EXPECT_EQ(m.duplicates, 0u);
    EXPECT_EQ(static_cast<int64_t>(m.records), trained);
    const json a = FitSweepDir(whole.path()).ToJson(), b = FitSweepDir(sharded.path()).ToJson();
    ASSERT_EQ(a["thresholds"].size(), b["thresholds"].size());
    for (size_t i = 0; i < a["thresholds"].size(); ++i) {
      EXPECT_EQ(a["thresholds"][i]["depth"], b["thresholds"][i]["depth"]);
      if (mode == "grid") {  // the same records: the same fit
        EXPECT_EQ(a["thresholds"][i]["distance"], b["thresholds"][i]["distance"]);
      } else {  // shards search from other starts, so other cells: d50 in the same unit step
        EXPECT_NEAR(a["thresholds"][i]["distance"].get<double>(),
                    b["thresholds"][i]["distance"].get<double>(), 0.5);
      }
    }
  }
}

TEST(RunSweepTest, WorkersFindTheSameThresholds) {
  test::TempDir one, many;
  Oracle o1, o3;
  const SweepSummary a = RunSweep(SweepConfig("threshold"), Opts(one.path()), o1.Make());
  SweepRunOptions opts = Opts(many.path());
  opts.workers = 3;
  const SweepSummary b = RunSweep(SweepConfig("threshold"), opts, o3.Make());
  ASSERT_EQ(a.searches.size(), b.searches.size());
  for (size_t i = 0; i < a.searches.size(); ++i)
    EXPECT_EQ(a.searches[i].value, b.searches[i].value);
  EXPECT_LE(b.trained, PlanDryRun(SweepConfig("threshold"), opts).trainings_bound);
  // Each worker got its share of the threads.
  SweepRunOptions g = Opts(many.path() + "/grid");
  g.workers = 2;
  std::atomic<int> bad{0};
  RunSweep(SweepConfig("grid", {"sweep.axes.net.depth=[2,4]"}), g,
           [&](const Config& c, const CellTask& task) {
             if (c.GetInt("train.threads") < 1 || task.worker < 0 || task.worker > 1) ++bad;
             return train::TrainResult{};
           });
  EXPECT_EQ(bad, 0);
}

TEST(RunSweepTest, InterruptedSweepResumesWithoutLossOrDuplicates) {
  test::TempDir dir;
  std::atomic<bool> stop{false};
  Oracle oracle;
  Evaluator inner = oracle.Make();
  int n = 0;
  Evaluator eval = [&](const Config& c, const CellTask& t) {
    if (++n == 10) {  // the 10th training is cut short, as RunTraining reports a stop
      stop = true;
      train::TrainResult cut;
      cut.status = train::TrainStatus::kFailed;
      cut.message = "stopped at step 1 of 3";
      return cut;
    }
    return inner(c, t);
  };
  SweepRunOptions o = Opts(dir.path());
  o.stop = &stop;
  const SweepSummary s1 = RunSweep(SweepConfig("grid"), o, eval);
  EXPECT_TRUE(s1.interrupted);
  EXPECT_EQ(s1.trained, 9);
  EXPECT_EQ(ReadRecords(ResultsPath(dir.path())).size(), 9u);
  stop = false;
  const SweepSummary s2 = RunSweep(SweepConfig("grid"), o, eval);
  EXPECT_FALSE(s2.interrupted);
  EXPECT_EQ(s2.reused, 9);
  EXPECT_EQ(s2.trained, 71);
  const auto recs = ReadRecords(ResultsPath(dir.path()));
  std::set<std::string> keys;
  for (const auto& r : recs) keys.insert(r["key"].get<std::string>());
  EXPECT_EQ(recs.size(), 80u);
  EXPECT_EQ(keys.size(), 80u);
}

TEST(RunSweepTest, ARerunTrainsFailedCellsAgainAndOnlyThem) {
  test::TempDir dir;
  const Config c = SweepConfig("grid", {"sweep.axes.dataset.distance=[3,5]"});
  std::atomic<int> calls{0};
  auto evaluator = [&](bool crash_depth_8) -> Evaluator {
    return [&, crash_depth_8](const Config& cfg, const CellTask&) {
      ++calls;
      train::TrainResult r;
      r.accuracy = 0.97;
      r.steps = 3;
      r.device = "synthetic";
      if (crash_depth_8 && cfg.GetInt("net.depth") == 8) {
        r.status = train::TrainStatus::kFailed;
        r.accuracy = 0;
        r.message = "killed by signal 9";
      }
      return r;
    };
  };
  const SweepSummary first = RunSweep(c, Opts(dir.path()), evaluator(true));
  EXPECT_EQ(first.trained, 10);
  EXPECT_EQ(first.failed, 2);
  calls = 0;
  const SweepSummary again = RunSweep(c, Opts(dir.path()), evaluator(false));
  EXPECT_EQ(calls.load(), 2) << "only the two failed cells";
  EXPECT_EQ(again.trained, 2);
  EXPECT_EQ(again.failed, 0);
  EXPECT_EQ(again.reused, 8);
  const auto recs = ReadDirRecords(dir.path());
  ASSERT_EQ(recs.size(), 10u);
  for (const auto& r : recs) EXPECT_EQ(r["status"], "ok") << r.dump();
  EXPECT_EQ(RunSweep(c, Opts(dir.path()), evaluator(false)).trained, 0);
}

TEST(RunSweepTest, ErfSnapshotsDoNotChangeWhichCellsAreDone) {
  // Real (tiny) trainings: train.erf_every writes each cell's field through training, and a
  // rerun with it off or at another period finds every cell done (a result-neutral key).
  test::TempDir dir;
  auto config = [](const std::string& every) {
    return Config::Load(
        "", {"sweep.mode=grid", "sweep.axes.net.depth=[2,3]", "dataset.image_size=32",
             "dataset.distance=7", "train.steps=4", "train.eval_samples=8", "train.device=cpu",
             "train.threads=1", "dataset.threads=1", "train.erf_samples=2",
             "train.erf_every=" + every});
  };
  const SweepSummary first = RunSweep(config("2"), Opts(dir.path()), InProcessEvaluator());
  EXPECT_EQ(first.trained, 2);
  int cells = 0;
  for (const auto& cell : std::filesystem::directory_iterator(dir / "cells")) {
    if (!cell.is_directory()) continue;
    ++cells;
    EXPECT_EQ(ReadCompleteLines(cell.path().string() + "/erf.jsonl").size(), 3u)
        << cell.path() << ": steps 0, 2, 4";
  }
  EXPECT_EQ(cells, 2);
  for (const char* every : {"0", "3"}) {
    const SweepSummary again = RunSweep(config(every), Opts(dir.path()), InProcessEvaluator());
    EXPECT_EQ(again.trained, 0) << every;
    EXPECT_EQ(again.reused, 2) << every;
  }
}

// Regression: a sweep along train.seed trained seeds 0 and 1 for both values and called
// the second value's cells reused. Each cell trains its own seed, and its record says which.
TEST(RunSweepTest, ASeedAxisTrainsEachCellsOwnSeed) {
  test::TempDir dir;
  std::mutex mu;
  std::map<std::string, int64_t> trained;  // key -> the train.seed the evaluator was given
  const Evaluator evaluate = [&](const Config& c, const CellTask& task) {
    train::TrainResult r;
    r.accuracy = 0.5;
    r.steps = 1;
    r.device = "synthetic";
    std::lock_guard<std::mutex> lock(mu);
    trained[task.key] = c.GetInt("train.seed");
    return r;
  };
  const Config c = Config::Load("", {"sweep.mode=grid", "sweep.axes={train.seed: [5, 7]}",
                                     "sweep.repeats=2", "train.seed=0"});
  const SweepSummary s = RunSweep(c, Opts(dir.path()), evaluate);
  EXPECT_EQ(s.trained, 4);
  EXPECT_EQ(s.reused, 0);
  const auto recs = ReadRecords(ResultsPath(dir.path()));
  ASSERT_EQ(recs.size(), 4u);
  std::set<std::pair<int64_t, int64_t>> labelled;  // (axis value, seed)
  for (const auto& r : recs) {
    const int64_t seed = r["seed"].get<int64_t>();
    EXPECT_EQ(trained.at(r["key"].get<std::string>()), seed);
    EXPECT_EQ(seed, r["train.seed"].get<int64_t>() + r["repeat"].get<int64_t>());
    labelled.insert({r["train.seed"].get<int64_t>(), seed});
  }
  EXPECT_EQ(labelled, (std::set<std::pair<int64_t, int64_t>>{{5, 5}, {5, 6}, {7, 7}, {7, 8}}));
  // Regression: a range of seeds past 2^53 trained 1 seed (2^53, not in the range) and
  // called the other 4 cells reused.
  trained.clear();
  const Config big =
      Config::Load("", {"sweep.mode=grid",
                        "sweep.axes={train.seed: {from: 9007199254740993, to: 9007199254740997}}"});
  const SweepSummary b = RunSweep(big, Opts(dir / "big"), evaluate);
  EXPECT_EQ(b.trained, 5);
  std::set<int64_t> big_seeds;
  for (const auto& [key, seed] : trained) big_seeds.insert(seed);
  EXPECT_EQ(big_seeds, (std::set<int64_t>{9007199254740993, 9007199254740994, 9007199254740995,
                                          9007199254740996, 9007199254740997}));
  // --devices would overwrite a train.device axis: refused before anything trains.
  SweepRunOptions o = Opts(dir / "devices");
  o.devices = {"cuda:0"};
  const Config by_device = Config::Load("", {"sweep.mode=grid", "sweep.axes.train.device=[cpu]"});
  EXPECT_THROW(RunSweep(by_device, o, evaluate), UsageError);
}

TEST(RunSweepTest, BadRunOptionsAreUsageErrors) {
  SweepRunOptions o = Opts("/tmp/unused");
  for (auto [shard, count] : {std::pair{0, 3}, {4, 3}, {1, 0}}) {
    o.shard = shard;
    o.shard_count = count;
    EXPECT_THROW(o.validate(), UsageError) << shard << "/" << count;
  }
  o.shard = o.shard_count = 1;
  o.workers = 0;
  EXPECT_THROW(o.validate(), UsageError);
  o.workers = 1;
  o.out_dir.clear();
  EXPECT_THROW(o.validate(), UsageError);
}

}  // namespace
}  // namespace rfx::sweep
