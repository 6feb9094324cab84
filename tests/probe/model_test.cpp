// Probes of a TorchScript model (`--model`): traced stacks of 3×3 convs with constant weights
// 0.01 against rfx's own fcn and the trinomial they must give, --node, and the errors.
#include "rfx/probe/model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rfx/probe/probe.h"
#include "rfx/util/error.h"
#include "seeded_test.h"
#include "traced_models.h"

namespace rfx::probe {
namespace {

const test::TracedModels& Models() { return test::TracedCached("convs4 convs12 scripted"); }

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
