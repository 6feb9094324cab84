#include "rfx/probe/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace rfx::probe {
namespace {

Map Filled(int h, int w, double v) {
  Map m;
  m.h = h;
  m.w = w;
  m.v.assign(static_cast<size_t>(h) * w, v);
  return m;
}

TEST(MetricsTest, AreaRatioOfACentredBlock) {
  // 21×21, ones in the centred 5×5 block: 25 units of mass.
  Map m = Filled(21, 21, 0.0);
  for (int y = 8; y <= 12; ++y)
    for (int x = 8; x <= 12; ++x) m.at(y, x) = 1.0;
  EXPECT_DOUBLE_EQ(AreaRatio(m, 10, 10, 0.2), 9.0 / 441);   // 5 of 25: the 3×3 holds 9
  EXPECT_DOUBLE_EQ(AreaRatio(m, 10, 10, 0.3), 9.0 / 441);   // 7.5 ≤ 9
  EXPECT_DOUBLE_EQ(AreaRatio(m, 10, 10, 0.5), 25.0 / 441);  // 12.5 > 9
  EXPECT_DOUBLE_EQ(AreaRatio(m, 10, 10, 0.99), 25.0 / 441);
  EXPECT_DOUBLE_EQ(AreaRatio(m, 10, 10, 0.04), 1.0 / 441);  // exactly one unit
}

TEST(MetricsTest, AreaRatioOfAFlatMap) {
  const Map m = Filled(11, 11, 2.0);
  EXPECT_DOUBLE_EQ(AreaRatio(m, 5, 5, 0.2), 25.0 / 121);  // 24.2 → 5×5
  EXPECT_DOUBLE_EQ(AreaRatio(m, 5, 5, 0.5), 81.0 / 121);  // 60.5 → 9×9
  EXPECT_DOUBLE_EQ(AreaRatio(m, 5, 5, 0.99), 1.0);        // 119.8 → all
  // Off-centre squares are clipped at the border: from (0, 0) side 2h+1 holds (h+1)².
  EXPECT_DOUBLE_EQ(AreaRatio(m, 0, 0, 0.2), 25.0 / 121);  // (4+1)² = 25 ≥ 24.2
}

TEST(MetricsTest, GaussianFitByMoments) {
  Map m = Filled(5, 7, 0.0);
  // Separable: rows [1, 2, 1] at y = 1..3, columns [1, 4, 6, 4, 1] at x = 1..5.
  const double ry[3] = {1, 2, 1}, cx[5] = {1, 4, 6, 4, 1};
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) m.at(1 + y, 1 + x) = ry[y] * cx[x];
  const GaussianFit f = FitGaussian(m);
  EXPECT_NEAR(f.mean_y, 2.0, 1e-12);
  EXPECT_NEAR(f.mean_x, 3.0, 1e-12);
  EXPECT_NEAR(f.sigma_y * f.sigma_y, 0.5, 1e-12);  // binomial(2, ½): 2·¼
  EXPECT_NEAR(f.sigma_x * f.sigma_x, 1.0, 1e-12);  // binomial(4, ½): 4·¼
}

TEST(MetricsTest, ProfileRadiusAndLogScale) {
  const std::vector<double> p = NormalizeProfile({-4.0, 2.0, 0.4, 0.0, 3.0});
  EXPECT_DOUBLE_EQ(p[0], 1.0);
  EXPECT_DOUBLE_EQ(p[2], 0.1);
  EXPECT_EQ(RadiusAtLevel(p, 0.2), 2);
  EXPECT_EQ(RadiusAtLevel(p, 0.05), 3);
  EXPECT_EQ(RadiusAtLevel({1.0, 0.5}, 0.1), 2);  // never below: the profile length
  Map m = Filled(1, 2, 9.0);
  m.v[1] = 0;
  const Map l = Log10p1(m);
  EXPECT_DOUBLE_EQ(l.v[0], 1.0);
  EXPECT_DOUBLE_EQ(l.v[1], 0.0);
}

}  // namespace
}  // namespace rfx::probe
