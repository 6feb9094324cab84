#include "rfx/probe/probe.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <opencv2/imgcodecs.hpp>

#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "seeded_test.h"

namespace rfx::probe {
namespace {

class ProbeTest : public test::SeededTest {
 protected:
  void SetUp() override {
    test::SeededTest::SetUp();
    config_.ApplySet("train.device=cpu");
    config_.ApplySet("train.threads=2");
  }
  Config config_;
};

// The 1-D n-fold convolution of [1, 1, 1], from its centre outward.
std::vector<double> Trinomial(int n) {
  std::vector<double> f = {1.0};
  for (int i = 0; i < n; ++i) {
    std::vector<double> g(f.size() + 2, 0.0);
    for (size_t j = 0; j < f.size(); ++j)
      for (int t = 0; t < 3; ++t) g[j + t] += f[j];
    f = g;
  }
  return std::vector<double>(f.begin() + n, f.end());
}

TEST(ParseDepthsTest, ListsAndRanges) {
  EXPECT_EQ(ParseDepths("3,1, 2,3"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ParseDepths("2:5"), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(ParseDepths("4:16:4"), (std::vector<int>{4, 8, 12, 16}));
  EXPECT_THROW(ParseDepths("0:3"), UsageError);
  EXPECT_THROW(ParseDepths("5:3"), UsageError);
  EXPECT_THROW(ParseDepths("a,b"), UsageError);
  try {
    ParseDepths("1:x");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--depths"), std::string::npos);
  }
}

TEST_F(ProbeTest, ConstantFcnProfileIsTheTrinomialRow) {
  config_.ApplySet("net.skip=none");
  config_.ApplySet("init.scheme=constant");
  ForwardOptions o;
  o.size = 21;
  o.depths = {1, 2, 3, 4};
  o.level = 0.2;
  const ForwardResult r = RunForward(config_, o);
  EXPECT_EQ(r.method, "incremental");
  ASSERT_EQ(r.depths.size(), 4u);
  for (const auto& d : r.depths) {
    SCOPED_TRACE(d.depth);
    const std::vector<double> f = Trinomial(d.depth);
    ASSERT_EQ(d.profile.size(), 11u);
    for (size_t i = 0; i < d.profile.size(); ++i) {
      const double want = i < f.size() ? f[i] / f[0] : 0.0;
      EXPECT_NEAR(d.profile[i], want, 1e-5) << "distance " << i;
    }
  }
  // Depth 3: 7, 6, 3, 1 → 1, 0.857, 0.429, 0.143: first below 0.2 at distance 3.
  EXPECT_EQ(r.depths[2].radius, 3);
  // Depth 1: 1, 1, 0 → radius 2 = the field's edge + 1.
  EXPECT_EQ(r.depths[0].radius, 2);
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["radii"][2]["depth"].get<int>(), 3);
  EXPECT_EQ(j["radii"][2]["radius"].get<int>(), 3);
}

TEST_F(ProbeTest, IncrementalScanEqualsAFreshNetPerDepth) {
  config_.ApplySet("net.skip=input");  // zero skip weights under constant
  config_.ApplySet("init.scheme=constant");
  config_.ApplySet("net.width=4");
  // Sizes where the scan's computed region stays inside the map (41, kernel 3) and where it
  // reaches the border (15 and 23 with kernel 5), so both kinds of region edges are exercised.
  for (const auto& [size, kernel] : std::vector<std::pair<int, int>>{{41, 3}, {15, 3}, {23, 5}}) {
    SCOPED_TRACE("size " + std::to_string(size) + " kernel " + std::to_string(kernel));
    config_.ApplySet("net.kernel=" + std::to_string(kernel));
    ForwardOptions o;
    o.size = size;
    o.depths = ParseDepths("1:9");
    const ForwardResult inc = RunForward(config_, o);
    o.incremental = false;
    const ForwardResult fresh = RunForward(config_, o);
    EXPECT_EQ(inc.method, "incremental");
    EXPECT_EQ(fresh.method, "fresh");
    ASSERT_EQ(inc.depths.size(), 9u);
    ASSERT_EQ(fresh.depths.size(), 9u);
    for (size_t k = 0; k < 9; ++k) {
      EXPECT_EQ(inc.depths[k].depth, fresh.depths[k].depth);
      EXPECT_EQ(inc.depths[k].radius, fresh.depths[k].radius);
      ASSERT_EQ(inc.depths[k].profile.size(), fresh.depths[k].profile.size());
      for (size_t i = 0; i < inc.depths[k].profile.size(); ++i) {
        EXPECT_NEAR(inc.depths[k].profile[i], fresh.depths[k].profile[i], 1e-6);
      }
    }
    // The radius grows with depth at the default level (√N-like, not linear).
    EXPECT_LT(inc.depths[0].radius, inc.depths[8].radius);
  }
}

TEST_F(ProbeTest, XavierScanIsExactWhicheverMethod) {
  config_.ApplySet("net.skip=none");
  config_.ApplySet("init.scheme=xavier");
  config_.ApplySet("net.width=4");
  ForwardOptions o;
  o.size = 25;
  o.depths = {1, 3, 5};
  const ForwardResult inc = RunForward(config_, o);
  o.incremental = false;
  const ForwardResult fresh = RunForward(config_, o);
  for (size_t k = 0; k < 3; ++k) {
    for (size_t i = 0; i < inc.depths[k].profile.size(); ++i) {
      EXPECT_NEAR(inc.depths[k].profile[i], fresh.depths[k].profile[i], 1e-5) << inc.method;
    }
  }
}

TEST_F(ProbeTest, DepthDependentSchemesFallBackToFreshNets) {
  config_.ApplySet("net.skip=none");
  config_.ApplySet("init.scheme=decomposed");
  config_.ApplySet("net.width=2");
  ForwardOptions o;
  o.size = 25;
  o.depths = {2, 3};
  o.dtype = "float64";
  ForwardResult r = RunForward(config_, o);
  EXPECT_EQ(r.method, "fresh");
  EXPECT_NE(r.method_note.find("decomposed"), std::string::npos) << r.method_note;
  EXPECT_EQ(r.dtype, "float64");

  config_.ApplySet("init.scheme=constant");
  config_.ApplySet("net.skip=residual");
  r = RunForward(config_, o);
  EXPECT_EQ(r.method, "fresh");
  EXPECT_NE(r.method_note.find("residual"), std::string::npos);
}

TEST_F(ProbeTest, LinearDecomposedNetIsAFlatBoxInFloat64) {
  config_.ApplySet("net.skip=none");
  config_.ApplySet("init.scheme=decomposed");
  config_.ApplySet("net.width=2");
  ForwardOptions o;
  o.size = 31;
  o.depths = {3, 6};
  o.dtype = "float64";
  o.linear = true;
  const ForwardResult r = RunForward(config_, o);
  EXPECT_TRUE(r.linear);
  for (const auto& d : r.depths) {
    SCOPED_TRACE(d.depth);
    // N layers compose to the all-ones (2N+1)² box: flat out to N, zero beyond.
    for (int i = 0; i <= d.depth; ++i) EXPECT_NEAR(d.profile[i], 1.0, 1e-9) << i;
    for (size_t i = d.depth + 1; i < d.profile.size(); ++i) EXPECT_NEAR(d.profile[i], 0.0, 1e-9);
    EXPECT_EQ(d.radius, d.depth + 1);
  }
  config_.ApplySet("net.arch=fcn_resnet50");
  o.depths = {};
  EXPECT_THROW(RunForward(config_, o), UsageError);
}

TEST_F(ProbeTest, FcnResNet50ForwardInEvalMode) {
  config_.ApplySet("net.arch=fcn_resnet50");
  config_.ApplySet("init.scheme=constant");
  ForwardOptions o;
  o.size = 40;
  const ForwardResult r = RunForward(config_, o);
  EXPECT_EQ(r.method, "single");
  ASSERT_EQ(r.depths.size(), 1u);
  // Output stride 8 with bilinear upsampling: the response is smooth and wide, the profile
  // still non-trivial at a few pixels.
  EXPECT_GT(r.depths[0].radius, 4);
  EXPECT_DOUBLE_EQ(r.depths[0].profile[0] > 0 ? 1.0 : 0.0, 1.0);
  o.depths = {2, 3};
  EXPECT_THROW(RunForward(config_, o), UsageError);
}

// net.arch layers: one net ("single"); 3 constant 3×3 convs are the fcn's depth-3 trinomial row.
TEST_F(ProbeTest, ALayerListOfConstantConvsHasTheFcnsProfile) {
  config_.ApplySet("net.arch=layers");
  config_.ApplySet("dataset.image_size=21");
  config_.ApplySet(
      "net.layers=[{conv: {out: 4, k: 3, p: same}}, relu, {conv: {out: 4, k: 3, p: same}}, relu,"
      " {conv: {k: 3, p: same}}]");
  config_.ApplySet("init.scheme=constant");
  ForwardOptions o;
  o.size = 21;
  o.level = 0.2;
  const ForwardResult r = RunForward(config_, o);
  EXPECT_EQ(r.method, "single");
  EXPECT_EQ(r.arch, "layers");
  ASSERT_EQ(r.depths.size(), 1u);
  EXPECT_EQ(r.depths[0].depth, 3);  // the list's convs
  const std::vector<double> f = Trinomial(3);
  ASSERT_EQ(r.depths[0].profile.size(), 11u);
  for (size_t i = 0; i < r.depths[0].profile.size(); ++i) {
    EXPECT_NEAR(r.depths[0].profile[i], i < f.size() ? f[i] / f[0] : 0.0, 1e-5) << i;
  }
  EXPECT_EQ(r.depths[0].radius, 3);  // 7, 6, 3, 1: first below 0.2 at 3, as the fcn's
  o.depths = {2, 3};
  EXPECT_THROW(RunForward(config_, o), UsageError);
}

// A tiny net with BatchNorm and dropout, to check the --bn modes without a ResNet.
class BnNet : public nn::Net {
 public:
  BnNet() {
    bn = register_module("bn", torch::nn::BatchNorm2d(1));
    drop = register_module("drop", torch::nn::Dropout(0.5));
  }
  at::Tensor forward(const at::Tensor& x) override { return drop->forward(bn->forward(x)); }
  const nn::NetOptions& options() const override { return options_; }
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Dropout drop{nullptr};
  nn::NetOptions options_;
};

TEST_F(ProbeTest, BnTrainModeUsesBatchStatisticsAndKeepsDropoutOff) {
  BnNet net;
  SetBnMode(net, "eval");
  EXPECT_FALSE(net.bn->is_training());
  EXPECT_FALSE(net.drop->is_training());
  SetBnMode(net, "train");
  EXPECT_TRUE(net.bn->is_training());
  EXPECT_FALSE(net.drop->is_training());
  // Batch statistics: a constant-plus-impulse input is normalised to zero mean.
  at::Tensor x = torch::full({1, 1, 5, 5}, 3.0);
  x[0][0][2][2] = 4.0;
  const at::Tensor y = net.forward(x);
  EXPECT_NEAR(y.mean().item<double>(), 0.0, 1e-5);
  EXPECT_THROW(SetBnMode(net, "batch"), UsageError);
}

// A small linear net (non-negative weights, zero biases, ReLU never clips non-negative input).
nn::NetPtr LinearNet(int depth, int kernel, int width, bool random_weights) {
  nn::NetOptions o;
  o.arch = "fcn";
  o.depth = depth;
  o.kernel = kernel;
  o.width = width;
  o.skip = nn::SkipKind::kNone;
  nn::NetPtr net = nn::BuildNet(o);
  nn::InitOptions init;
  init.scheme = "constant";
  nn::InitNet(*net, init, 0);
  if (random_weights) {
    torch::NoGradGuard g;
    for (auto& p : net->named_parameters()) {
      if (p.key().find("weight") != std::string::npos) p.value().uniform_(0.0, 0.1);
    }
  }
  net->eval();
  return net;
}

TEST_F(ProbeTest, GradientOfALinearNetIsTheFlippedForwardResponse) {
  nn::NetPtr net = LinearNet(3, 3, 3, /*random_weights=*/true);
  const int s = 15, c = s / 2;
  const Map forward = ImpulseResponse(*net, s, 0, torch::kCPU, torch::kFloat);
  const at::Tensor inputs = torch::rand({2, 1, s, s});
  const Map grad = GradientMap(*net, inputs, 0, "abs");
  double peak = 0;
  for (double v : forward.v) peak = std::max(peak, v);
  ASSERT_GT(peak, 0);
  int asymmetric = 0;
  for (int y = 0; y < s; ++y) {
    for (int x = 0; x < s; ++x) {
      // Two samples of a linear net: twice the same gradient.
      EXPECT_NEAR(grad.at(y, x) / 2, forward.at(2 * c - y, 2 * c - x), 1e-5 * peak)
          << y << "," << x;
      if (std::abs(forward.at(y, x) - forward.at(2 * c - y, 2 * c - x)) > 1e-3 * peak) {
        ++asymmetric;
      }
    }
  }
  EXPECT_GT(asymmetric, 10);  // random kernels: the flip matters
}

TEST_F(ProbeTest, UniformKernelsGiveBoxConvolutionVariance) {
  struct Case {
    int n, k;
  };
  for (const Case cs : {Case{4, 5}, Case{6, 3}, Case{3, 7}}) {
    SCOPED_TRACE(std::to_string(cs.n) + " layers of " + std::to_string(cs.k));
    nn::NetPtr net = LinearNet(cs.n, cs.k, 2, /*random_weights=*/false);
    const int s = cs.n * (cs.k - 1) + 9;
    const Map g = GradientMap(*net, torch::rand({1, 1, s, s}), 0, "abs");
    const GaussianFit f = FitGaussian(g);
    const double want = cs.n * (cs.k * cs.k - 1) / 12.0;
    EXPECT_NEAR(f.sigma_x * f.sigma_x, want, 0.01 * want);
    EXPECT_NEAR(f.sigma_y * f.sigma_y, want, 0.01 * want);
    EXPECT_NEAR(f.mean_x, s / 2, 1e-6);
  }
}

TEST_F(ProbeTest, RunGradientReportsItsMeasures) {
  config_.ApplySet("net.depth=4");
  config_.ApplySet("net.width=4");
  config_.ApplySet("net.skip=none");
  config_.ApplySet("dataset.image_size=32");
  GradientOptions o;
  o.samples = 4;
  o.batch = 3;
  const GradientResult r = RunGradient(config_, o);
  EXPECT_EQ(r.map.h, 32);
  EXPECT_EQ(r.map.w, 32);
  EXPECT_EQ(r.agg, "abs");
  EXPECT_EQ(r.scale, "none");
  EXPECT_EQ(r.samples, 4);
  ASSERT_EQ(r.area_ratios.size(), 4u);
  for (size_t i = 1; i < r.area_ratios.size(); ++i) {
    EXPECT_LE(r.area_ratios[i - 1].ratio, r.area_ratios[i].ratio);
  }
  // Depth 4, kernel 3: nothing outside the 9×9 field, so even t = 0.99 fits in it.
  EXPECT_LE(r.area_ratios.back().ratio, 81.0 / 1024 + 1e-12);
  EXPECT_GT(r.fit.sigma_x, 0.3);
  EXPECT_LT(r.fit.sigma_x, 4.0);
  EXPECT_LE(r.radius, 5);
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["agg"], "abs");
  EXPECT_EQ(j["area_ratio"][3]["t"].get<double>(), 0.99);

  // Log scaling flattens the map: the 50 % square can only grow.
  o.scale = "log";
  const GradientResult l = RunGradient(config_, o);
  EXPECT_EQ(l.scale, "log");
  EXPECT_GE(l.area_ratios[2].ratio, r.area_ratios[2].ratio);

  o.scale = "none";
  o.input = "task";
  o.samples = 2;
  const GradientResult t = RunGradient(config_, o);
  EXPECT_EQ(t.input, "task");
  EXPECT_EQ(t.map.h, 32);
}

TEST_F(ProbeTest, GradientOfACheckpointUsesItsWeights) {
  test::TempDir dir;
  Config run = config_;
  run.ApplySet("net.depth=3");
  run.ApplySet("net.width=3");
  run.ApplySet("net.skip=none");
  run.ApplySet("dataset.image_size=16");
  nn::NetPtr net = LinearNet(3, 3, 3, /*random_weights=*/true);
  WriteFileAtomic(dir / "config.yaml", run.Dump());
  nn::SaveNet(*net, dir / "model.pt");
  GradientOptions o;
  o.checkpoint = dir.path();
  o.samples = 1;
  const GradientResult r = RunGradient(config_, o);
  const Map want = GradientMap(*net, torch::rand({1, 1, 16, 16}), 0, "abs");
  ASSERT_EQ(r.map.v.size(), want.v.size());
  for (size_t i = 0; i < want.v.size(); ++i) EXPECT_NEAR(r.map.v[i], want.v[i], 1e-6);
  EXPECT_NE(r.source.find("checkpoint"), std::string::npos);
}

// NaN weights on hidden channel 0 of layer 2: an input that switches that channel on (a white
// image) has a NaN gradient, one that leaves it off (black: ReLU's backward zeroes it) does not.
// rfx's own modes stop at the NaN sample; --replknet skips it, as RepLKNet's script does.
TEST_F(ProbeTest, NonFiniteGradientsStopOrAreSkippedUnderReplknet) {
  test::TempDir dir;
  Config run = config_;
  run.ApplySet("net.depth=3");
  run.ApplySet("net.width=3");
  run.ApplySet("net.skip=none");
  nn::NetPtr net = LinearNet(3, 3, 3, /*random_weights=*/true);
  {
    torch::NoGradGuard g;
    auto params = net->named_parameters();
    params["convs.1.weight"].select(1, 0).fill_(std::numeric_limits<float>::quiet_NaN());
  }
  WriteFileAtomic(dir / "config.yaml", run.Dump());
  nn::SaveNet(*net, dir / "model.pt");
  MakeDirs(dir / "img");
  ASSERT_TRUE(cv::imwrite(dir / "img/a_black.png", cv::Mat(12, 12, CV_8UC1, cv::Scalar(0))));
  ASSERT_TRUE(cv::imwrite(dir / "img/b_white.png", cv::Mat(12, 12, CV_8UC1, cv::Scalar(255))));
  GradientOptions o;
  o.checkpoint = dir.path();
  o.inputs = dir / "img";
  o.size = 12;
  o.batch = 1;
  o.bootstrap = 0;
  try {
    RunGradient(config_, o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 1 is not finite"), std::string::npos) << e.what();
  }
  o.replknet = true;
  const GradientResult r = RunGradient(config_, o);
  EXPECT_EQ(r.samples, 1);
  EXPECT_EQ(r.skipped_nonfinite, 1);
  EXPECT_EQ(r.ToJson()["skipped_nonfinite"].get<int>(), 1);
  for (double v : r.map.v) EXPECT_TRUE(std::isfinite(v));
}

TEST(ProbeOptionsTest, ValidateNamesTheFlag) {
  ForwardOptions f;
  EXPECT_NO_THROW(f.validate());
  f.dtype = "half";
  try {
    f.validate();
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--dtype 'half'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("float64"), std::string::npos);
  }
  GradientOptions g;
  EXPECT_NO_THROW(g.validate());
  g.agg = "sq";
  EXPECT_THROW(g.validate(), UsageError);
  g.agg = "relu";
  g.scale = "ln";
  EXPECT_THROW(g.validate(), UsageError);
}

TEST(HeatmapTest, WritesAColourPng) {
  test::TempDir dir;
  Map m;
  m.h = m.w = 8;
  m.v.assign(64, 0.0);
  m.at(4, 4) = 1.0;
  WriteHeatmapPng(m, dir / "h.png");
  EXPECT_TRUE(FileExists(dir / "h.png"));
  EXPECT_GT(ReadFile(dir / "h.png").size(), 100u);
}

}  // namespace
}  // namespace rfx::probe
