// End-to-end: `rfx train` and `rfx bench train` as a user runs them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_util.h"

namespace rfx {
namespace {

const std::string kExe = rfx::test::RfxExe();
const std::string& kTiny = test::kTinyTrain;
using test::Slurp;

TEST(TrainCli, WritesARunAndRefusesToOverwriteIt) {
  test::TempDir dir;
  const std::string out = dir / "run";
  auto r = test::RunCommand(kExe + " train" + kTiny + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto printed = nlohmann::json::parse(r.out);
  EXPECT_EQ(printed["status"], "ok");
  const auto result = nlohmann::json::parse(Slurp(out + "/result.json"));
  EXPECT_EQ(result["status"], "ok");
  EXPECT_EQ(result["steps"], 12);
  EXPECT_EQ(result["device"], "cpu");
  EXPECT_GE(result["accuracy"].get<double>(), 0.0);
  EXPECT_LE(result["accuracy"].get<double>(), 1.0);
  EXPECT_NE(Slurp(out + "/config.yaml").find("image_size: 32"), std::string::npos);
  EXPECT_EQ(test::RunCommand("wc -l < " + out + "/metrics.jsonl").out, "3\n");
  EXPECT_FALSE(Slurp(out + "/model.pt").empty());
  // Not a TTY: no progress bar redraws in the log.
  EXPECT_EQ(r.err.find('\r'), std::string::npos);

  r = test::RunCommand(kExe + " train" + kTiny + " --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  r = test::RunCommand(kExe + " train" + kTiny + " --out " + out + " --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = test::RunCommand(kExe + " train" + kTiny + " --out " + out + " --force --resume");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(TrainCli, BadKeysValuesAndDevicesExitTwoNamingTheKey) {
  test::TempDir dir;
  for (const std::string set :
       {"net.depht=3", "train.steps=0", "train.lr=fast", "net.activation=swish",
        "train.device=cuda:7", "init.scheme=kaiming"}) {
    const auto r =
        test::RunCommand(kExe + " train" + kTiny + " --set " + set + " --out " + dir / "x");
    EXPECT_EQ(r.exit_code, 2) << set << ": " << r.err;
    const std::string key = set.substr(0, set.find('='));
    EXPECT_NE(r.err.find(key), std::string::npos) << set << ": " << r.err;
  }
  const auto r = test::RunCommand(kExe + " train" + kTiny);  // no --out
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}

// net.arch layers end to end: the list in a config file trains, `rfx theory` reads the same
// list, and a list that does not return the е/ё task's shape exits 2 naming net.layers.
TEST(TrainCli, ALayerListNetTrainsAndTheoryReadsTheSameList) {
  test::TempDir dir;
  {
    std::ofstream f(dir / "unet.yaml");
    f << "net:\n  arch: layers\n  layers:\n"
         "    - {conv: {out: 8, k: 3, p: same}}\n    - relu\n"
         "    - concat:\n        body:\n          - {maxpool: {k: 2}}\n"
         "          - {conv: {out: 16, k: 3, p: same}}\n          - relu\n"
         "          - {upsample: {factor: 2, mode: bilinear}}\n"
         "    - {conv: {k: [3, 5], p: same}}\n";
  }
  const std::string config = " --config " + dir / "unet.yaml";
  auto r = test::RunCommand(kExe + " train" + kTiny + config + " --out " + dir / "run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "ok");
  r = test::RunCommand(kExe + " theory" + config + " --input 32 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // conv r 3; pool r 4, j 2; conv r 8; bilinear x2 reads a neighbour: r 10, j 1; concat r 10;
  // the last conv 3×5 adds 2 and 4: 12 × 14.
  EXPECT_EQ(nlohmann::json::parse(r.out)["rf"], nlohmann::json::array({12, 14}));
  r = test::RunCommand(kExe + " train" + kTiny + config +
                       " --set 'net.layers=[{conv: {out: 3, k: 3, p: same}}]' --out " +
                       dir / "bad");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("config key 'net.layers' (--set): net.layers returns [1, 3, 32, 32] for a "
                       "[1, 1, 32, 32] input; the е/ё task needs [1, 2, 32, 32]"),
            std::string::npos)
      << r.err;
}

TEST(TrainCli, SigintCheckpointsAndResumeContinues) {
  test::TempDir dir;
  const std::string out = dir / "run";
  const std::string long_run = kTiny + " --set train.steps=100000 --set train.log_every=10";
  auto r = test::RunCommand("timeout --preserve-status -s INT 5 " + kExe + " train" + long_run +
                            " --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  auto result = nlohmann::json::parse(Slurp(out + "/result.json"));
  EXPECT_EQ(result["status"], "failed");
  const int64_t stopped = result["steps"].get<int64_t>();
  EXPECT_GT(stopped, 0);
  EXPECT_LT(stopped, 100000);
  // An unfinished run is not silently redone.
  r = test::RunCommand(kExe + " train" + long_run + " --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  // Resume it for 5 more steps.
  r = test::RunCommand(kExe + " train" + long_run + " --out " + out + " --resume --stop-at " +
                       std::to_string(stopped + 5));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  result = nlohmann::json::parse(Slurp(out + "/result.json"));
  EXPECT_EQ(result["steps"].get<int64_t>(), stopped + 5);
}

// Regression: `--stop-at ''` read as 0 and `--stop-at 1.5` said only "Could not convert".
TEST(TrainCli, StopAtSaysWhatIsAllowed) {
  test::TempDir dir;
  for (const char* text : {"''", "1.5", "0", "x"}) {
    const auto r =
        test::RunCommand(kExe + " train" + kTiny + " --stop-at " + text + " --out " + dir / "run");
    EXPECT_EQ(r.exit_code, 2) << text << "\n" << r.err;
    EXPECT_NE(r.err.find("allowed: an integer 1..9223372036854775807"), std::string::npos)
        << text << "\n"
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "run")) << text;
  }
}

TEST(TrainCli, BenchTrainPrintsStepTimeAndRate) {
  const auto r = test::RunCommand(kExe +
                                  " bench train --depth 3 --batch 2 --size 32 --threads 1 "
                                  "--reps 3 --warmup 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["step_ms"].get<double>(), 0.0);
  EXPECT_GT(j["gflops"].get<double>(), 0.0);
  EXPECT_GT(j["conv_roofline_gflops"].get<double>(), 0.0);
  EXPECT_EQ(j["threads"], 1);
  // The plain-way baseline ran in the same process, and the ratio is theirs.
  EXPECT_GT(j["baseline_step_ms"].get<double>(), 0.0);
  EXPECT_NEAR(j["speedup"].get<double>(),
              j["baseline_step_ms"].get<double>() / j["step_ms"].get<double>(), 1e-9);
  EXPECT_EQ(j["host_allocator"], true);
  // 3 layers (1→16, 16→16, 16→2) + skips (1→2 at layer 0) at 2×32×32, forward + backward.
  const double f0 = 2.0 * 16 * 9 * 2048, f1 = 2.0 * 256 * 9 * 2048, f2 = 2.0 * 32 * 9 * 2048,
               s0 = 2.0 * 2 * 2048;
  EXPECT_NEAR(j["gflop_per_step"].get<double>(), (2 * f0 + 3 * f1 + 3 * f2 + 2 * s0) / 1e9, 1e-9);
  EXPECT_EQ(test::RunCommand(kExe + " bench train --depth 0 --json").exit_code, 2);
  // Regression: --threads 100000 started ~1000 threads and kept going; bounded as
  // train.threads is.
  const auto many = test::RunCommand(kExe +
                                     " bench train --depth 3 --batch 2 --size 32 "
                                     "--reps 1 --warmup 0 --threads 100000 --json");
  EXPECT_EQ(many.exit_code, 2) << many.err;
  EXPECT_NE(many.err.find("--threads value 100000 is out of range; allowed 0 (all CPUs) to "),
            std::string::npos)
      << many.err;
  EXPECT_EQ(test::RunCommand(kExe + " bench train --threads -1 --json").exit_code, 2);
}

}  // namespace
}  // namespace rfx
