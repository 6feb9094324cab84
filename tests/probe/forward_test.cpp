// The forward-pass probe (docs/design.md#forward-pass-estimate): depth parsing, the trinomial row
// of constant nets, the incremental scan against fresh nets, fcn_resnet50, layer lists, BatchNorm
// modes, options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "probe_fixture.h"
#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
#include "rfx/probe/probe.h"
#include "rfx/util/error.h"

namespace rfx::probe {
namespace {

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

// --position near a corner of a constant fcn (linear: non-negative weights, no biases): the
// impulse goes in at the same input pixel (stride 1), the rays away from the near border give
// the centre's radius (5 at depth 4: the trinomial 19, 16, 10, 4, 1, then 0), the ray toward it
// stops at the border (rows 2, 1, 0: 3 values, clipped).
TEST_F(ProbeTest, PositionNearACornerGivesTheRadiusInsideAndTheBorderOutside) {
  config_.ApplySet("init.scheme=constant");
  config_.ApplySet("net.skip=none");
  ForwardOptions o;
  o.size = 33;
  o.dtype = "float64";
  o.depths = {2, 4};
  const ForwardResult centre = RunForward(config_, o);
  EXPECT_EQ(centre.method, "incremental");
  EXPECT_FALSE(centre.placement.has_value());
  o.position = Position{2, 20};
  const ForwardResult r = RunForward(config_, o);
  EXPECT_EQ(r.method, "fresh");
  EXPECT_NE(r.method_note.find("--position"), std::string::npos);
  ASSERT_TRUE(r.placement.has_value());
  EXPECT_EQ(r.placement->input, (Position{2, 20}));
  EXPECT_EQ(r.placement->out_h, 33);
  ASSERT_EQ(r.depths.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const int depth = o.depths[i];
    SCOPED_TRACE(depth);
    const DepthProfile& d = r.depths[i];
    ASSERT_TRUE(d.extents.has_value());
    EXPECT_EQ(d.radius, depth + 1);
    EXPECT_EQ(d.radius, centre.depths[i].radius);
    EXPECT_EQ(d.profile.size(), 13u);  // columns 20 … 32
    for (const Extent& e : {d.extents->left, d.extents->right, d.extents->down}) {
      EXPECT_EQ(e.radius, depth + 1);
      EXPECT_FALSE(e.clipped);
    }
    EXPECT_EQ(d.extents->up.radius, 3);
    EXPECT_TRUE(d.extents->up.clipped);
    // The row through the impulse is the trinomial's (the border is 2 rows away, out of reach of
    // every path that returns to row 2 in 4 steps).
    const std::vector<double> t = Trinomial(depth);
    for (size_t k = 0; k < t.size(); ++k) EXPECT_NEAR(d.profile[k], t[k] / t[0], 1e-12) << k;
  }
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["position"], nlohmann::json::array({2, 20}));
  EXPECT_EQ(j["radii"][1]["extent"]["up"]["clipped"], true);
  // Outside the output map: a UsageError naming --position, the value and the range.
  o.position = Position{33, 0};
  try {
    RunForward(config_, o);
    FAIL() << "an output pixel outside the map was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--position 33,0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ROW 0 … 32"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ParsePosition("7,0"), (Position{7, 0}));
  for (const char* bad : {"7", "7,", "-1,2", "a,b", "1,2,3"}) {
    EXPECT_THROW(ParsePosition(bad), UsageError) << bad;
  }
}

// A layer list that goes down and up (rfx's nets return the input's size): conv k3 s2 p1
// (start 0.5, jump 2), nearest ×2 (jump 1, start 0.5 + (0.25 − 0.5)·2 = 0): output pixel
// (4, 10) is placed at input pixel floor(0 + 4), floor(0 + 10). The impulse there reaches conv
// unit (2, 5) only (unit u reads inputs 2u−1 … 2u+1), which the upsampling copies to output
// rows 4, 5 and columns 10, 11: the ray to the right is v, v, 0 (radius 2), to the left v, 0.
TEST_F(ProbeTest, PositionOfADownUpNetMapsThroughTheGraph) {
  config_.ApplySet("net.arch=layers");
  config_.ApplySet(
      "net.layers=[{conv: {out: 2, k: 3, s: 2, p: 1}}, {upsample: {factor: 2, mode: nearest}}]");
  config_.ApplySet("init.scheme=constant");
  ForwardOptions o;
  o.size = 20;
  o.position = Position{4, 10};
  const ForwardResult r = RunForward(config_, o);
  ASSERT_TRUE(r.placement.has_value());
  EXPECT_EQ(r.placement->input, (Position{4, 10}));
  EXPECT_EQ(r.placement->out_w, 20);
  EXPECT_EQ(r.depths[0].radius, 2);
  EXPECT_NEAR(r.depths[0].profile[1], 1.0, 1e-6);
  EXPECT_EQ(r.depths[0].extents->left.radius, 1);
  EXPECT_EQ(r.depths[0].extents->down.radius, 2);
  EXPECT_EQ(r.depths[0].extents->up.radius, 1);
  o.position = Position{3, 20};
  EXPECT_THROW(RunForward(config_, o), UsageError);
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

}  // namespace
}  // namespace rfx::probe
