// Training on a CUDA device: a short run, and a checkpoint moved GPU -> CPU -> GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cuda_test.h"
#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/train/train.h"
#include "rfx/util/files.h"

namespace rfx {
namespace {

using test::TinyRunSets;

train::RunOptions Quiet(const std::string& out_dir) {
  train::RunOptions run;
  run.out_dir = out_dir;
  run.progress = false;
  return run;
}

// The parameters of the net a run saved, on the CPU, flattened.
at::Tensor SavedWeights(const std::string& dir) {
  nn::LoadedRun run = nn::LoadRun(dir, c10::Device(c10::kCPU));
  std::vector<at::Tensor> flat;
  for (const auto& p : run.net->parameters()) flat.push_back(p.detach().flatten());
  return at::cat(flat);
}

class TrainCudaTest : public test::CudaTest {};

TEST_F(TrainCudaTest, FiftyStepsOnTheGpuAreOk) {
  test::TempDir dir;
  const Config c = Config::Load("", TinyRunSets("cuda", 50));
  const train::TrainResult r = train::RunTraining(c, Quiet(dir / "run"));
  EXPECT_EQ(r.status, train::TrainStatus::kOk) << r.message;
  EXPECT_EQ(r.steps, 50);
  EXPECT_EQ(r.device, "cuda:0");
  EXPECT_TRUE(std::isfinite(r.loss));
  EXPECT_GE(r.accuracy, 0.0);
  EXPECT_LE(r.accuracy, 1.0);
  ASSERT_TRUE(FileExists(dir / "run/model.pt"));
  const nlohmann::json stored = nlohmann::json::parse(ReadFile(dir / "run/result.json"));
  EXPECT_EQ(stored["status"], "ok");
  EXPECT_EQ(stored["device"], "cuda:0");
  // It learns: the last logged loss is below the first (steps 10 and 50 of Adam on MSE).
  const auto lines = ReadCompleteLines(dir / "run/metrics.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  const double first = nlohmann::json::parse(lines.front())["loss"].get<double>();
  const double last = nlohmann::json::parse(lines.back())["loss"].get<double>();
  EXPECT_LT(last, first) << "losses " << first << " -> " << last;
}

// A checkpoint written on the GPU continues on the CPU, and the CPU's on the GPU (the resume
// check ignores train.device); the run ends close to an all-CPU one of the same config (same
// initial weights, same samples; only float rounding differs between the devices).
TEST_F(TrainCudaTest, CheckpointMovesBetweenGpuAndCpu) {
  test::NoTf32 exact_convs;
  test::TempDir dir;
  const int steps = 60;
  const Config cpu = Config::Load("", TinyRunSets("cpu", steps));
  const Config gpu = Config::Load("", TinyRunSets("cuda", steps));
  const train::TrainResult ref = train::RunTraining(cpu, Quiet(dir / "cpu"));
  ASSERT_EQ(ref.status, train::TrainStatus::kOk) << ref.message;

  const std::string mixed = dir / "mixed";
  train::RunOptions run = Quiet(mixed);
  run.stop_at_step = 20;
  train::TrainResult r = train::RunTraining(gpu, run);  // steps 0..19 on the GPU
  ASSERT_EQ(r.status, train::TrainStatus::kFailed) << "a stop reports failed with how to resume";
  ASSERT_EQ(r.steps, 20);
  ASSERT_EQ(r.device, "cuda:0");
  run.resume = true;
  run.stop_at_step = 40;
  r = train::RunTraining(cpu, run);  // 20..39 on the CPU
  ASSERT_EQ(r.steps, 40) << r.message;
  ASSERT_EQ(r.device, "cpu");
  run.stop_at_step = 0;
  r = train::RunTraining(gpu, run);  // 40..59 on the GPU
  ASSERT_EQ(r.status, train::TrainStatus::kOk) << r.message;
  EXPECT_EQ(r.steps, steps);
  EXPECT_EQ(r.device, "cuda:0");

  EXPECT_NEAR(r.loss, ref.loss, 0.02 * ref.loss) << "mixed " << r.loss << ", cpu " << ref.loss;
  EXPECT_NEAR(r.accuracy, ref.accuracy, 0.1);
  const at::Tensor a = SavedWeights(mixed), b = SavedWeights(dir / "cpu");
  ASSERT_EQ(a.numel(), b.numel());
  const double rel = (a - b).norm().item<double>() / b.norm().item<double>();
  EXPECT_LT(rel, 1e-2) << "relative L2 distance of the final weights";
  // The metrics of all three legs are one log, without repeats.
  const auto lines = ReadCompleteLines(mixed + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(nlohmann::json::parse(lines[i])["step"].get<int>(), 10 * static_cast<int>(i + 1));
  }
}

}  // namespace
}  // namespace rfx
