#include "rfx/sweep/fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace rfx::sweep {
namespace {

using nlohmann::json;

// Synthetic thresholds y = a·N^p with multiplicative noise; the fit must recover p within its
// 95% CI (which is narrow enough to tell 0.5 from 1).
void RecoverPower(double a, double p, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<ThresholdPoint> pts;
  for (int n = 2; n <= 48; n += 2) {
    ThresholdPoint t;
    t.depth = n;
    t.distance = a * std::pow(n, p) * std::exp(noise(rng));
    pts.push_back(t);
  }
  const FitReport r = FitThresholds(pts);
  ASSERT_TRUE(r.fitted);
  EXPECT_NEAR(r.power.p, p, 0.05);
  EXPECT_LE(r.power.p_lo, p);
  EXPECT_GE(r.power.p_hi, p);
  EXPECT_LT(r.power.p_hi - r.power.p_lo, 0.2);
  EXPECT_NEAR(r.power.a, a, 0.25 * a);
  EXPECT_GT(r.power.r2, 0.9);
  if (p == 0.5) {
    EXPECT_GT(r.sqrt_fit.r2, r.linear.r2);
    EXPECT_NEAR(r.sqrt_fit.a, a, 0.2 * a);
  } else {
    EXPECT_GT(r.linear.r2, r.sqrt_fit.r2);
    EXPECT_NEAR(r.linear.a, a, 0.2 * a);
  }
}

TEST(FitTest, RecoversSquareRootGrowth) { RecoverPower(3.0, 0.5, 1); }
TEST(FitTest, RecoversLinearGrowth) { RecoverPower(1.0, 1.0, 2); }

TEST(FitTest, StudentQuantileMatchesTables) {
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.706, 1e-3);
  EXPECT_NEAR(StudentTQuantile(0.975, 5), 2.571, 1e-3);
  EXPECT_NEAR(StudentTQuantile(0.975, 30), 2.042, 1e-3);
}

TEST(FitTest, ExactLineHasUnitR2) {
  const LinearFit f = FitLine({1, 2, 3, 4}, {3, 5, 7, 9});
  EXPECT_NEAR(f.a, 2, 1e-12);
  EXPECT_NEAR(f.b, 1, 1e-12);
  EXPECT_NEAR(f.r2, 1, 1e-12);
}

json R(int depth, int distance, double acc) {
  return {
      {"key", std::to_string(depth) + "/" + std::to_string(distance) + "/" + std::to_string(acc)},
      {"net.depth", depth},
      {"dataset.distance", distance},
      {"accuracy", acc}};
}

TEST(ThresholdsTest, ContiguousFromTheSmallestWithMeanOverRepeats) {
  std::vector<json> recs = {// depth 4: sees 1..3, fails 4, a lucky 5 beyond the gap does not count
                            R(4, 1, 1.0), R(4, 2, 0.95), R(4, 3, 0.92), R(4, 4, 0.6), R(4, 5, 0.95),
                            // depth 8: two repeats at 6 average 0.85 < 0.9
                            R(8, 5, 0.99), R(8, 6, 0.95), R(8, 6, 0.75), R(8, 7, 0.5),
                            // depth 2: sees nothing; depth 16: sees every value
                            R(2, 1, 0.5), R(16, 7, 0.97), R(16, 8, 0.99)};
  const auto t = Thresholds(recs, "net.depth", "dataset.distance", 0.9, {1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].depth, 2);
  EXPECT_FALSE(t[0].distance.has_value());
  EXPECT_EQ(t[0].censored, "below");
  EXPECT_EQ(*t[1].distance, 3);
  EXPECT_EQ(t[1].censored, "");
  EXPECT_EQ(*t[2].distance, 5);
  EXPECT_EQ(*t[3].distance, 8);
  EXPECT_EQ(t[3].censored, "above");
  const FitReport r = FitThresholds(t);
  EXPECT_TRUE(r.fitted);
  EXPECT_EQ(r.power.n, 2) << "censored depths stay out of the fits";
  const json j = r.ToJson();
  EXPECT_EQ(j["thresholds"].size(), 4u);
  EXPECT_TRUE(j["thresholds"][0]["distance"].is_null());
  for (const char* m : {"power", "sqrt", "linear"}) EXPECT_TRUE(j["models"].contains(m)) << m;
  EXPECT_TRUE(j["models"]["power"]["p_ci"][0].is_null()) << "no CI from 2 points";
}

}  // namespace
}  // namespace rfx::sweep
