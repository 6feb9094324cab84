// RepLKNet's area-ratio rule and scaling on hand-computed maps; the bootstrap's coverage on
// simulated maps with a known truth.
#include "rfx/probe/erf_measures.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace rfx::probe {
namespace {

// 9×9 rings around (4, 4): centre 4, Chebyshev ring 1 (8 cells) 1 each, ring 2 (16) 0.5,
// ring 3 (24) 0.25, ring 4 (32, the border) 0.125. Mass per ring: 4, 8, 8, 6, 4; total 30.
Map Rings(double scale) {
  const double ring[5] = {4, 1, 0.5, 0.25, 0.125};
  Map m;
  m.h = m.w = 9;
  m.v.assign(81, 0.0);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 9; ++x)
      m.at(y, x) = scale * ring[std::max(std::abs(y - 4), std::abs(x - 4))];
  return m;
}

TEST(ReplknetTest, AreaRatioFollowsTheirRule) {
  const Map m = Rings(1.0);
  // Squares of side 3, 5, 7 hold 12, 20, 26 of 30: 0.4, 0.667, 0.867 (side 9 is never tried).
  AreaResult a = ReplknetAreaRatio(m, 0.2);
  EXPECT_EQ(a.side, 3);
  EXPECT_DOUBLE_EQ(a.ratio, 9.0 / 81);
  EXPECT_EQ(ReplknetAreaRatio(m, 0.3).side, 3);
  a = ReplknetAreaRatio(m, 0.5);
  EXPECT_EQ(a.side, 5);
  EXPECT_DOUBLE_EQ(a.ratio, 25.0 / 81);
  // Strictly more than t: 0.4 exactly is not enough for side 3 (rfx's own rule takes it).
  EXPECT_EQ(ReplknetAreaRatio(m, 0.4).side, 5);
  EXPECT_DOUBLE_EQ(AreaRatio(m, 4, 4, 0.4), 9.0 / 81);
  // Their loop starts at side 3: the centre alone (4/30) never counts (rfx: 1 px).
  EXPECT_EQ(ReplknetAreaRatio(m, 0.1).side, 3);
  EXPECT_DOUBLE_EQ(AreaRatio(m, 4, 4, 0.1), 1.0 / 81);
  // 0.99 needs the 9×9 square, past their loop (i < H/2): their script fails; rfx says 1.
  a = ReplknetAreaRatio(m, 0.99);
  EXPECT_EQ(a.side, 0);
  EXPECT_DOUBLE_EQ(a.ratio, 1.0);
}

TEST(ReplknetTest, MeasureTakesTheLogOfTheMeanOverSamples) {
  // Two samples whose sum is twice the rings: the mean is the rings, log10(v + 1) gives per ring
  // 0.69897, 0.30103, 0.17609, 0.09691, 0.05115; ring masses 0.69897, 2.40824, 2.81746,
  // 2.32584, 1.63688 (total 9.8874): squares of side 3, 5, 7 hold 0.3143, 0.5992, 0.8344.
  ErfSpec spec;
  spec.replknet = true;
  const ErfMeasures m = MeasureErf(Rings(2.0), 2, spec);
  EXPECT_DOUBLE_EQ(m.map.at(4, 4), 1.0);  // divided by its max
  EXPECT_NEAR(m.map.at(4, 5), std::log10(2.0) / std::log10(5.0), 1e-12);
  ASSERT_EQ(m.areas.size(), 4u);
  EXPECT_EQ(m.areas[0].side, 3);
  EXPECT_EQ(m.areas[1].side, 3);  // 0.3143 > 0.3
  EXPECT_EQ(m.areas[2].side, 5);  // 0.5992
  EXPECT_EQ(m.areas[3].side, 0);  // 0.8344 < 0.99 at side 7
  EXPECT_DOUBLE_EQ(m.areas[2].ratio, 25.0 / 81);
  // rfx's --scale log works on the sum: log10(2v + 1), a different map.
  spec.replknet = false;
  spec.log_scale = true;
  const ErfMeasures l = MeasureErf(Rings(2.0), 2, spec);
  EXPECT_NEAR(l.map.at(4, 4), std::log10(9.0), 1e-12);
  // Ring masses 0.95424, 3.81697, 4.81648, 4.22619, 3.10112 (total 16.915): 0.2 → 3×3 (4.771),
  // 0.3 → 5×5 (9.588), where RepLKNet's map above still took 3×3.
  EXPECT_DOUBLE_EQ(l.areas[0].ratio, 9.0 / 81);
  EXPECT_DOUBLE_EQ(l.areas[1].ratio, 25.0 / 81);
}

TEST(BootstrapTest, QuantilesAndBlocks) {
  EXPECT_DOUBLE_EQ(Quantile({3, 1, 2, 4, 5}, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(Quantile({1, 2}, 0.25), 1.25);  // numpy: 1 + 0.25·(2 − 1)
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.975), 7.0);
  // 10 maps of 4×4 doubles = 1280 bytes: all fit in 2000, in 640 only 5 units (blocks of 2).
  EXPECT_EQ(UnitBlockSize(10, 4, 4, 2000), 1);
  EXPECT_EQ(UnitBlockSize(10, 4, 4, 640), 2);
  EXPECT_EQ(UnitBlockSize(10, 4, 4, 500), 4);  // 3 units at most: blocks of ceil(10/3) = 4
}

// Maps drawn as a Gaussian g (σ 2.5 on 21×21) times independent noise (1 + 0.9·u, u uniform on
// [−1, 1]) per pixel and sample: their mean is g, so the truth the moment fit estimates is the σ
// of g itself. Over 200 repetitions of 30 samples, the 95% interval must cover it in 88–99%.
TEST(BootstrapTest, CoverageOfSigmaOnSimulatedMaps) {
  const int s = 21, c = 10, samples = 30, reps = 200;
  Map g;
  g.h = g.w = s;
  g.v.resize(s * s);
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x)
      g.at(y, x) = std::exp(-((x - c) * (x - c) + (y - c) * (y - c)) / 12.5);
  const double truth = FitGaussian(g).sigma_x;
  ASSERT_NEAR(truth, 2.5, 0.01);
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  ErfSpec spec;
  int covered = 0;
  double width = 0;
  for (int r = 0; r < reps; ++r) {
    std::vector<Map> units(samples, g);
    for (Map& m : units)
      for (double& v : m.v) v *= 1.0 + 0.9 * u(rng);
    const ErfCi ci = BootstrapErf(units, std::vector<int64_t>(samples, 1), spec, 200, 1000 + r);
    EXPECT_LE(ci.sigma_x.lo, ci.sigma_x.hi);
    if (ci.sigma_x.lo <= truth && truth <= ci.sigma_x.hi) ++covered;
    width += ci.sigma_x.hi - ci.sigma_x.lo;
  }
  const double coverage = static_cast<double>(covered) / reps;
  EXPECT_GE(coverage, 0.88);
  EXPECT_LE(coverage, 0.99);
  EXPECT_GT(width / reps, 0.0);  // real intervals, not points
  std::printf("coverage %.3f, mean width %.4f (truth %.4f)\n", coverage, width / reps, truth);
}

TEST(BootstrapTest, SeededAndOneIntervalPerMeasure) {
  std::vector<Map> units(5, Rings(1.0));
  for (size_t i = 0; i < units.size(); ++i) units[i].at(4, 5) += static_cast<double>(i);
  const std::vector<int64_t> counts(5, 1);
  const ErfCi a = BootstrapErf(units, counts, ErfSpec{}, 50, 7);
  const ErfCi b = BootstrapErf(units, counts, ErfSpec{}, 50, 7);
  EXPECT_EQ(a.sigma_x.lo, b.sigma_x.lo);
  EXPECT_EQ(a.sigma_x.hi, b.sigma_x.hi);
  EXPECT_EQ(a.areas.size(), AreaFractions().size());
  EXPECT_EQ(a.units, 5);
  EXPECT_LT(a.sigma_x.lo, a.sigma_x.hi);  // the extra mass right of centre varies
  const ErfCi c = BootstrapErf(units, counts, ErfSpec{}, 50, 8);
  EXPECT_TRUE(c.sigma_x.lo != a.sigma_x.lo || c.sigma_x.hi != a.sigma_x.hi);  // another seed
}

}  // namespace
}  // namespace rfx::probe
