#include "rfx/train/train.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "rfx/nn/init.h"
#include "rfx/nn/layers_net.h"
#include "rfx/train/accuracy.h"
#include "rfx/util/files.h"
#include "seeded_test.h"
#include "train_fixture.h"

namespace rfx::train {
namespace {

class TrainTest : public test::SeededTest {};

// test::SmallTraining (train_fixture.h): 32², distance 7, depth 4, 20 steps, one CPU thread.
Config Small(const std::vector<std::string>& sets) { return test::SmallTraining(sets); }

RunOptions Quiet(const std::string& dir = "") { return test::QuietRun(dir); }

std::vector<at::Tensor> Weights(const std::string& dir) {
  nn::LoadedRun run = nn::LoadRun(dir);
  std::vector<at::Tensor> w;
  for (const auto& p : run.net->parameters()) w.push_back(p.detach().clone());
  return w;
}

bool SameWeights(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

TEST_F(TrainTest, DefaultOptionsAreValidAndThePapers) {
  EXPECT_NO_THROW(TrainOptions().validate());
  const TrainOptions o = TrainOptions::FromConfig(Config());
  EXPECT_EQ(o.steps, 3000);
  EXPECT_EQ(o.batch_size, 8);
  EXPECT_DOUBLE_EQ(o.lr, 3e-4);
  EXPECT_EQ(o.eval_samples, 256);
  EXPECT_EQ(o.device, "auto");
}

TEST_F(TrainTest, BadValuesNameTheKey) {
  auto key_of = [](const std::string& set) {
    try {
      RunTraining(Small({set}), Quiet());
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--set"), std::string::npos) << e.what();
      return e.key();
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(key_of("train.steps=0"), "train.steps");
  EXPECT_EQ(key_of("train.lr=-1"), "train.lr");
  EXPECT_EQ(key_of("train.batch_size=0"), "train.batch_size");
  EXPECT_EQ(key_of("train.log_every=0"), "train.log_every");
  EXPECT_EQ(key_of("train.device=tpu"), "train.device");
  EXPECT_EQ(key_of("net.depth=0"), "net.depth");
  EXPECT_EQ(key_of("init.scheme=he"), "init.scheme");
  EXPECT_EQ(key_of("dataset.distance=2"), "dataset.distance");
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(key_of("train.device=cuda"), "train.device");
  }
}

TEST_F(TrainTest, PredictYoReadsTheDiscOfRadiusTwo) {
  at::Tensor out = torch::zeros({4, 2, 9, 10});  // centre (4, 5)
  out[0][1][4][5] = 1;                           // ё at the centre
  out[1][0][6][5] = 1;                           // е at the disc's edge (dy = 2)
  out[2][1][4][8] = 5;                           // ё outside the disc (dx = 3): ignored → tie
  out[2][0][3][4] = 0.1;                         // е inside (dx = dy = −1)
  out[3][0][2][4] = 5;                           // (dy, dx) = (−2, −1): outside; tie → ё
  const at::Tensor yo = PredictYo(out);
  EXPECT_EQ(yo[0].item<bool>(), true);
  EXPECT_EQ(yo[1].item<bool>(), false);
  EXPECT_EQ(yo[2].item<bool>(), false);
  EXPECT_EQ(yo[3].item<bool>(), true);
}

TEST_F(TrainTest, WritesTheRunDirectoryAndIsDeterministic) {
  test::TempDir a, b;
  const TrainResult ra = RunTraining(Small({}), Quiet(a.path()));
  const TrainResult rb = RunTraining(Small({}), Quiet(b.path()));
  EXPECT_EQ(ra.status, TrainStatus::kOk);
  EXPECT_EQ(ra.steps, 20);
  EXPECT_EQ(ra.device, "cpu");
  EXPECT_GT(ra.wall_s, 0);
  EXPECT_TRUE(std::isfinite(ra.loss));
  for (const char* f : {"config.yaml", "metrics.jsonl", "result.json", "model.pt"}) {
    EXPECT_TRUE(FileExists(a / f)) << f;
  }
  // The resolved config reloads to the same config.
  EXPECT_EQ(Config::Load(a / "config.yaml").Dump(), Small({}).Dump());
  const auto lines = ReadCompleteLines(a / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["step"], 5);
  EXPECT_TRUE(first.contains("loss"));
  EXPECT_TRUE(first.contains("train_accuracy"));
  const auto j = nlohmann::json::parse(ReadFile(a / "result.json"));
  for (const char* k : {"accuracy", "loss", "steps", "status", "wall_s", "device"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["loss"].get<double>(), ra.loss);
  // Same config → the same numbers, weights and metrics.
  EXPECT_EQ(ra.accuracy, rb.accuracy);
  EXPECT_EQ(ra.loss, rb.loss);
  EXPECT_EQ(ReadFile(a / "metrics.jsonl"), ReadFile(b / "metrics.jsonl"));
  EXPECT_TRUE(SameWeights(Weights(a.path()), Weights(b.path())));
  // Another seed → other weights.
  test::TempDir c;
  RunTraining(Small({"train.seed=1"}), Quiet(c.path()));
  EXPECT_FALSE(SameWeights(Weights(a.path()), Weights(c.path())));
}

TEST_F(TrainTest, InterruptedAndResumedEqualsUninterrupted) {
  test::TempDir whole, parts;
  const Config config = Small({"train.steps=30", "train.log_every=4", "train.checkpoint_every=8"});
  const TrainResult full = RunTraining(config, Quiet(whole.path()));
  RunOptions stop = Quiet(parts.path());
  stop.stop_at_step = 13;  // between checkpoints and log lines
  const TrainResult cut = RunTraining(config, stop);
  EXPECT_EQ(cut.status, TrainStatus::kFailed);
  EXPECT_EQ(cut.steps, 13);
  EXPECT_NE(cut.message.find("--resume"), std::string::npos) << cut.message;
  EXPECT_TRUE(FileExists(parts / "checkpoint.pt"));
  // Unfinished: neither a plain rerun nor silence.
  try {
    RunTraining(config, Quiet(parts.path()));
    FAIL() << "overwrote an unfinished run";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  // A different config cannot resume it.
  RunOptions resume = Quiet(parts.path());
  resume.resume = true;
  EXPECT_THROW(RunTraining(Small({"train.steps=30", "train.log_every=4", "train.checkpoint_every=8",
                                  "train.lr=0.001"}),
                           resume),
               UsageError);
  const TrainResult rest = RunTraining(config, resume);
  EXPECT_EQ(rest.status, TrainStatus::kOk);
  EXPECT_EQ(rest.steps, 30);
  EXPECT_EQ(rest.accuracy, full.accuracy);
  EXPECT_EQ(rest.loss, full.loss);
  EXPECT_EQ(ReadFile(whole / "metrics.jsonl"), ReadFile(parts / "metrics.jsonl"));
  EXPECT_TRUE(SameWeights(Weights(whole.path()), Weights(parts.path())));
  // Resuming a finished run returns it; rerunning it needs --force.
  EXPECT_EQ(RunTraining(config, resume).wall_s, rest.wall_s);
  try {
    RunTraining(config, Quiet(parts.path()));
    FAIL() << "overwrote a finished run";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  RunOptions force = Quiet(parts.path());
  force.force = true;
  EXPECT_EQ(RunTraining(config, force).status, TrainStatus::kOk);
}

// Killed after its last step (during the final evaluation, or before result.json was written):
// the resumed run trains no step, and still reports the loss and train accuracy of the last
// window logged, which only the checkpoint holds. (It reported loss null, which made a Slurm
// array cancelled at that moment differ from a local sweep.)
TEST_F(TrainTest, ResumedAfterTheLastStepReportsTheSameLoss) {
  test::TempDir dir;
  const Config config = Small({"train.steps=12", "train.log_every=4"});
  const TrainResult full = RunTraining(config, Quiet(dir.path()));
  ASSERT_EQ(full.status, TrainStatus::kOk);
  ASSERT_TRUE(std::isfinite(full.loss));
  ASSERT_TRUE(FileExists(dir / "checkpoint.pt"));
  std::filesystem::remove(dir / "result.json");
  RunOptions resume = Quiet(dir.path());
  resume.resume = true;
  const TrainResult again = RunTraining(config, resume);
  EXPECT_EQ(again.status, TrainStatus::kOk) << again.message;
  EXPECT_EQ(again.steps, 12);
  EXPECT_EQ(again.loss, full.loss);
  EXPECT_EQ(again.train_accuracy, full.train_accuracy);
  EXPECT_EQ(again.accuracy, full.accuracy);
}

TEST_F(TrainTest, DivergenceStopsWithTheStep) {
  test::TempDir dir;
  const TrainResult r = RunTraining(
      Small({"train.lr=1e6", "train.steps=200", "train.log_every=10"}), Quiet(dir.path()));
  EXPECT_EQ(r.status, TrainStatus::kDiverged);
  EXPECT_LT(r.steps, 200);
  EXPECT_GE(r.steps, 1);
  EXPECT_NE(r.message.find("step " + std::to_string(r.steps)), std::string::npos) << r.message;
  const auto j = nlohmann::json::parse(ReadFile(dir / "result.json"));
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_TRUE(j["loss"].is_null());
  // The metrics stop before the diverged window.
  for (const auto& line : ReadCompleteLines(dir / "metrics.jsonl")) {
    EXPECT_LT(nlohmann::json::parse(line)["step"].get<int64_t>(), r.steps);
  }
}

// The real thing, small, with the default optimiser (Adam, lr 3e-4): the diaeresis 7 px above
// the letter on a 32² canvas (7 is the smallest distance the dataset allows at glyph_scale 1;
// at 6 the diaeresis would touch the letter). Depth 8 (field radius 8 + the skips) learns it
// within 600 steps; depth 1 (radius 1) cannot see it and stays near chance.
//
// The drawn glyphs (full-ink 3×3 dots): with the study's (default) faint ~2×2 dots depth 8 does
// not learn distance 7 on 32² within 600 steps (accuracy 0.527 measured), and this test is about
// the trainer, not the glyphs.
TEST_F(TrainTest, LearnsWhatItsFieldCoversOnly) {
  const std::vector<std::string> sets = {"train.steps=600", "train.eval_samples=256",
                                         "train.log_every=100", "train.threads=1",
                                         "dataset.glyphs=drawn"};
  std::vector<std::string> deep = sets, shallow = sets;
  deep.push_back("net.depth=8");
  shallow.push_back("net.depth=1");
  const TrainResult d = RunTraining(Small(deep), Quiet());
  EXPECT_EQ(d.status, TrainStatus::kOk);
  EXPECT_GE(d.accuracy, 0.9);
  const TrainResult s = RunTraining(Small(shallow), Quiet());
  EXPECT_EQ(s.status, TrainStatus::kOk);
  EXPECT_LE(s.accuracy, 0.75);
  std::printf("depth 8: accuracy %.3f (%.1f s); depth 1: %.3f (%.1f s)\n", d.accuracy, d.wall_s,
              s.accuracy, s.wall_s);
}

// Early stopping (train.early_stop): the run that learns stops at its first passing check and
// says so (learned_at, early_stopped, fewer steps), and its outcome on the fresh evaluation
// samples is still "learned"; the run that cannot learn runs every step and never passes.
TEST_F(TrainTest, EarlyStoppingStopsWhatLearnsAndOnlyThat) {
  const std::vector<std::string> sets = {
      "train.steps=600",           "train.eval_samples=256",
      "train.log_every=100",       "train.threads=1",
      "train.early_stop.every=50", "dataset.glyphs=drawn"};  // as above: drawn glyphs
  std::vector<std::string> deep = sets, shallow = sets;
  deep.push_back("net.depth=8");
  shallow.push_back("net.depth=1");
  const TrainResult d = RunTraining(Small(deep), Quiet());
  EXPECT_EQ(d.status, TrainStatus::kOk);
  EXPECT_TRUE(d.early_stopped);
  EXPECT_EQ(d.learned_at, d.steps);
  EXPECT_EQ(d.steps % 50, 0);
  EXPECT_LT(d.steps, 600);
  EXPECT_GE(d.accuracy, 0.9);
  const nlohmann::json j = d.ToJson();
  EXPECT_EQ(j["learned_at"], d.steps);
  EXPECT_EQ(j["check_every"], 50);
  const TrainResult s = RunTraining(Small(shallow), Quiet());
  EXPECT_EQ(s.status, TrainStatus::kOk);
  EXPECT_FALSE(s.early_stopped);
  EXPECT_EQ(s.learned_at, -1);
  EXPECT_EQ(s.steps, 600);
  EXPECT_TRUE(s.ToJson()["learned_at"].is_null());
  std::printf("early stop: depth 8 stopped at step %lld (accuracy %.3f); depth 1 ran %lld\n",
              static_cast<long long>(d.steps), d.accuracy, static_cast<long long>(s.steps));
}

// net.arch layers through the trainer: a small U-Net (conv, maxpool, conv, upsample, concat,
// conv) trains, writes model.pt and loads back from its run directory.
TEST_F(TrainTest, ALayerListUNetTrainsAndLoadsFromItsRun) {
  const Config config =
      Small({"net.arch=layers", "train.steps=6", "train.log_every=3", "train.checkpoint_every=0",
             "net.layers=[{conv: {out: 8, k: 3, p: same}}, relu,"
             " {concat: [{maxpool: {k: 2}}, {conv: {out: 8, k: 3, p: same}}, relu,"
             " {upsample: {factor: 2, mode: bilinear}}]}, {conv: {k: 3, p: same}}]"});
  test::TempDir dir;
  const TrainResult r = RunTraining(config, Quiet(dir.path()));
  EXPECT_EQ(r.status, TrainStatus::kOk) << r.message;
  EXPECT_EQ(r.steps, 6);
  EXPECT_TRUE(std::isfinite(r.loss));
  EXPECT_EQ(Config::Load(dir / "config.yaml").Dump(), config.Dump());
  nn::LoadedRun run = nn::LoadRun(dir.path());
  ASSERT_TRUE(std::dynamic_pointer_cast<nn::LayersNetImpl>(run.net));
  EXPECT_EQ(run.net->options().layers.size(), 4u);
  // Trained: not the initial weights any more; loaded twice: the same.
  const nn::NetPtr fresh = nn::BuildNet(nn::NetOptions::FromConfig(config));
  nn::InitNet(*fresh, nn::InitOptions::FromConfig(config), 0);
  const auto trained = Weights(dir.path());
  ASSERT_EQ(trained.size(), fresh->parameters().size());
  bool moved = false;
  for (size_t i = 0; i < trained.size(); ++i) {
    moved = moved || !torch::equal(trained[i], fresh->parameters()[i]);
  }
  EXPECT_TRUE(moved);
  EXPECT_TRUE(SameWeights(trained, Weights(dir.path())));
  torch::NoGradGuard no_grad;
  EXPECT_EQ(run.net->forward(torch::rand({1, 1, 32, 32})).sizes(),
            (std::vector<int64_t>{1, 2, 32, 32}));
}

}  // namespace
}  // namespace rfx::train
