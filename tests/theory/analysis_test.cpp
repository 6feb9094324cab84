// Hand-computed tables for the per-axis ops of analysis.h: dilation, transposed convs,
// non-square inputs and kernels, concat (U-Net), misaligned residuals, adaptive and global
// pooling, and the resolution range.
#include "rfx/theory/analysis.h"

#include <gtest/gtest.h>

#include "rfx/theory/theory.h"

namespace rfx::theory {
namespace {

// Expects one axis of a row to be exactly (n, r, r_min, j, start).
void ExpectAxis(const AxisState& a, int64_t n, double r, double r_min, double j, double start) {
  EXPECT_EQ(a.n, n);
  EXPECT_DOUBLE_EQ(a.r, r);
  EXPECT_DOUBLE_EQ(a.r_min, r_min);
  EXPECT_DOUBLE_EQ(a.j, j);
  EXPECT_DOUBLE_EQ(a.start, start);
}

// Both axes of a square row.
void ExpectSquare(const Row& row, int64_t n, double r, double r_min, double j, double start) {
  SCOPED_TRACE(row.name);
  EXPECT_TRUE(row.square());
  ExpectAxis(row.h, n, r, r_min, j, start);
}

TEST(AnalysisTest, DilatedConvShiftsTheStartByHalfTheDilatedKernel) {
  Graph g;
  // k3 d2 p0 on 16: the dilated kernel spans 5 px, so unit 0 is centred on pixel 2 (2.5), not
  // on pixel 1 as (k−1)/2 without d would say. n = 16 − 4 = 12, r = 1 + 4 = 5.
  g.Conv("a", 3, 1, 0, 2);
  // k3 s2 p1 d3: unit 0 reads a's units −1, 2, 5 (0·2 − 1 + {0, 3, 6}), centred on a's unit
  // 2 at 2.5 + 2 = 4.5; those units span [1.5 − 2.5, 7.5 + 2.5] = 11 px.
  // n = floor((12 + 2 − 6 − 1)/2) + 1 = 4.
  g.Conv("b", 3, 2, 1, 3);
  const Table t = Analyze(g, 16);
  ExpectSquare(t.rows[1], 12, 5, 5, 1, 2.5);
  ExpectSquare(t.rows[2], 4, 11, 11, 2, 4.5);
  EXPECT_TRUE(t.warnings.empty());
}

TEST(AnalysisTest, TransposedConvByHand) {
  Graph g;
  g.Conv("down", 3, 2, 1);  // 8 → 4, r 3, j 2, start 0.5
  // k4 s2 p1 (the bilinear ×2): n = (4−1)·2 − 2 + 3 + 1 = 8, j = 2/2 = 1. Output o is fed by
  // the i with 2i − 1 + m = o, m in 0..3: o = 0 ← i in {−1, 0} (m = 3, 1), o = 1 ← {0, 1}:
  // always 2 input units (ceil(4/2)), 2 px apart, each r 3: r = 3 + 2 = 5 (not 3 + 1.5·2).
  // Centre of o = 0: weights 1/4 on unit −1 (at −1.5) and 3/4 on unit 0 (at 0.5) → 0,
  // = 0.5 + (p − D/2)/s·j = 0.5 + (1 − 1.5)/2·2.
  g.ConvTranspose("up", 4, 2, 1);
  const Table t = Analyze(g, 8);
  ExpectSquare(t.rows[1], 4, 3, 3, 2, 0.5);
  ExpectSquare(t.rows[2], 8, 5, 5, 1, 0);

  // k3 s2 p1 output_padding 1 on 4 → (4−1)·2 − 2 + 2 + 1 + 1 = 8; odd outputs read two
  // inputs, even ones one: r = 1 + 1; start 0.5 + (1 − 1)/2 = 0.5, j 0.5.
  Graph h;
  h.ConvTranspose("up", 3, 2, 1, 1);
  ExpectSquare(Analyze(h, 4).rows[1], 8, 2, 2, 0.5, 0.5);

  // k3 s3 d2 on 4: o = 3i + 2m hits each residue once (m = 0, 2, 1 for o ≡ 0, 1, 2), so every
  // output reads ONE input: r stays 1 (the (k−1)d/s approximation says 1 + 4/3).
  // n = 3·3 + 4 + 1 = 14, start = 0.5 + (0 − 2)/3.
  Graph d;
  d.ConvTranspose("sparse", 3, 3, 0, 0, 2);
  ExpectSquare(Analyze(d, 4).rows[1], 14, 1, 1, 1.0 / 3, 0.5 - 2.0 / 3);
  // k3 s2 d2: gcd 2, the taps of one residue are all three (o = 2i + 2m, even o), 1 apart.
  Graph e;
  e.ConvTranspose("even", 3, 2, 0, 0, 2);
  EXPECT_DOUBLE_EQ(Analyze(e, 4).rf(), 3);
}

TEST(AnalysisTest, NonSquareInputWithPerAxisKernels) {
  Graph g;
  // 20×30 input. k3×5 s1×2 p1×2:
  //   h: n 20, r 3, j 1, start 0.5 + (1 − 1) = 0.5
  //   w: n floor((30 + 4 − 4 − 1)/2) + 1 = 15, r 5, j 2, start 0.5 + (2 − 2) = 0.5
  g.Conv("c", Axes(3, 5), Axes(1, 2), Axes(1, 2));
  // max pool 2/2: h: n 10, r 4, j 2, start 1; w: n 7, r 5 + 2 = 7, j 4, start 0.5 + 0.5·2.
  g.MaxPool("pool", 2, 2);
  // k1×9: w's r_min 7 + 8·4 = 39 > 30 but h's 4 <= 20: still productive along h.
  g.Conv("wide", Axes(1, 9), 1, Axes(0, 4));
  // k11×1: h's 4 + 10·2 = 24 > 20 too: unproductive on both axes, the border.
  g.Conv("tall", Axes(11, 1), 1, Axes(5, 0));
  const Table t = Analyze(g, Axes(20, 30));
  ExpectAxis(t.rows[1].h, 20, 3, 3, 1, 0.5);
  ExpectAxis(t.rows[1].w, 15, 5, 5, 2, 0.5);
  ExpectAxis(t.rows[2].h, 10, 4, 4, 2, 1);
  ExpectAxis(t.rows[2].w, 7, 7, 7, 4, 1.5);
  ExpectAxis(t.rows[3].w, 7, 39, 39, 4, 1.5);
  EXPECT_FALSE(t.rows[3].unproductive);
  ExpectAxis(t.rows[4].h, 10, 24, 24, 2, 1);
  EXPECT_TRUE(t.rows[4].unproductive);
  EXPECT_EQ(t.border, 4);
  EXPECT_DOUBLE_EQ(t.rf(0), 24);
  EXPECT_DOUBLE_EQ(t.rf(1), 39);
  EXPECT_DOUBLE_EQ(t.stride(1), 4);
}

TEST(AnalysisTest, SmallUNetWithConcat) {
  Graph g;
  const int enc1 = g.Conv("enc1", 3, 1, 1);  // 16, r 3, j 1, start 0.5
  g.MaxPool("down", 2, 2);                   // 8, r 4, j 2, start 1
  g.Conv("enc2", 3, 1, 1);                   // 8, r 8, j 2, start 1
  // k2 s2: n (8−1)·2 + 1 + 1 = 16, each output reads one unit (ceil(2/2) = 1): r 8; j 1;
  // start 1 + (0 − 0.5)/2·2 = 0.5, on the pixel grid like enc1: the skip aligns.
  const int up = g.ConvTranspose("up", 2, 2);
  g.Concat("cat", {up, enc1});  // r max(8, 3) = 8, r_min min(8, 3) = 3
  g.Conv("dec", 3, 1, 1);       // r 10, r_min 5
  const Table t = Analyze(g, 16);
  ExpectSquare(t.rows[4], 16, 8, 8, 1, 0.5);
  ExpectSquare(t.rows[5], 16, 8, 3, 1, 0.5);
  ExpectSquare(t.rows[6], 16, 10, 5, 1, 0.5);
  EXPECT_EQ(t.rows[5].op, Op::kConcat);
  EXPECT_TRUE(t.warnings.empty()) << t.warnings[0];
}

TEST(AnalysisTest, ResidualWithMisalignedBranchesWarns) {
  Graph g;
  const int x = g.last();
  // The body drops the padding: 16 → 14 and centre 1.5, while the identity keeps 16 and 0.5.
  const int body = g.Conv("body", 3, 1, 0, 1, x);
  g.Add("add", {body, x});
  Table t = Analyze(g, 16);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_NE(t.warnings[0].find("'add': misaligned merge: centres 1.5 vs 0.5"), std::string::npos)
      << t.warnings[0];
  EXPECT_NE(t.warnings[0].find("sizes 14 vs 16"), std::string::npos) << t.warnings[0];
  ExpectSquare(t.rows[2], 14, 3, 1, 1, 1.5);  // the first input's geometry, r max, r_min min

  // Misaligned along the width only: the note says which axis.
  Graph h;
  const int b = h.Conv("body", Axes(3, 3), 1, Axes(1, 0), 1, 0);
  h.Add("add", {b, 0});
  t = Analyze(h, Axes(8, 12));
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_EQ(t.warnings[0],
            "'add': width: misaligned merge: centres 1.5 vs 0.5 ('body' vs "
            "'input'); sizes 10 vs 12 ('body' vs 'input')");
}

TEST(AnalysisTest, AdaptiveAvgPool) {
  // Exact: 12 → 3 bins of 4: like a k4 s4 pool. r 1 + 3 = 4, j 4, start 0.5 + 1.5 = 2.
  Graph g;
  g.AdaptiveAvgPool("pool", 3);
  ExpectSquare(Analyze(g, 12).rows[1], 3, 4, 4, 4, 2);
  // Not exact: 10 → 3 bins [0,4), [3,7), [6,10): widest 4, r 4, start of bin 0 is 2, j the
  // mean spacing 10/3.
  ExpectSquare(Analyze(g, 10).rows[1], 3, 4, 4, 10.0 / 3, 2);
  // 5 → 3: bins [0,2), [1,4), [3,5): widest 3, bin 0 centred at 1.
  ExpectSquare(Analyze(g, 5).rows[1], 3, 3, 3, 5.0 / 3, 1);
  // Per axis, after a stride-2 conv: 8×16 → 4×8 (j 2) → size 2×4: bins of 2 units on both.
  Graph h;
  h.Conv("c", 2, 2);  // r 2, j 2, start 1
  h.AdaptiveAvgPool("pool", Axes(2, 4));
  const Table t = Analyze(h, Axes(8, 16));
  ExpectAxis(t.rows[2].h, 2, 4, 4, 4, 2);
  ExpectAxis(t.rows[2].w, 4, 4, 4, 4, 2);
  // Size 1×1 is global average pooling: it sees everything.
  Graph k;
  k.AdaptiveAvgPool("gap", 1);
  EXPECT_TRUE(Analyze(k, 9).rows[1].sees_everything);
}

TEST(AnalysisTest, GlobalSeesEverythingAndIsNeverTheBorder) {
  Graph g;
  g.Conv("c1", 5, 1, 2);  // r 5 > 4: unproductive at 4×6? no: 5 <= 6 along the width
  g.Conv("c2", 5, 1, 2);  // r 9 > 4 and > 6: the border
  g.Global("fc");
  g.Conv("head", 1);  // after a global layer: still everything
  const Table t = Analyze(g, Axes(4, 6));
  EXPECT_FALSE(t.rows[1].unproductive);
  EXPECT_TRUE(t.rows[2].unproductive);
  EXPECT_EQ(t.border, 2);
  for (int i : {3, 4}) {
    SCOPED_TRACE(i);
    const Row& r = t.rows[i];
    EXPECT_TRUE(r.sees_everything);
    EXPECT_FALSE(r.unproductive);
    ExpectAxis(r.h, 1, 4, 4, 4, 2);
    ExpectAxis(r.w, 1, 6, 6, 6, 3);
  }
  EXPECT_EQ(t.rows[3].op, Op::kGlobal);
}

TEST(AnalysisTest, ResolutionRangeOfASmallResidualNet) {
  // a k3 p1 (r 3); block 1: b (r 5) + a → add1 (r 5, r_min 3); block 2: c (r 7, r_min 5)
  // + add1 → add2 (r 7, r_min 3). The largest r_min is 5 (b and c): from 5 px on no layer is
  // unproductive; the largest RF, 7, covers inputs up to 7 px.
  Graph g;
  const int a = g.Conv("a", 3, 1, 1);
  g.Conv("b", 3, 1, 1);
  const int add1 = g.Add("add1", {g.last(), a});
  g.Conv("c", 3, 1, 1);
  g.Add("add2", {g.last(), add1});
  const ResolutionRange range = FindResolutionRange(g);
  ASSERT_TRUE(range.found);
  EXPECT_EQ(range.min, 5);
  EXPECT_EQ(range.max, 7);
  const Table at4 = Analyze(g, 4);
  ASSERT_GE(at4.border, 0);
  EXPECT_EQ(at4.rows[at4.border].name, "b");
  EXPECT_FALSE(at4.rows[3].unproductive);  // add1: r_min 3
}

TEST(AnalysisTest, ResolutionRangeOfVgg16) {
  // A chain: r_min = r on every row, the largest 212 at pool5; at 212 px every pool still has
  // output (212 → 106 → 53 → 26 → 13 → 6), at 211 pool5 is unproductive. So exactly 212.
  const ResolutionRange range = FindResolutionRange(Vgg16());
  ASSERT_TRUE(range.found);
  EXPECT_EQ(range.min, 212);
  EXPECT_EQ(range.max, 212);
  // AlexNet (a chain too): 195 by the RF; at 195 px the output is 5×5 (not empty).
  const ResolutionRange alex = FindResolutionRange(AlexNet());
  EXPECT_EQ(alex.min, 195);
  EXPECT_EQ(alex.max, 195);
  EXPECT_EQ(Analyze(AlexNet(), 195).rows.back().h.n, 5);
  // ResNet-18: every add falls back to the skip path, r_min 11 (stem 7, pool +2·2). The
  // largest r_min is the last block's second conv: its input add has r_min 11 and the block's
  // two 3×3 convs at jump 32 add 2·2·32 = 128: 139. The largest RF is the output's, 435.
  const ResolutionRange r18 = FindResolutionRange(ResNet(18));
  EXPECT_EQ(r18.min, 139);
  EXPECT_EQ(r18.max, 435);
  // ResNet-50: one 3×3 per bottleneck, so 11 + 2·32 = 75.
  EXPECT_EQ(FindResolutionRange(ResNet(50)).min, 75);
}

TEST(AnalysisTest, ResolutionRangeCanBeEmptyOrMissing) {
  // Nearest ×0.5 keeps every other pixel: n = floor(N/2), j = N/n. A k3 conv then needs
  // n >= 3 (N >= 6) and has r = 1 + 2·j: at N = 6, j 2 and r 5 — usable, but no unit sees the
  // whole 6 px; at 5, n 2 (empty conv) and j 2.5, r 6 > 5. So min 6 > max 5: an empty range.
  Graph g;
  g.Upsample("half", 0.5, false);
  g.Conv("c", 3);
  const Table at6 = Analyze(g, 6);
  EXPECT_TRUE(at6.valid());
  EXPECT_DOUBLE_EQ(at6.rf(), 5);
  EXPECT_FALSE(Analyze(g, 5).valid());
  const ResolutionRange range = FindResolutionRange(g);
  ASSERT_TRUE(range.found);
  EXPECT_EQ(range.min, 6);
  EXPECT_EQ(range.max, 5);
  EXPECT_NE(FormatTable(at6, &range).find("the range is empty"), std::string::npos);
  // An adaptive pool to 4 followed by a k5 conv without padding is empty at every size.
  Graph h;
  h.AdaptiveAvgPool("pool", 4);
  h.Conv("c", 5);
  const ResolutionRange none = FindResolutionRange(h);
  EXPECT_FALSE(none.found);
  EXPECT_NE(FormatTable(Analyze(h, 32), &none).find("no square input side up to 2^20 px"),
            std::string::npos);
}

}  // namespace
}  // namespace rfx::theory
