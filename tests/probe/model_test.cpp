// Probes of a TorchScript model (`--model`): traced stacks of 3×3 convs with constant weights
// 0.01 against rfx's own fcn and the trinomial they must give, --node, and the errors.
#include "rfx/probe/model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rfx/probe/compare.h"
#include "rfx/probe/probe.h"
#include "rfx/util/error.h"
#include "seeded_test.h"
#include "traced_models.h"

namespace rfx::probe {
namespace {

const test::TracedModels& Models() {
  return test::TracedCached("convs4 convs12 scripted dilated upsampling");
}

class ModelProbeTest : public test::SeededTest {
 protected:
  void SetUp() override {
    test::SeededTest::SetUp();
    config_.ApplySet("train.device=cpu");
    config_.ApplySet("train.threads=2");
  }
  ModelOptions Model(const std::string& name, const std::string& node = "") const {
    ModelOptions m;
    m.path = Models() / name;
    m.node = node;
    return m;
  }
  Config config_;
};

// The 1-D n-fold convolution of [1, 1, 1] from its centre outward, over its maximum.
std::vector<double> Trinomial(int n) {
  std::vector<double> f = {1.0};
  for (int i = 0; i < n; ++i) {
    std::vector<double> g(f.size() + 2, 0.0);
    for (size_t j = 0; j < f.size(); ++j) {
      for (int t = 0; t < 3; ++t) g[j + t] += f[j];
    }
    f = g;
  }
  std::vector<double> half(f.begin() + n, f.end());
  for (double& v : half) v /= f[n];
  return half;
}

TEST_F(ModelProbeTest, ConvStackGivesTheFcnsRadii) {
  RFX_REQUIRE_TRACED(Models());
  ForwardOptions o;
  o.size = 97;
  o.dtype = "float64";
  Config fcn = config_;
  fcn.ApplySet("init.scheme=constant");
  fcn.ApplySet("net.skip=none");
  for (int n : {4, 12}) {
    SCOPED_TRACE(n);
    const ForwardResult model = RunModelForward(config_, o, Model("convs" + std::to_string(n)));
    ForwardOptions f = o;
    f.depths = {n};
    const ForwardResult own = RunForward(fcn, f);
    ASSERT_EQ(model.depths.size(), 1u);
    EXPECT_EQ(model.depths[0].radius, own.depths[0].radius);
    // The profile is the trinomial (float64: to 1e-12), the radius its first value < level.
    const std::vector<double> want = Trinomial(n);
    int radius = 0;
    while (radius < static_cast<int>(want.size()) && want[radius] >= o.level) ++radius;
    EXPECT_EQ(model.depths[0].radius, radius);
    for (size_t d = 0; d < want.size(); ++d) {
      EXPECT_NEAR(model.depths[0].profile[d], want[d], 1e-12) << d;
      EXPECT_NEAR(own.depths[0].profile[d], want[d], 1e-12) << d;
    }
  }
}

TEST_F(ModelProbeTest, NodeReadsASubmodulesOutput) {
  RFX_REQUIRE_TRACED(Models());
  ForwardOptions o;
  o.size = 33;
  // convs.1 is the second conv: the field of a stack of 2.
  const ForwardResult r = RunModelForward(config_, o, Model("convs12", "convs.1"));
  EXPECT_EQ(r.depths[0].radius, 3);
  EXPECT_NE(r.arch.find("node convs.1"), std::string::npos);
  // A scripted model whose output is 2-d (mean over H, W): its body conv is a spatial layer.
  ModelOptions scripted = Model("scripted", "body");
  scripted.input_shape = {3, 32, 32};
  const ForwardResult body = RunModelForward(config_, o, scripted);
  EXPECT_EQ(body.depths[0].profile.size(), 16u - 8u);  // 16×16 after the 2×2 pool
  scripted.node.clear();
  EXPECT_THROW(RunModelForward(config_, o, scripted), UsageError);
  // The wrong number of input channels: a UsageError naming --input-shape.
  try {
    RunModelForward(config_, o, Model("scripted", "body"));
    FAIL() << "a 1-channel input was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--input-shape"), std::string::npos) << e.what();
  }
}

TEST_F(ModelProbeTest, GradientOfALinearStackIsItsKernel) {
  RFX_REQUIRE_TRACED(Models());
  GradientOptions o;
  o.size = 33;
  o.samples = 3;
  const GradientResult r = RunModelGradient(config_, o, Model("convs4"));
  EXPECT_EQ(r.map.h, 33);
  EXPECT_EQ(r.radius, 5);
  EXPECT_NEAR(r.fit.mean_x, 16, 1e-6);
  EXPECT_NEAR(r.fit.mean_y, 16, 1e-6);
  // Per axis, the variance of the 4-fold [1,1,1]/3 is 4 · 2/3.
  EXPECT_NEAR(r.fit.sigma_x, std::sqrt(8.0 / 3.0), 1e-4);
  EXPECT_NEAR(r.map.at(16, 18) / r.map.at(16, 16), Trinomial(4)[2], 1e-5);
}

// --position on a traced stack (stride 1, 'same': the impulse at the same pixel), near the
// right border: the ray to the left gives the stack's radius (5 for 4 convs), the ray to the
// right stops at the border after columns 30, 31, 32; --node reads the position in that
// layer's map (2 convs: radius 3).
TEST_F(ModelProbeTest, PositionNearTheBorderOfATracedStack) {
  RFX_REQUIRE_TRACED(Models());
  ForwardOptions o;
  o.size = 33;
  o.position = Position{3, 30};
  const ForwardResult r = RunModelForward(config_, o, Model("convs4"));
  ASSERT_TRUE(r.placement.has_value());
  EXPECT_EQ(r.placement->input, (Position{3, 30}));
  const Extents& e = *r.depths[0].extents;
  EXPECT_EQ(e.left.radius, 5);
  EXPECT_FALSE(e.left.clipped);
  EXPECT_EQ(e.down.radius, 5);
  EXPECT_EQ(e.right.radius, 3);
  EXPECT_TRUE(e.right.clipped);
  EXPECT_TRUE(r.depths[0].clipped);  // the radius is the right ray's
  EXPECT_EQ(e.up.radius, 4);         // rows 3, 2, 1, 0
  EXPECT_TRUE(e.up.clipped);
  const ForwardResult node = RunModelForward(config_, o, Model("convs4", "convs.1"));
  EXPECT_EQ(node.depths[0].extents->left.radius, 3);
  EXPECT_EQ(node.depths[0].extents->up.radius, 3);
  EXPECT_FALSE(node.depths[0].extents->up.clipped);
  // The gradient at the same pixel: its measures are centred on input pixel (3, 30).
  GradientOptions g;
  g.size = 33;
  g.samples = 2;
  g.bootstrap = 0;
  g.position = o.position;
  const GradientResult grad = RunModelGradient(config_, g, Model("convs4"));
  EXPECT_EQ(grad.placement->input, (Position{3, 30}));
  EXPECT_EQ(grad.extents->left.radius, 5);
  EXPECT_NEAR(grad.fit.mean_y, 3.0, 0.5);  // the clipped field's mass sits around row 3
  o.position = Position{3, 33};
  EXPECT_THROW(RunModelForward(config_, o, Model("convs4")), UsageError);
}

// A strided model: dilated = conv k3 d2 p1 (start 0.5 → 1.5), conv k3 s2 (start 2.5, jump 2),
// so output pixel (4, 3) is centred on input pixel (2·4 + 2, 2·3 + 2) = (10, 8).
TEST_F(ModelProbeTest, PositionOfAStridedModelMapsThroughItsGraph) {
  RFX_REQUIRE_TRACED(Models());
  ForwardOptions o;
  o.size = 21;
  o.position = Position{4, 3};
  ModelOptions m = Model("dilated");
  m.input_shape = {3, 21, 21};
  const ForwardResult r = RunModelForward(config_, o, m);
  ASSERT_TRUE(r.placement.has_value());
  EXPECT_EQ(r.placement->input, (Position{10, 8}));
  EXPECT_EQ(r.placement->out_h, 9);  // 21 → 19 → 9
  o.position = Position{9, 0};
  EXPECT_THROW(RunModelForward(config_, o, m), UsageError);
}

// The default rows of `probe compare --model`: the top-level children the analytic graph names
// that give a map. resnet18: bn1 and relu have no row of their own (they move no field), avgpool
// and fc see everything; a stack's one Sequential child is replaced by its children; a model
// whose last row is inside its last child gets no extra "output" row.
TEST_F(ModelProbeTest, DefaultCompareRows) {
  RFX_REQUIRE_TRACED(Models());
  const auto& big = test::Traced("resnet18");
  RFX_REQUIRE_TRACED(big);
  ModelOptions r18;
  r18.path = big / "resnet18";
  EXPECT_EQ(ModelChildren(r18.path),
            (std::vector<std::string>{"conv1", "bn1", "relu", "maxpool", "layer1", "layer2",
                                      "layer3", "layer4", "avgpool", "fc"}));
  EXPECT_EQ(DefaultNodes(r18, ModelTable(r18, 64, 64)),
            (std::vector<std::string>{"conv1", "maxpool", "layer1", "layer2", "layer3", "layer4"}));
  EXPECT_EQ(DefaultNodes(Model("convs4"), ModelTable(Model("convs4"), 33, 33)),
            (std::vector<std::string>{"convs.0", "convs.1", "convs.2", "convs.3"}));
  EXPECT_EQ(DefaultNodes(Model("upsampling"), ModelTable(Model("upsampling"), 32, 32)),
            (std::vector<std::string>{"c", "pool"}));
}

TEST_F(ModelProbeTest, ErrorsNameTheFlag) {
  RFX_REQUIRE_TRACED(Models());
  ForwardOptions o;
  o.size = 33;
  auto message = [&](const ModelOptions& m, const ForwardOptions& f) -> std::string {
    try {
      RunModelForward(config_, f, m);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string e = message(Model("convs4", "nope"), o);
  EXPECT_NE(e.find("--node 'nope'"), std::string::npos) << e;
  EXPECT_NE(e.find("convs.3"), std::string::npos) << e;  // the modules there are
  ForwardOptions c = o;
  c.channel = 1;  // the stack has one output channel
  e = message(Model("convs4"), c);
  EXPECT_NE(e.find("--channel 1"), std::string::npos) << e;
  ForwardOptions d = o;
  d.depths = {2};
  e = message(Model("convs4"), d);
  EXPECT_NE(e.find("--depths"), std::string::npos) << e;
  ModelOptions missing = Model("convs4");
  missing.path += ".missing";
  e = message(missing, o);
  EXPECT_NE(e.find("--model " + missing.path), std::string::npos) << e;
  EXPECT_THROW(ParseInputShape("3,224"), UsageError);
  EXPECT_THROW(ParseInputShape("0,8,8"), UsageError);
  EXPECT_EQ(ParseInputShape("3,96,128"), (std::vector<int64_t>{3, 96, 128}));
}

}  // namespace
}  // namespace rfx::probe
