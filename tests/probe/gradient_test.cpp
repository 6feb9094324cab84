// The gradient probe (Luo et al. 2016; docs/design.md#effective-rf-by-gradient): linear nets
// against the impulse response and box variances, the measures of RunGradient, checkpoints,
// non-finite gradients, heatmaps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "probe_fixture.h"
#include "rfx/nn/init.h"
#include "rfx/probe/probe.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::probe {
namespace {

// A small linear net (non-negative weights, zero biases, ReLU never clips non-negative input).
nn::NetPtr LinearNet(int depth, int kernel, int width, bool random_weights) {
  nn::NetOptions o;
  o.arch = nn::NetArch::kFcn;
  o.depth = depth;
  o.kernel = kernel;
  o.width = width;
  o.skip = nn::SkipKind::kNone;
  nn::NetPtr net = nn::BuildNet(o);
  nn::InitOptions init;
  init.scheme = nn::InitScheme::kConstant;
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

// A constant fcn on non-negative noise is linear, hence translation-equivariant away from the
// borders: the gradient ERF read at output pixel (10, 12) is the centre's (16, 16) map shifted
// by (−6, −4), and its measures — centred on input pixel (10, 12) — are the centre's.
TEST_F(ProbeTest, GradientAtAPositionIsTheCentreResultShifted) {
  config_.ApplySet("init.scheme=constant");
  config_.ApplySet("net.skip=none");
  config_.ApplySet("net.depth=3");
  GradientOptions o;
  o.size = 33;
  o.samples = 2;
  o.bootstrap = 20;
  const GradientResult centre = RunGradient(config_, o);
  o.position = Position{10, 12};
  const GradientResult r = RunGradient(config_, o);
  ASSERT_TRUE(r.placement.has_value());
  EXPECT_EQ(r.placement->input, (Position{10, 12}));
  const at::Tensor a =
      torch::from_blob(const_cast<double*>(centre.map.v.data()), {33, 33}, torch::kDouble);
  const at::Tensor b =
      torch::from_blob(const_cast<double*>(r.map.v.data()), {33, 33}, torch::kDouble);
  EXPECT_GT(b[10][12].item<double>(), 0);
  EXPECT_TRUE(torch::allclose(torch::roll(a, {-6, -4}, {0, 1}), b, 1e-6, 1e-9));
  EXPECT_EQ(r.radius, 4);  // depth 3: the trinomial's 3 steps, then 0
  EXPECT_EQ(r.radius, centre.radius);
  EXPECT_NEAR(r.fit.sigma_x, centre.fit.sigma_x, 1e-6);
  EXPECT_NEAR(r.fit.sigma_y, centre.fit.sigma_y, 1e-6);
  EXPECT_NEAR(r.fit.mean_x, 12, 1e-6);  // float32 net
  EXPECT_NEAR(r.fit.mean_y, 10, 1e-6);
  ASSERT_EQ(r.area_ratios.size(), centre.area_ratios.size());
  for (size_t i = 0; i < r.area_ratios.size(); ++i) {
    EXPECT_DOUBLE_EQ(r.area_ratios[i].ratio, centre.area_ratios[i].ratio) << i;
  }
  ASSERT_TRUE(r.extents.has_value());
  EXPECT_EQ(r.extents->up.radius, 4);
  EXPECT_FALSE(r.extents->left.clipped);
  EXPECT_EQ(r.ToJson()["input_position"], nlohmann::json::array({10, 12}));
  // Near the border the ray toward it is clipped: rows 1, 0.
  o.position = Position{1, 16};
  const GradientResult edge = RunGradient(config_, o);
  EXPECT_EQ(edge.extents->up.radius, 2);
  EXPECT_TRUE(edge.extents->up.clipped);
  EXPECT_EQ(edge.extents->down.radius, 4);
  o.replknet = true;
  EXPECT_THROW(RunGradient(config_, o), UsageError);
}

// Regression: --samples 0 means the default (16, or every image) while the message said
// "allowed: 1 … 1000000".
TEST(GradientOptionsTest, TheSamplesMessageNamesZero) {
  GradientOptions o;
  o.samples = -1;
  try {
    o.validate();
    ADD_FAILURE() << "--samples -1 accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("allowed: 1 … 1000000, or 0 for the default (16"),
              std::string::npos)
        << e.what();
  }
  o.samples = 0;
  EXPECT_NO_THROW(o.validate());
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
