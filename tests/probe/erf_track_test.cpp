// train.erf_every: snapshots of the gradient ERF while a net trains (rfx/probe/erf_track.h), by
// the tracker attached to each training here as `rfx train` and the sweep attach it.
#include "rfx/probe/erf_track.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rfx/probe/probe.h"
#include "rfx/util/files.h"
#include "seeded_test.h"
#include "train/train_fixture.h"

namespace rfx::train {
namespace {

class ErfTrackTest : public test::SeededTest {};

// test::SmallTraining (train_fixture.h) in 7 steps.
Config Small(std::vector<std::string> sets) {
  sets.insert(sets.begin(), "train.steps=7");
  return test::SmallTraining(sets);
}

// test::QuietRun with the ERF tracker attached.
RunOptions Quiet(const std::string& dir) {
  RunOptions run = test::QuietRun(dir);
  run.observers.push_back(std::make_shared<probe::ErfTracker>());
  return run;
}

std::vector<nlohmann::json> Lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const std::string& l : ReadCompleteLines(path)) out.push_back(nlohmann::json::parse(l));
  return out;
}

std::vector<int64_t> Steps(const std::string& path) {
  std::vector<int64_t> s;
  for (const auto& j : Lines(path)) s.push_back(j.at("step").get<int64_t>());
  return s;
}

// A map CSV (rows of comma-separated numbers) as h, w and values.
probe::Map ReadCsvMap(const std::string& path) {
  probe::Map m;
  std::istringstream in(ReadFile(path));
  std::string row;
  while (std::getline(in, row)) {
    std::istringstream cells(row);
    std::string cell;
    int w = 0;
    while (std::getline(cells, cell, ',')) {
      m.v.push_back(std::stod(cell));
      ++w;
    }
    m.w = w;
    ++m.h;
  }
  return m;
}

// Largest |a − b| over the maps, relative to b's largest value.
double RelDiff(const probe::Map& a, const probe::Map& b) {
  EXPECT_EQ(a.h, b.h);
  EXPECT_EQ(a.w, b.w);
  if (a.v.size() != b.v.size()) return INFINITY;
  double diff = 0, top = 0;
  for (size_t i = 0; i < a.v.size(); ++i) {
    diff = std::max(diff, std::abs(a.v[i] - b.v[i]));
    top = std::max(top, std::abs(b.v[i]));
  }
  return diff / top;
}

// Parameters and buffers (BatchNorm's running statistics) of a run's model.pt.
std::vector<at::Tensor> Weights(const std::string& dir) {
  nn::LoadedRun run = nn::LoadRun(dir);
  std::vector<at::Tensor> w;
  for (const auto& p : run.net->parameters()) w.push_back(p.detach().clone());
  for (const auto& b : run.net->buffers()) w.push_back(b.detach().clone());
  return w;
}

TEST_F(ErfTrackTest, SnapshotsAtStepZeroEveryKAndTheLastStepWithTheirMeasures) {
  test::TempDir dir;
  const RunPaths paths(dir.path());
  ASSERT_EQ(
      RunTraining(Small({"train.erf_every=3", "train.erf_samples=4"}), Quiet(dir.path())).status,
      TrainStatus::kOk);
  EXPECT_EQ(Steps(paths.erf_log), (std::vector<int64_t>{0, 3, 6, 7}));
  std::vector<std::string> maps;
  for (const auto& e : std::filesystem::directory_iterator(paths.erf_dir)) {
    maps.push_back(e.path().filename().string());
  }
  std::sort(maps.begin(), maps.end());
  EXPECT_EQ(maps,
            (std::vector<std::string>{"step-0.csv", "step-3.csv", "step-6.csv", "step-7.csv"}));
  for (const auto& j : Lines(paths.erf_log)) {
    EXPECT_FALSE(j.contains("error")) << j.dump();
    EXPECT_EQ(j["samples"], 4);
    EXPECT_EQ(j["input"], "noise");
    EXPECT_EQ(j["agg"], "abs");
    EXPECT_EQ(j["scale"], "none");
    EXPECT_EQ(j["map"], "erf/step-" + std::to_string(j["step"].get<int>()) + ".csv");
    // A depth-4 fcn of 3×3 convs sees at most 4 px from the centre: the radius is 1 … 5.
    EXPECT_GE(j["radius"].get<int>(), 1);
    EXPECT_LE(j["radius"].get<int>(), 5);
    EXPECT_GT(j["sigma"]["x"].get<double>(), 0.3);
    EXPECT_LT(j["sigma"]["x"].get<double>(), 4.0);
    ASSERT_EQ(j["area_ratio"].size(), probe::AreaFractions().size());
    EXPECT_GE(j["seconds"].get<double>(), 0);
  }
  // The net trains, so its field moves.
  EXPECT_GT(RelDiff(ReadCsvMap(paths.ErfMap(0)), ReadCsvMap(paths.ErfMap(7))), 1e-6);
}

TEST_F(ErfTrackTest, TrainingIsTheSameWithSnapshotsOnAndOff) {
  // The fcn, and a layer list with BatchNorm, whose running statistics a snapshot in train mode
  // would move.
  const std::string bn_net =
      "net.layers=[{conv: {out: 4, k: 3, p: same}}, batchnorm, relu, {conv: {k: 3, p: same}}]";
  for (const std::vector<std::string>& net :
       {std::vector<std::string>{}, std::vector<std::string>{"net.arch=layers", bn_net}}) {
    test::TempDir off, on;
    const TrainResult a = RunTraining(Small(net), Quiet(off.path()));
    std::vector<std::string> with = net;
    with.insert(with.end(), {"train.erf_every=2", "train.erf_samples=3"});
    const TrainResult b = RunTraining(Small(with), Quiet(on.path()));
    EXPECT_FALSE(FileExists(off / "erf.jsonl"));
    EXPECT_FALSE(FileExists(off / "erf"));
    EXPECT_EQ(Steps(on / "erf.jsonl"), (std::vector<int64_t>{0, 2, 4, 6, 7}));
    EXPECT_EQ(a.loss, b.loss);
    EXPECT_EQ(a.accuracy, b.accuracy);
    EXPECT_EQ(ReadFile(off / "metrics.jsonl"), ReadFile(on / "metrics.jsonl"));
    const auto wa = Weights(off.path()), wb = Weights(on.path());
    ASSERT_EQ(wa.size(), wb.size());
    for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i], wb[i])) << i;
  }
}

TEST_F(ErfTrackTest, ASnapshotEqualsTheProbeOnThatStepsCheckpoint) {
  test::TempDir dir;
  const Config config = Small({"train.erf_every=3", "train.erf_samples=5"});
  RunOptions stop = Quiet(dir.path());
  stop.stop_at_step = 3;  // model.pt and checkpoint.pt hold the net of step 3
  EXPECT_EQ(RunTraining(config, stop).status, TrainStatus::kFailed);
  const RunPaths paths(dir.path());
  EXPECT_EQ(Steps(paths.erf_log), (std::vector<int64_t>{0, 3}));

  probe::GradientOptions o;
  o.samples = 5;
  o.bootstrap = 0;
  const probe::GradientResult fresh = probe::RunGradient(config, o);  // the initial net
  o.checkpoint = dir.path();
  const probe::GradientResult trained = probe::RunGradient(config, o);
  EXPECT_LT(RelDiff(ReadCsvMap(paths.ErfMap(0)), fresh.map), 1e-6);
  EXPECT_LT(RelDiff(ReadCsvMap(paths.ErfMap(3)), trained.map), 1e-6);
  EXPECT_GT(RelDiff(fresh.map, trained.map), 1e-6) << "three steps of training change the map";
  const auto lines = Lines(paths.erf_log);
  for (const auto& [line, r] : {std::pair{lines[0], fresh}, std::pair{lines[1], trained}}) {
    EXPECT_EQ(line["radius"].get<int>(), r.radius);
    EXPECT_NEAR(line["sigma"]["x"].get<double>(), r.fit.sigma_x, 1e-6 * r.fit.sigma_x);
    EXPECT_NEAR(line["sigma"]["y"].get<double>(), r.fit.sigma_y, 1e-6 * r.fit.sigma_y);
    for (size_t i = 0; i < r.area_ratios.size(); ++i) {
      EXPECT_NEAR(line["area_ratio"][i]["ratio"].get<double>(), r.area_ratios[i].ratio, 1e-9);
    }
  }
}

TEST_F(ErfTrackTest, ResumeAfterAKillWritesEveryStepOnce) {
  test::TempDir whole, parts;
  const Config config = Small(
      {"train.steps=9", "train.erf_every=2", "train.erf_samples=3", "train.checkpoint_every=4"});
  RunTraining(config, Quiet(whole.path()));
  RunOptions stop = Quiet(parts.path());
  stop.stop_at_step = 5;  // checkpoint at 5, snapshots 0, 2, 4
  RunTraining(config, stop);
  const RunPaths p(parts.path());
  EXPECT_EQ(Steps(p.erf_log), (std::vector<int64_t>{0, 2, 4}));
  // As if killed after the snapshot of step 6 (not checkpointed) while writing another line.
  AppendLineDurable(p.erf_log, R"({"step": 6, "radius": 99})");
  WriteFileAtomic(p.ErfMap(6), "1,2\n3,4\n");
  {
    std::ofstream partial(p.erf_log, std::ios::app);
    partial << R"({"step": 8, "rad)";
  }
  RunOptions resume = Quiet(parts.path());
  resume.resume = true;
  EXPECT_EQ(RunTraining(config, resume).status, TrainStatus::kOk);
  EXPECT_EQ(Steps(p.erf_log), (std::vector<int64_t>{0, 2, 4, 6, 8, 9}));
  const RunPaths w(whole.path());
  const auto a = Lines(w.erf_log), b = Lines(p.erf_log);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    nlohmann::json x = a[i], y = b[i];
    x.erase("seconds");
    y.erase("seconds");
    EXPECT_EQ(x, y) << i;
    const int64_t step = x["step"].get<int64_t>();
    EXPECT_EQ(ReadFile(w.ErfMap(step)), ReadFile(p.ErfMap(step))) << step;
  }
}

TEST_F(ErfTrackTest, ADivergingNetIsRecordedNotACrash) {
  // lr 1e6: the weights blow up within a few steps, long before the log line at step 100 sees the
  // loss; the snapshots in between find a gradient that is not finite and say so.
  test::TempDir dir;
  const TrainResult r = RunTraining(Small({"train.lr=1e6", "train.steps=200", "train.log_every=100",
                                           "train.erf_every=1", "train.erf_samples=2"}),
                                    Quiet(dir.path()));
  EXPECT_EQ(r.status, TrainStatus::kDiverged);
  int errors = 0;
  for (const auto& j : Lines(dir / "erf.jsonl")) {
    if (!j.contains("error")) continue;
    ++errors;
    EXPECT_NE(j["error"].get<std::string>().find("not finite"), std::string::npos) << j.dump();
    EXPECT_FALSE(j.contains("radius"));
    EXPECT_FALSE(FileExists(RunPaths(dir.path()).ErfMap(j["step"].get<int64_t>())));
  }
  EXPECT_GT(errors, 0);
  EXPECT_FALSE(Lines(dir / "erf.jsonl").front().contains("error")) << "step 0 is the fresh net";
}

TEST_F(ErfTrackTest, BadKeysNameTheKey) {
  for (const auto& [set, key] : {std::pair{"train.erf_every=-1", "train.erf_every"},
                                 std::pair{"train.erf_samples=0", "train.erf_samples"}}) {
    try {
      TrainOptions::FromConfig(Small({set}));
      FAIL() << set;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), key);
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  const TrainOptions defaults = TrainOptions::FromConfig(Config());
  EXPECT_FALSE(defaults.erf.enabled());
  EXPECT_EQ(defaults.erf.samples, 16);
}

TEST_F(ErfTrackTest, ARunWithoutADirectoryTakesNoSnapshots) {
  RunOptions none = Quiet("");
  EXPECT_EQ(RunTraining(Small({"train.erf_every=1"}), none).status, TrainStatus::kOk);
}

}  // namespace
}  // namespace rfx::train
