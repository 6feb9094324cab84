#include "rfx/nn/init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "seeded_test.h"

namespace rfx::nn {
namespace {

class InitTest : public test::SeededTest {
 protected:
  void SetUp() override {
    test::SeededTest::SetUp();
    at::set_num_threads(1);
  }
};

std::shared_ptr<FcnImpl> MakeFcn(int depth, const std::string& skip = "input", int width = 16) {
  NetOptions o;
  o.depth = depth;
  o.skip = ParseSkipKind(skip);
  o.width = width;
  return std::dynamic_pointer_cast<FcnImpl>(BuildNet(o));
}

InitOptions Scheme(InitScheme s) {
  InitOptions o;
  o.scheme = s;
  return o;
}

TEST_F(InitTest, SameSeedSameWeightsOtherSeedOtherWeights) {
  for (InitScheme s :
       {InitScheme::kXavier, InitScheme::kShifted, InitScheme::kCircular, InitScheme::kCircular2}) {
    auto a = MakeFcn(6), b = MakeFcn(6), c = MakeFcn(6);
    InitNet(*a, Scheme(s), 7);
    torch::manual_seed(123);  // the global RNG plays no part
    InitNet(*b, Scheme(s), 7);
    InitNet(*c, Scheme(s), 8);
    for (int i = 0; i < 6; ++i) {
      EXPECT_TRUE(torch::equal(a->conv[i]->weight, b->conv[i]->weight)) << InitSchemeText(s) << i;
      EXPECT_FALSE(torch::equal(a->conv[i]->weight, c->conv[i]->weight)) << InitSchemeText(s) << i;
    }
  }
}

TEST_F(InitTest, XavierBoundsAndZeroBiases) {
  auto net = MakeFcn(4);
  InitNet(*net, Scheme(InitScheme::kXavier), 1);
  for (int i = 0; i < 4; ++i) {
    const at::Tensor w = net->conv[i]->weight;
    const double bound = std::sqrt(6.0 / ((w.size(0) + w.size(1)) * 9.0));
    EXPECT_LE(w.abs().max().item<double>(), bound);
    EXPECT_GT(w.abs().max().item<double>(), 0.8 * bound);
    EXPECT_EQ(net->conv[i]->bias.abs().max().item<float>(), 0.0f);
  }
  EXPECT_FLOAT_EQ(net->skip[0]->weight.min().item<float>(), 0.9f);
}

// constant: weights 0.01, biases 0, skips 0 → with ReLU the net is linear on non-negative
// inputs: f(a·x) = a·f(x) and f(x + y) = f(x) + f(y). Xavier with its mixed signs is not.
TEST_F(InitTest, ConstantMakesTheNetLinear) {
  for (const std::string skip : {"input", "none", "residual"}) {
    auto net = MakeFcn(8, skip);
    InitNet(*net, Scheme(InitScheme::kConstant), 0);
    for (auto& s : net->skip) EXPECT_EQ(s->weight.abs().max().item<float>(), 0.0f);
    const at::Tensor x = torch::rand({1, 1, 20, 20}), y = torch::rand({1, 1, 20, 20});
    const at::Tensor fx = net->forward(x), fy = net->forward(y);
    EXPECT_GT(fx.abs().max().item<float>(), 0.0f);
    for (double a : {0.5, 3.0, 40.0}) {
      EXPECT_TRUE(torch::allclose(net->forward(x * a), fx * a, 1e-4, 1e-12)) << skip << a;
    }
    EXPECT_TRUE(torch::allclose(net->forward(x + y), fx + fy, 1e-4, 1e-12)) << skip;
    EXPECT_TRUE(torch::allclose(net->forward(x), net->forward_linear(x), 1e-5, 1e-12));
  }
  auto xavier = MakeFcn(8, "none");
  InitNet(*xavier, Scheme(InitScheme::kXavier), 0);
  const at::Tensor x = torch::rand({1, 1, 20, 20}), y = torch::rand({1, 1, 20, 20});
  EXPECT_FALSE(
      torch::allclose(xavier->forward(x + y), xavier->forward(x) + xavier->forward(y), 1e-3, 1e-6));
  // FCN-ResNet50 under constant: every conv weight the value, BN the identity affine.
  NetOptions o;
  o.arch = NetArch::kFcnResNet50;
  NetPtr r = BuildNet(o);
  InitOptions c = Scheme(InitScheme::kConstant);
  c.value = 0.02;
  InitNet(*r, c, 0);
  for (const auto& p : r->named_parameters()) {
    const std::string& name = p.key();
    if (p.value().dim() == 4) {
      EXPECT_FLOAT_EQ(p.value().min().item<float>(), 0.02f) << name;
      EXPECT_FLOAT_EQ(p.value().max().item<float>(), 0.02f) << name;
    }
  }
  EXPECT_THROW(InitNet(*r, Scheme(InitScheme::kShifted), 0), ConfigError);
}

TEST_F(InitTest, ShiftedKernelsPullFromTheRowAbove) {
  auto net = MakeFcn(6);
  InitNet(*net, Scheme(InitScheme::kShifted), 2);
  for (int i = 0; i < 6; ++i) {
    const at::Tensor w = net->conv[i]->weight;
    const double top = w.select(2, 0).abs().mean().item<double>();
    const double rest = w.narrow(2, 1, 2).abs().mean().item<double>();
    EXPECT_GT(top, 30 * rest) << "layer " << i;
    // N(0,1)·sqrt(6/(in·3 + out·3)) on the top row: its RMS is that scale.
    const double scale = std::sqrt(6.0 / (3.0 * (w.size(0) + w.size(1))));
    const double rms = w.select(2, 0).pow(2).mean().sqrt().item<double>();
    if (w.size(0) * w.size(1) >= 32) {
      EXPECT_NEAR(rms / scale, 1.0, 0.25) << "layer " << i;
    }
  }
  // So an impulse moves up: the response of a net at a pixel comes mostly from above it.
}

// Composes the N layers of a decomposed-init fcn (no activation) on an impulse.
at::Tensor Compose(int n, at::ScalarType dtype) {
  auto net = MakeFcn(n, "none");
  net->to(dtype);
  InitNet(*net, Scheme(InitScheme::kDecomposed), 0);
  const int64_t s = 2 * n + 3;
  at::Tensor x = torch::zeros({1, 1, s, s}, torch::TensorOptions().dtype(dtype));
  x[0][0][s / 2][s / 2] = 1.0;
  torch::NoGradGuard g;
  return net->forward_linear(x).to(at::kDouble);
}

at::Tensor Box(int n) {
  at::Tensor box = torch::zeros({2 * n + 3, 2 * n + 3}, torch::kDouble);
  box.narrow(0, 1, 2 * n + 1).narrow(1, 1, 2 * n + 1).fill_(1.0);
  return box;
}

TEST_F(InitTest, DecomposedComposesToTheBoxInFloat64) {
  for (int n = 1; n <= 10; ++n) {
    const at::Tensor out = Compose(n, at::kDouble);
    for (int c = 0; c < 2; ++c) {
      const double err = (out[0][c] - Box(n)).abs().max().item<double>();
      EXPECT_LT(err, 1e-9) << "N = " << n;
    }
  }
  // The factors are exactly the kernels of docs/design.md#initialisations, once each.
  const std::vector<int> order = DecomposedOrder(7);
  EXPECT_EQ(order, (std::vector<int>{1, 7, 2, 6, 3, 5, 4}));
  const at::Tensor k = DecomposedKernel(2, 3);
  const double b = -2 * std::cos(2 * 2 * M_PI / 7);
  EXPECT_DOUBLE_EQ(k[0][0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(k[0][1].item<double>(), b);
  EXPECT_DOUBLE_EQ(k[1][1].item<double>(), b * b);
  auto net = MakeFcn(3, "none", 4);
  InitNet(*net, Scheme(InitScheme::kDecomposed), 0);
  EXPECT_TRUE(torch::allclose(net->conv[1]->weight[2][3].to(at::kDouble),
                              DecomposedKernel(3, 3) / 4.0, 1e-6, 1e-7));
}

TEST_F(InitTest, DecomposedBreaksDownInFloat32ByDepth16) {
  double worst = 0;
  for (int n = 1; n <= 16; ++n) {
    worst = std::max(worst, (Compose(n, at::kFloat)[0][0] - Box(n)).abs().max().item<double>());
  }
  EXPECT_GT(worst, 0.01);
  // …and not at depth 4, where float32 still holds.
  EXPECT_LT((Compose(4, at::kFloat)[0][0] - Box(4)).abs().max().item<double>(), 1e-3);
}

TEST_F(InitTest, CircularRaysSumToTheirEndPoints) {
  for (int n : {1, 2, 5, 12, 31}) {
    const auto rays = CircularRaySteps(n);
    for (int r = 0; r < 16; ++r) {
      ASSERT_EQ(static_cast<int>(rays[r].size()), n);
      int x = 0, y = 0;
      for (const Step& s : rays[r]) {
        EXPECT_LE(std::abs(s.dx), 1);
        EXPECT_LE(std::abs(s.dy), 1);
        EXPECT_TRUE(s.dx != 0 || s.dy != 0);
        x += s.dx;
        y += s.dy;
      }
      const Step end = CircularRayEnd(r, n);
      EXPECT_EQ(x, end.dx) << "ray " << r << " n " << n;
      EXPECT_EQ(y, end.dy) << "ray " << r << " n " << n;
      EXPECT_EQ(std::max(std::abs(end.dx), std::abs(end.dy)), n);  // Chebyshev radius n
      const double a = 2 * M_PI * r / 16;                          // and in the ray's direction
      const double diff = std::remainder(std::atan2(end.dy, end.dx) - a, 2 * M_PI);
      EXPECT_LE(std::abs(diff), std::atan(1.0 / n) + 1e-9) << "ray " << r << " n " << n;
    }
  }
  EXPECT_EQ(CircularRayEnd(0, 5).dx, 5);
  EXPECT_EQ(CircularRayEnd(0, 5).dy, 0);
  EXPECT_EQ(CircularRayEnd(4, 5).dy, 5);
  EXPECT_EQ(CircularRayEnd(2, 5).dx, 5);
  EXPECT_EQ(CircularRayEnd(2, 5).dy, 5);
}

TEST_F(InitTest, CircularSetsTheRayTapsOverXavierAsTheStudyDid) {
  const int n = 5;
  auto circ = MakeFcn(n), xav = MakeFcn(n);
  InitNet(*circ, Scheme(InitScheme::kCircular), 4);
  InitNet(*xav, Scheme(InitScheme::kXavier), 4);
  const auto rays = CircularRaySteps(n);
  for (int i = 0; i < n; ++i) {
    const at::Tensor diff = circ->conv[i]->weight - xav->conv[i]->weight;
    at::Tensor expected = torch::zeros_like(diff);
    for (int64_t o = 0; o < diff.size(0); ++o) {
      for (int64_t c = 0; c < diff.size(1); ++c) {
        if (i < n - 1) {
          if (c != (i == 0 ? 0 : o)) continue;
          const Step s = rays[o % 16][i];
          expected[o][c][1 + s.dy][1 + s.dx] = 0.2 - xav->conv[i]->weight[o][c][1 + s.dy][1 + s.dx];
        } else {
          expected[o][c][1][1] = 1.0 - xav->conv[i]->weight[o][c][1][1];  // no ray tap
        }
      }
    }
    EXPECT_TRUE(torch::allclose(diff, expected, 1e-5, 1e-6)) << "layer " << i;
  }
  ASSERT_FALSE(circ->skip.empty());
  for (auto& s : circ->skip) EXPECT_EQ(s->weight.abs().max().item<float>(), 0.0f);
  for (auto& s : xav->skip) EXPECT_GT(s->weight.abs().max().item<float>(), 0.0f);
}

// The same uniform draws InitNet makes from the seeded CPU generator, in its order.
struct Draws {
  at::Generator gen;
  explicit Draws(uint64_t seed) : gen(at::detail::createCPUGenerator(seed)) {}
  at::Tensor Xavier(at::IntArrayRef shape) {
    const double bound = std::sqrt(6.0 / ((shape[0] + shape[1]) * 9.0));
    return at::empty(shape, at::kFloat).uniform_(-bound, bound, gen);
  }
};

// circular2 on a 4-layer fcn, width 16, seed 11. Rays (CircularRaySteps): ray 0 steps (1, 0),
// ray 2 (1, 1), ray 4 (0, 1) at every layer. So in layer 1, kernel [2, 2] is
//   0.6·a00  0.6·a01  0.6·a02
//   0.6·a10  b00      b01
//   0.6·a20  b10      b11
// (a = the first xavier draw, b = the second), kernel [4, 4] has rows 1, 2 = b's rows 0, 1 under
// 0.6·a's row 0, and in layer 0 kernel [0, 0] has columns 1, 2 = b's columns 0, 1. Every other
// kernel of those layers is 0.6·a; the last layer is plain xavier; biases and skips 0.
TEST_F(InitTest, Circular2CopiesAShiftedSecondXavierKernelIntoEachChannel) {
  const int n = 4;
  auto net = MakeFcn(n);
  InitNet(*net, Scheme(InitScheme::kCircular2), 11);
  const auto rays = CircularRaySteps(n);
  ASSERT_EQ(rays[0][1].dx, 1);
  ASSERT_EQ(rays[0][1].dy, 0);
  ASSERT_EQ(rays[2][1].dx, 1);
  ASSERT_EQ(rays[2][1].dy, 1);
  ASSERT_EQ(rays[4][1].dx, 0);
  ASSERT_EQ(rays[4][1].dy, 1);
  Draws d(11);
  std::vector<at::Tensor> a, b;
  for (int i = 0; i < n; ++i) {
    const at::Tensor& w = net->conv[i]->weight;
    a.push_back(d.Xavier(w.sizes()));
    b.push_back(i < n - 1 ? d.Xavier(w.sizes()) : at::Tensor());
  }
  auto W = [&](int layer) { return net->conv[layer]->weight; };
  auto near = [](const at::Tensor& x, const at::Tensor& y) {
    return torch::allclose(x, y, 1e-6, 1e-7);
  };
  // Layer 1, kernel [2, 2]: the 2×2 block of b moved one tap right and down.
  {
    at::Tensor want = a[1][2][2] * 0.6;
    want.narrow(0, 1, 2).narrow(1, 1, 2).copy_(b[1][2][2].narrow(0, 0, 2).narrow(1, 0, 2));
    EXPECT_TRUE(near(W(1)[2][2], want)) << W(1)[2][2] << want;
    EXPECT_FLOAT_EQ(W(1)[2][2][2][2].item<float>(), b[1][2][2][1][1].item<float>());
    EXPECT_FLOAT_EQ(W(1)[2][2][0][2].item<float>(), 0.6f * a[1][2][2][0][2].item<float>());
  }
  // Layer 2, kernel [4, 4]: b's rows 0, 1 moved one row down.
  {
    at::Tensor want = a[2][4][4] * 0.6;
    want.narrow(0, 1, 2).copy_(b[2][4][4].narrow(0, 0, 2));
    EXPECT_TRUE(near(W(2)[4][4], want));
  }
  // Layer 0 (one input channel), kernel [0, 0]: b's columns 0, 1 moved one column right.
  {
    at::Tensor want = a[0][0][0] * 0.6;
    want.narrow(1, 1, 2).copy_(b[0][0][0].narrow(1, 0, 2));
    EXPECT_TRUE(near(W(0)[0][0], want));
  }
  // Off-diagonal kernels are 0.6·a only; the last layer is a alone.
  EXPECT_TRUE(near(W(1)[2][3], a[1][2][3] * 0.6));
  EXPECT_TRUE(near(W(2)[5][0], a[2][5][0] * 0.6));
  EXPECT_TRUE(near(W(n - 1), a[n - 1]));
  for (int i = 0; i < n; ++i) EXPECT_EQ(net->conv[i]->bias.abs().max().item<float>(), 0.0f);
  for (auto& s : net->skip) EXPECT_EQ(s->weight.abs().max().item<float>(), 0.0f);
}

// The study's decomposed recipe: each layer's kernel plus one U(±0.001) 3×3 draw (shared by its
// channel pairs), over the input channels, times 0.9.
TEST_F(InitTest, DecomposedNoiseAndScaleAreTheStudysRecipe) {
  const int n = 3, width = 4;
  InitOptions o = Scheme(InitScheme::kDecomposed);
  o.decomposed_noise = 0.001;
  o.decomposed_scale = 0.9;
  auto net = MakeFcn(n, "none", width);
  InitNet(*net, o, 5);
  at::Generator gen = at::detail::createCPUGenerator(5);
  const std::vector<int> order = DecomposedOrder(n);
  double largest_noise = 0;
  for (int i = 0; i < n; ++i) {
    const at::Tensor noise = at::empty({3, 3}, at::kFloat).uniform_(-0.001, 0.001, gen);
    const at::Tensor w = net->conv[i]->weight.to(at::kDouble);
    const int64_t in = w.size(1);
    const at::Tensor want = (DecomposedKernel(order[i], n) + noise.to(at::kDouble)) * 0.9 / in;
    for (int64_t p = 0; p < w.size(0); ++p) {
      for (int64_t q = 0; q < in; ++q) {
        ASSERT_TRUE(torch::allclose(w[p][q], want, 0, 1e-7)) << "layer " << i;
      }
    }
    // The noise is there, and within ±0.001 of the exact kernel (before /in·0.9).
    const at::Tensor off = w[0][0] * in / 0.9 - DecomposedKernel(order[i], n);
    EXPECT_LE(off.abs().max().item<double>(), 0.001 + 1e-6);
    largest_noise = std::max(largest_noise, off.abs().max().item<double>());
  }
  EXPECT_GT(largest_noise, 0.0002);
  // Defaults: the exact kernels (no noise, scale 1).
  EXPECT_EQ(InitOptions().decomposed_noise, 0.0);
  EXPECT_EQ(InitOptions().decomposed_scale, 1.0);
  // Out-of-range values name their key.
  for (auto [noise, scale, key] : {std::tuple{-0.1, 1.0, "init.decomposed_noise"},
                                   std::tuple{0.0, 0.0, "init.decomposed_scale"}}) {
    InitOptions bad = Scheme(InitScheme::kDecomposed);
    bad.decomposed_noise = noise;
    bad.decomposed_scale = scale;
    try {
      bad.validate();
      ADD_FAILURE() << key;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), key);
    }
  }
}

}  // namespace
}  // namespace rfx::nn
