// The analytic tables against LibTorch itself: each chain is run with real torch ops on a
// 1×1×H×W input, and for output units the gradient w.r.t. the input tells which pixels the
// unit reads. Output sizes must match torch exactly, the largest extent of a unit's support
// must be r, and (where the weights are symmetric) the gradient-weighted centre of unit o must
// be start + o·j.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rfx/theory/analysis.h"

namespace rfx::theory {
namespace {

namespace F = torch::nn::functional;

// The ×2 bilinear transposed kernel k4 s2 p1: 1 3 3 1 per axis.
torch::Tensor BilinearKernel() {
  const auto w = torch::tensor({1.0f, 3.0f, 3.0f, 1.0f});
  return torch::outer(w, w).reshape({1, 1, 4, 4});
}

// Runs a chain graph (every node reads the one before) with torch; convs use ones (or the
// bilinear kernel for a k4 s2 transposed conv when `bilinear_transposed`), pools are average
// pools (a max pool has the same geometry but routes the gradient to one pixel).
torch::Tensor Run(const Graph& g, torch::Tensor x, bool bilinear_transposed = false) {
  for (const Layer& l : g.layers()) {
    const std::vector<int64_t> k = {l.k.h, l.k.w}, s = {l.s.h, l.s.w}, p = {l.p.h, l.p.w},
                               d = {l.d.h, l.d.w};
    switch (l.op) {
      case Op::kInput:
        break;
      case Op::kConv:
        x = F::conv2d(
            x, torch::ones({1, 1, l.k.h, l.k.w}),
            F::Conv2dFuncOptions().stride(s).padding(torch::ExpandingArray<2>(p)).dilation(d));
        break;
      case Op::kConvTranspose: {
        const auto w = bilinear_transposed ? BilinearKernel() : torch::ones({1, 1, l.k.h, l.k.w});
        x = F::conv_transpose2d(x, w,
                                F::ConvTranspose2dFuncOptions()
                                    .stride(s)
                                    .padding(p)
                                    .output_padding({l.output_padding.h, l.output_padding.w})
                                    .dilation(d));
        break;
      }
      case Op::kAvgPool:
      case Op::kMaxPool:
        x = F::avg_pool2d(x,
                          F::AvgPool2dFuncOptions(k).stride(s).padding(p).ceil_mode(l.ceil_mode));
        break;
      case Op::kAdaptiveAvgPool:
        x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({l.size.h, l.size.w}));
        break;
      case Op::kUpsample: {
        auto options =
            F::InterpolateFuncOptions().scale_factor(std::vector<double>{l.factor, l.factor});
        if (l.bilinear) {
          options.mode(torch::kBilinear).align_corners(false);
        } else {
          options.mode(torch::kNearest);
        }
        x = F::interpolate(x, options);
        break;
      }
      default:
        ADD_FAILURE() << "not a chain op: " << OpName(l.op);
    }
  }
  return x;
}

// What one output unit reads: per axis the extent of its support (px) and its weighted centre.
struct Support {
  double extent[2];
  double centre[2];
};

Support Measure(const Graph& g, Axes input, int64_t oh, int64_t ow, bool bilinear_transposed) {
  auto x = torch::ones({1, 1, input.h, input.w}, torch::requires_grad());
  const auto y = Run(g, x, bilinear_transposed);
  const auto grad = torch::autograd::grad({y[0][0][oh][ow]}, {x})[0][0][0];
  Support s{};
  for (int a = 0; a < 2; ++a) {
    const auto profile = grad.abs().sum(a == 0 ? 1 : 0);  // per row (a = 0) or column
    const auto nz = torch::nonzero(profile).flatten();
    if (nz.numel() == 0) return Support{};  // reads nothing (a transposed conv's gap)
    s.extent[a] = static_cast<double>(nz.max().item<int64_t>() - nz.min().item<int64_t>() + 1);
    const auto pos = torch::arange(profile.size(0), torch::kFloat) + 0.5;  // pixel centres
    s.centre[a] = (profile * pos).sum().item<double>() / profile.sum().item<double>();
  }
  return s;
}

// Compares the last row of Analyze(g) with torch: sizes, r over units lo … lo + count − 1 on
// the diagonal (far enough from the border), and optionally their centres.
void ExpectAgrees(const Graph& g, Axes input, int64_t lo, int64_t count, bool centres,
                  bool bilinear_transposed = false) {
  const Table t = Analyze(g, input);
  const Row& out = t.rows.back();
  const auto y = Run(g, torch::ones({1, 1, input.h, input.w}), bilinear_transposed);
  ASSERT_EQ(y.size(2), out.h.n);
  ASSERT_EQ(y.size(3), out.w.n);
  double widest[2] = {0, 0};
  for (int64_t o = lo; o < lo + count; ++o) {
    SCOPED_TRACE("unit " + std::to_string(o));
    const Support s = Measure(g, input, o, o, bilinear_transposed);
    for (int a = 0; a < 2; ++a) {
      widest[a] = std::max(widest[a], s.extent[a]);
      const AxisState& st = out.axis(a);
      if (centres && s.extent[a] > 0) {
        EXPECT_NEAR(s.centre[a], st.start + o * st.j, 1e-4) << "axis " << a;
      }
    }
  }
  EXPECT_DOUBLE_EQ(widest[0], out.h.r);
  EXPECT_DOUBLE_EQ(widest[1], out.w.r);
}

TEST(TorchAgreementTest, DilatedConvs) {
  Graph g;
  g.Conv("a", 3, 1, 0, 2);
  g.Conv("b", 3, 2, 1, 3);
  ExpectAgrees(g, Axes(24, 26), 3, 3, true);
}

TEST(TorchAgreementTest, PerAxisKernelsAndPools) {
  Graph g;
  g.Conv("c", Axes(3, 5), Axes(1, 2), Axes(1, 2));
  g.AvgPool("pool", 2, 2);
  g.Conv("wide", Axes(1, 3), 1, Axes(0, 1), Axes(1, 2));
  g.AvgPool("ceil", 3, 2, 1, true);
  ExpectAgrees(g, Axes(40, 70), 2, 2, true);
}

TEST(TorchAgreementTest, TransposedConvs) {
  // r is the most input units one output reads, (ceil(k·g/s) − 1)·(d/g) + 1 (j = 1).
  struct Case {
    Axes k, s, p, op, d;
  };
  for (const Case& c : {Case{4, 2, 1, 0, 1}, Case{3, 2, 1, 1, 1}, Case{2, 2, 0, 0, 1},
                        Case{3, 3, 0, 0, 2}, Case{3, 2, 0, 0, 2}, Case{5, 3, 2, 2, 2},
                        Case{Axes(3, 4), Axes(2, 3), Axes(1, 0), Axes(1, 2), Axes(1, 3)}}) {
    SCOPED_TRACE("k" + AxesText(c.k) + " s" + AxesText(c.s) + " p" + AxesText(c.p) + " op" +
                 AxesText(c.op) + " d" + AxesText(c.d));
    Graph g;
    g.ConvTranspose("t", c.k, c.s, c.p, c.op, c.d);
    ExpectAgrees(g, Axes(9, 11), 8, 6, false);
  }
  // After a strided conv the growth is in units of its jump.
  Graph g;
  g.Conv("down", 3, 2, 1);
  g.ConvTranspose("up", 4, 2, 1);
  ExpectAgrees(g, Axes(24, 24), 8, 4, false);
  // The bilinear ×2 kernel: each output's weighted centre is start + o·j exactly.
  Graph b;
  b.ConvTranspose("up", 4, 2, 1);
  ExpectAgrees(b, Axes(8, 10), 3, 6, true, true);
}

TEST(TorchAgreementTest, AdaptiveAvgPoolBins) {
  for (const Axes& size : {Axes(3, 5), Axes(4, 4), Axes(5, 3)}) {
    SCOPED_TRACE(AxesText(size));
    Graph g;
    g.AdaptiveAvgPool("pool", size);
    // The widest bin over all units, and unit 0's centre.
    const Table t = Analyze(g, Axes(10, 12));
    ExpectAgrees(g, Axes(10, 12), 0, std::min(size.h, size.w), false);
    const Support s0 = Measure(g, Axes(10, 12), 0, 0, false);
    EXPECT_NEAR(s0.centre[0], t.rows.back().h.start, 1e-5);
    EXPECT_NEAR(s0.centre[1], t.rows.back().w.start, 1e-5);
  }
}

TEST(TorchAgreementTest, Upsampling) {
  Graph g;
  g.Conv("down", 2, 2);
  g.Upsample("nearest", 2, false);
  ExpectAgrees(g, Axes(16, 12), 2, 3, false);
  // Bilinear (align_corners = false): output o interpolates at (o + 0.5)/2 − 0.5 input units,
  // so its weighted centre is start + o·j away from the border.
  Graph b;
  b.Conv("down", 2, 2);
  b.Upsample("bilinear", 2, true);
  ExpectAgrees(b, Axes(16, 12), 2, 4, true);
}

}  // namespace
}  // namespace rfx::theory
