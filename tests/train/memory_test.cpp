#include "rfx/train/memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <string>

#include "rfx/train/train.h"
#include "seeded_test.h"

namespace rfx::train {
namespace {

class MemoryTest : public test::SeededTest {};

nn::NetOptions Fcn(int depth, int width, const std::string& skip = "input") {
  nn::NetOptions n;
  n.depth = depth, n.width = width, n.skip = nn::ParseSkipKind(skip);
  return n;
}

data::DatasetOptions Canvas(int size) {
  data::DatasetOptions d;
  d.image_size = size;
  d.distance = 7;
  return d;
}

// A line of /proc/self/status in bytes ("VmHWM", "VmRSS").
double StatusBytes(const std::string& name) {
  std::ifstream f("/proc/self/status");
  std::string key;
  double kb = -1;
  std::string rest;
  while (f >> key) {
    if (key == name + ":") {
      f >> kb;
      return kb * 1024;
    }
    std::getline(f, rest);
  }
  return -1;
}

TEST_F(MemoryTest, ParameterBytesCountTheRealNetsParametersTimesFour) {
  // Weights, gradients and Adam's two moments: 16 bytes per parameter.
  for (const std::string skip : {"none", "residual"}) {
    const nn::NetOptions n = Fcn(6, 12, skip);
    EXPECT_EQ(EstimateTrainingBytes(n, Canvas(64), 1).parameter_bytes,
              16 * nn::CountParameters(*nn::BuildNet(n)))
        << skip;
  }
  const nn::NetOptions in = Fcn(6, 12, "input");  // the skip chain is bounded from above
  const int64_t real = 16 * nn::CountParameters(*nn::BuildNet(in));
  EXPECT_GE(EstimateTrainingBytes(in, Canvas(64), 1).parameter_bytes, real);
  EXPECT_LE(EstimateTrainingBytes(in, Canvas(64), 1).parameter_bytes, real * 11 / 10);
  nn::NetOptions r;
  r.arch = nn::NetArch::kFcnResNet50;
  EXPECT_EQ(EstimateTrainingBytes(r, Canvas(64), 1).parameter_bytes,
            16 * nn::CountParameters(*nn::BuildNet(r)));
}

TEST_F(MemoryTest, EstimateMatchesThePeakOfARealTraining) {
  // Peak RSS growth of a short in-process training against the estimate without the runtime
  // (already loaded here). Writing 5 to clear_refs resets the peak (VmHWM), Linux >= 4.0.
  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";
  }
  const double before = StatusBytes("VmRSS");
  if (before <= 0 || StatusBytes("VmHWM") > before * 1.05) {
    GTEST_SKIP() << "cannot reset the peak RSS here (/proc/self/clear_refs)";
  }
  const Config config =
      Config::Load("", {"net.depth=8", "dataset.image_size=128", "train.batch_size=16",
                        "train.steps=2", "train.eval_samples=1", "train.device=cpu",
                        "train.threads=1", "dataset.threads=1", "train.checkpoint_every=0"});
  RunOptions quiet;
  quiet.progress = false;
  ASSERT_EQ(RunTraining(config, quiet).status, TrainStatus::kOk);
  const double grown = StatusBytes("VmHWM") - before;
  const MemoryEstimate e = EstimateTrainingBytes(nn::NetOptions::FromConfig(config),
                                                 data::DatasetOptions::FromConfig(config), 16);
  const double estimated = static_cast<double>(e.bytes - e.runtime_bytes);
  // About 200 MB here; the model was fitted within 3% on separate processes.
  EXPECT_GT(grown, 0.75 * estimated) << grown << " vs " << estimated;
  EXPECT_LT(grown, 1.25 * estimated) << grown << " vs " << estimated;
}

TEST_F(MemoryTest, ActivationsScaleWithBatchDepthWidthAndArea) {
  const int64_t base = EstimateTrainingBytes(Fcn(16, 16), Canvas(128), 8).activation_bytes;
  EXPECT_NEAR(EstimateTrainingBytes(Fcn(16, 16), Canvas(128), 16).activation_bytes, 2.0 * base, 2);
  EXPECT_NEAR(EstimateTrainingBytes(Fcn(16, 32), Canvas(128), 8).activation_bytes, 2.0 * base, 2);
  EXPECT_NEAR(EstimateTrainingBytes(Fcn(16, 16), Canvas(256), 8).activation_bytes, 4.0 * base, 4);
  EXPECT_GT(EstimateTrainingBytes(Fcn(32, 16), Canvas(128), 8).activation_bytes, 19 * base / 10);
  // The paper's net: 8·16·128²·4 bytes per map, 16 layers + 4 skips·0.8 + 1.
  EXPECT_NEAR(base, 8.0 * 16 * 128 * 128 * 4 * 20.2, 1);
}

TEST_F(MemoryTest, LayerListsAreEstimatedFromTheirShapes) {
  // The paper's fcn with skip none as a layer list: 15 convs 1|16→16 with a relu each, 16→2.
  std::string list = "[{conv: {out: 16, k: 3, p: same}}, relu";
  for (int i = 1; i < 15; ++i) list += ", {conv: {out: 16, k: 3, p: same}}, relu";
  list += ", {conv: {k: 3, p: same}}]";
  nn::NetOptions layers;
  layers.arch = nn::NetArch::kLayers;
  layers.layers = nn::ParseLayerList(YAML::Load(list), "net.layers");
  const MemoryEstimate e = EstimateTrainingBytes(layers, Canvas(128), 8);
  // Per sample and pixel: the input 1, 15 conv and 15 relu maps of 16, the output 2, plus two
  // of the largest map (16): 515 floats.
  EXPECT_EQ(e.activation_bytes, 8LL * 4 * 515 * 128 * 128);
  EXPECT_EQ(e.parameter_bytes, (160 + 14 * 2320 + 290) * 16);
  // An upper bound of the fitted model of the same net.
  const MemoryEstimate fcn = EstimateTrainingBytes(Fcn(16, 16, "none"), Canvas(128), 8);
  EXPECT_EQ(e.parameter_bytes, fcn.parameter_bytes);
  EXPECT_GT(e.activation_bytes, fcn.activation_bytes);
  EXPECT_LT(e.activation_bytes, 2 * fcn.activation_bytes);
}

TEST_F(MemoryTest, DominantKeyIsTheOneFarthestAboveItsDefault) {
  EXPECT_EQ(EstimateTrainingBytes(Fcn(16, 16), Canvas(128), 100000000).dominant_key,
            "train.batch_size");
  EXPECT_EQ(EstimateTrainingBytes(Fcn(16, 16), Canvas(128), 100000000).dominant_value, 100000000);
  EXPECT_EQ(EstimateTrainingBytes(Fcn(4096, 16), Canvas(128), 8).dominant_key, "net.depth");
  EXPECT_EQ(EstimateTrainingBytes(Fcn(16, 4096), Canvas(128), 8).dominant_key, "net.width");
  const MemoryEstimate big = EstimateTrainingBytes(Fcn(16, 16), Canvas(4096), 16);
  EXPECT_EQ(big.dominant_key, "dataset.image_size");
  EXPECT_EQ(big.dominant_value, 4096);
  EXPECT_EQ(EstimateTrainingBytes(Fcn(4, 8), Canvas(32), 2).dominant_key, "train.batch_size");
}

TEST_F(MemoryTest, HugeConfigsSaturateInsteadOfWrapping) {
  const MemoryEstimate e =
      EstimateTrainingBytes(Fcn(4096, 4096), Canvas(4096), std::numeric_limits<int>::max(), 64);
  EXPECT_EQ(e.bytes, std::numeric_limits<int64_t>::max());
  EXPECT_GT(e.activation_bytes, 0);
}

TEST_F(MemoryTest, AvailableRamIsPositiveAndAtMostPhysicalRam) {
  const AvailableMemory m = AvailableBytes(c10::Device(c10::kCPU));
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  EXPECT_GT(m.bytes, 0);
  EXPECT_LE(static_cast<double>(m.bytes), physical);
  EXPECT_FALSE(m.source.empty());
}

TEST_F(MemoryTest, CheckFitsInMemoryNamesTheKeyValueAndBothAmounts) {
  EXPECT_NO_THROW(CheckFitsInMemory(Config(), c10::Device(c10::kCPU)));
  const Config config = Config::Load("", {"train.batch_size=100000000"});
  try {
    CheckFitsInMemory(config, c10::Device(c10::kCPU));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.key(), "train.batch_size");
    EXPECT_EQ(e.where(), "--set");
    EXPECT_NE(m.find("value 100000000 needs about"), std::string::npos) << m;
    EXPECT_NE(m.find("TiB"), std::string::npos) << m;
    EXPECT_NE(m.find("is available RAM"), std::string::npos) << m;
  }
  const Config deep = Config::Load("", {"net.depth=4096", "dataset.image_size=1024"});
  EXPECT_THROW(CheckFitsInMemory(deep, c10::Device(c10::kCPU)), ConfigError);
}

TEST(FormatBytesTest, UsesBinaryUnits) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(184e6), "175 MiB");
  EXPECT_EQ(FormatBytes(3.5 * 1024 * 1024 * 1024), "3.5 GiB");
}

}  // namespace
}  // namespace rfx::train
