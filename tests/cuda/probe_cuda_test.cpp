// The probes on a CUDA device agree with the CPU: same weights (drawn on the CPU), same inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda_test.h"
#include "rfx/config/config.h"
#include "rfx/probe/probe.h"

namespace rfx::probe {
namespace {

class ProbeCudaTest : public test::CudaTest {
 protected:
  Config Make(const std::string& device) const {
    Config c;
    for (const char* s : {"net.depth=4", "net.width=4", "net.skip=none", "dataset.image_size=32",
                          "train.threads=2"}) {
      c.ApplySet(s);
    }
    c.ApplySet("train.device=" + device);
    return c;
  }
};

double RelativeDistance(const Map& a, const Map& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.v.size(); ++i) {
    num += (a.v[i] - b.v[i]) * (a.v[i] - b.v[i]);
    den += b.v[i] * b.v[i];
  }
  return std::sqrt(num / den);
}

TEST_F(ProbeCudaTest, GradientOnTheGpuMatchesTheCpu) {
  for (const char* dtype : {"float64", "float32"}) {
    SCOPED_TRACE(dtype);
    test::NoTf32 exact_convs;
    GradientOptions o;
    o.samples = 6;
    o.batch = 4;
    o.dtype = dtype;
    const GradientResult cpu = RunGradient(Make("cpu"), o);
    const GradientResult gpu = RunGradient(Make("cuda"), o);
    EXPECT_EQ(gpu.device, "cuda:0");
    EXPECT_EQ(cpu.device, "cpu");
    ASSERT_EQ(gpu.map.v.size(), cpu.map.v.size());
    EXPECT_LT(RelativeDistance(gpu.map, cpu.map), std::string(dtype) == "float64" ? 1e-9 : 1e-4);
    EXPECT_EQ(gpu.radius, cpu.radius);
    EXPECT_NEAR(gpu.fit.sigma_x, cpu.fit.sigma_x, 1e-3 * cpu.fit.sigma_x);
    // Depth 4, kernel 3: nothing outside the 9×9 field on either device.
    EXPECT_LE(gpu.area_ratios.back().ratio, 81.0 / 1024 + 1e-12);
  }
}

TEST_F(ProbeCudaTest, ForwardEstimateOnTheGpuMatchesTheCpu) {
  Config cpu = Make("cpu"), gpu = Make("cuda");
  for (Config* c : {&cpu, &gpu}) c->ApplySet("init.scheme=constant");
  ForwardOptions o;
  o.size = 41;
  o.depths = {2, 4, 8};
  o.dtype = "float64";
  const ForwardResult a = RunForward(cpu, o), b = RunForward(gpu, o);
  EXPECT_EQ(b.device, "cuda:0");
  ASSERT_EQ(a.depths.size(), b.depths.size());
  for (size_t k = 0; k < a.depths.size(); ++k) {
    EXPECT_EQ(a.depths[k].radius, b.depths[k].radius) << "depth " << a.depths[k].depth;
    ASSERT_EQ(a.depths[k].profile.size(), b.depths[k].profile.size());
    for (size_t i = 0; i < a.depths[k].profile.size(); ++i) {
      EXPECT_NEAR(a.depths[k].profile[i], b.depths[k].profile[i], 1e-9);
    }
  }
}

}  // namespace
}  // namespace rfx::probe
