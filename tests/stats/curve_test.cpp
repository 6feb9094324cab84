#include "rfx/stats/curve.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "rfx/util/error.h"

namespace rfx::stats {
namespace {

// The oracle: a sweep over depths 2..24 and every integer distance in [lo, hi], `reps`
// trainings per cell, each learned with probability (1 − lapse)·σ((d50(N) − d)/1).
template <class D50>
std::map<double, std::vector<Trial>> Simulate(D50 d50, int lo, int hi, double lapse, uint64_t seed,
                                              int reps = 3) {
  std::mt19937_64 rng(seed);
  std::map<double, std::vector<Trial>> sweep;
  for (int depth = 2; depth <= 24; ++depth) {
    for (int d = lo; d <= hi; ++d) {
      const double p = (1 - lapse) / (1 + std::exp(d - d50(depth)));
      for (int r = 0; r < reps; ++r) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // uniform [0, 1)
        sweep[depth].push_back({static_cast<double>(d), u < p});
      }
    }
  }
  return sweep;
}

double Sqrt3(double depth) { return 3 * std::sqrt(depth); }
double Linear08(double depth) { return 0.8 * depth; }

// Counts, over the depth estimates of a fit, those whose CI holds the truth.
template <class D50>
void CountCovered(const PsychometricFit& fit, D50 d50, int& covered, int& total) {
  for (const DepthEstimate& e : fit.depths) {
    covered += e.ci_lo <= d50(e.depth) && d50(e.depth) <= e.ci_hi;
    ++total;
  }
}

TEST(Curve, KindText) {
  EXPECT_STREQ(CurveKindText(CurveKind::kSqrt), "sqrt");
  EXPECT_STREQ(CurveKindText(CurveKind::kLinear), "linear");
  EXPECT_STREQ(CurveKindText(CurveKind::kPower), "power");
}

TEST(Curve, ExactModels) {
  std::vector<double> depth, y, se, y_pow, y_pow_b;
  for (int n = 2; n <= 10; ++n) {
    depth.push_back(n), y.push_back(2 * std::sqrt(n) + 1), se.push_back(0.5);
    y_pow.push_back(3 * std::pow(n, 0.7)), y_pow_b.push_back(3 * std::pow(n, 0.7) + 2);
  }
  const CurveModel s = FitCurveModel(depth, y, se, 0.5, true);
  EXPECT_NEAR(s.a, 2, 1e-9);
  EXPECT_NEAR(s.b, 1, 1e-9);
  EXPECT_NEAR(s.chi2, 0, 1e-9);
  EXPECT_NEAR(s.r2, 1, 1e-12);
  EXPECT_EQ(s.k, 2);
  EXPECT_EQ(s.n, 9);
  EXPECT_NEAR(s.aic, 4, 1e-9);  // χ² + 2k
  EXPECT_NEAR(s.At(4), 5, 1e-9);
  const CurveModel l = FitCurveModel(depth, y, se, 1.0, true, 2.0);
  EXPECT_GT(l.chi2, 0.01);
  EXPECT_LT(l.r2, 1);
  EXPECT_NEAR(l.aic, l.chi2 / 2 + 4, 1e-12);  // χ²/ĉ + 2k
  const CurveModel p = FitPowerModel(depth, y_pow, se, false);
  EXPECT_NEAR(p.p, 0.7, 1e-5);
  EXPECT_NEAR(p.a, 3, 1e-4);
  EXPECT_TRUE(std::isnan(p.b));
  EXPECT_EQ(p.k, 2);
  const CurveModel pb = FitPowerModel(depth, y_pow_b, se, true);
  EXPECT_NEAR(pb.p, 0.7, 1e-4);
  EXPECT_NEAR(pb.b, 2, 1e-3);
  EXPECT_EQ(pb.k, 3);
}

TEST(Curve, WeightsFollowSe) {
  // d50 = 2N, one wild point with a huge se: it barely moves the fit.
  std::vector<double> depth = {2, 4, 6, 8, 10}, y = {4, 8, 30, 16, 20};
  std::vector<double> se = {0.5, 0.5, 1e6, 0.5, 0.5};
  const CurveModel m = FitCurveModel(depth, y, se, 1.0, true);
  EXPECT_NEAR(m.a, 2, 1e-6);
  EXPECT_NEAR(m.b, 0, 1e-5);
}

TEST(Curve, Validate) {
  EXPECT_NO_THROW(CurveOptions().validate());
  auto expect_bad = [](CurveOptions o, const std::string& key) {
    try {
      o.validate();
      ADD_FAILURE() << "no error for " << key;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  CurveOptions o;
  o.bootstrap = -1;
  expect_bad(o, "curve.bootstrap");
  o = {};
  o.ci_level = 1.5;
  expect_bad(o, "curve.ci_level");
  EXPECT_THROW(FitCurve({}, {}, o), UsageError);
  PsychometricOptions bad;
  bad.lapse_max = 0.7;
  EXPECT_THROW(FitCurve({}, bad), UsageError);
}

TEST(Curve, TooFewDepths) {
  std::map<double, std::vector<Trial>> sweep = Simulate(Sqrt3, 3, 17, 0, 7);
  for (auto it = sweep.begin(); it != sweep.end();) {
    it = it->first == 4 || it->first == 9 ? std::next(it) : sweep.erase(it);
  }
  for (int d = 3; d <= 17; ++d) sweep[30].push_back({static_cast<double>(d), true});
  const CurveReport r = FitCurve(sweep);
  EXPECT_FALSE(r.fitted);
  EXPECT_EQ(r.censored_depths, 1);
  EXPECT_EQ(r.fit.depths.size(), 3u);
  EXPECT_NE(r.note.find("a curve needs 3"), std::string::npos) << r.note;
  EXPECT_EQ(r.Verdict().rfind("no curve fitted", 0), 0u) << r.Verdict();
}

TEST(Curve, ExponentVerdictReadsTheCiAgainstHalfAndOne) {
  EXPECT_EQ(ExponentVerdictOf(0.34, 0.56), ExponentVerdict::kSqrt);
  EXPECT_EQ(ExponentVerdictOf(0.5, 0.99), ExponentVerdict::kSqrt);  // the ends count as inside
  EXPECT_EQ(ExponentVerdictOf(0.62, 1.3), ExponentVerdict::kLinear);
  EXPECT_EQ(ExponentVerdictOf(0.4, 1.1), ExponentVerdict::kBoth);
  EXPECT_EQ(ExponentVerdictOf(0.2, 0.45), ExponentVerdict::kNeither);
  EXPECT_EQ(ExponentVerdictOf(0.6, 0.9), ExponentVerdict::kNeither);
  EXPECT_EQ(ExponentVerdictOf(std::nan(""), 0.9), ExponentVerdict::kUnknown);
  EXPECT_STREQ(ExponentVerdictText(ExponentVerdict::kLinear), "linear");
}

TEST(Curve, VerdictText) {
  CurveReport r;
  r.fitted = true;
  r.power.p = 0.4923, r.p_lo = 0.381, r.p_hi = 0.6149;
  r.preferred = CurveKind::kSqrt, r.delta_aic = 14.2;
  EXPECT_EQ(r.Verdict(),
            "field grows as N^0.49 (95% CI 0.38–0.61): √N (the CI excludes 1); √N preferred over N "
            "(ΔAIC 14)");
  r.p_lo = 0.3, r.p_hi = 0.45;
  EXPECT_EQ(r.Verdict(),
            "field grows as N^0.49 (95% CI 0.30–0.45): neither √N nor N (the CI holds neither); √N "
            "preferred over N (ΔAIC 14)");
  r.preferred = CurveKind::kLinear, r.delta_aic = 1.26, r.p_lo = r.p_hi = std::nan(""),
  r.power.b = 2;
  EXPECT_EQ(r.Verdict(), "field grows as N^0.49 + b; √N and N not distinguished (ΔAIC 1.3 for N)");
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["preferred"], "linear");
  EXPECT_EQ(j["exponent"], "unknown");
  EXPECT_TRUE(j["p_lo"].is_null());
  EXPECT_EQ(j["verdict"], r.Verdict());
}

TEST(Curve, BootstrapIsReproducible) {
  const auto sweep = Simulate(Sqrt3, 3, 17, 0, 11);
  CurveOptions o;
  o.bootstrap = 30, o.seed = 5;
  const CurveReport a = FitCurve(sweep, {}, o), b = FitCurve(sweep, {}, o);
  EXPECT_EQ(a.p_lo, b.p_lo);
  EXPECT_EQ(a.p_hi, b.p_hi);
  EXPECT_EQ(a.bootstrap_used, 30);
  EXPECT_LT(a.p_lo, a.power.p);
  EXPECT_GT(a.p_hi, a.power.p);
  o.seed = 6;
  EXPECT_NE(FitCurve(sweep, {}, o).p_lo, a.p_lo);
}

// d50 = 3√N, s = 1, distances 3..17, 3 trainings per cell, 200 sweeps. Counted: (1) every depth
// estimate of every sweep (23 × 200, censored ones with their one-sided intervals) whose d50 CI
// holds 3√N; (2) of the first 100 sweeps (for time), bootstrapped with 100 replicates (half the
// default), those whose p CI holds 0.5 and lies below 1; (3) sweeps preferring √N.
void CheckSqrtSweeps(double lapse) {
  const int kSweeps = 200, kBootstrapped = 100;
  int covered = 0, total = 0, p_ok = 0, sqrt_preferred = 0;
  for (int i = 0; i < kSweeps; ++i) {
    CurveOptions o;
    o.bootstrap = i < kBootstrapped ? 100 : 0, o.seed = i + 1;
    const CurveReport r = FitCurve(Simulate(Sqrt3, 3, 17, lapse, 1000 + i), {}, o);
    CountCovered(r.fit, Sqrt3, covered, total);
    p_ok += i < kBootstrapped && r.exponent() == ExponentVerdict::kSqrt;
    sqrt_preferred += r.preferred == CurveKind::kSqrt;
  }
  const double d50_rate = static_cast<double>(covered) / total;
  const double p_rate = static_cast<double>(p_ok) / kBootstrapped;
  std::printf(
      "lapse %.2f: d50 CI coverage %.3f (%d/%d); p CI holds 0.5, excludes 1: %d/%d; "
      "sqrt preferred: %d/%d\n",
      lapse, d50_rate, covered, total, p_ok, kBootstrapped, sqrt_preferred, kSweeps);
  EXPECT_EQ(total, 23 * kSweeps);
  EXPECT_GE(d50_rate, 0.90);
  EXPECT_GE(p_rate, 0.90);
  EXPECT_GE(sqrt_preferred, 0.85 * kSweeps);
}

TEST(CurveSimulation, SqrtSweeps) { CheckSqrtSweeps(0); }
TEST(CurveSimulation, SqrtSweepsWithLapses) { CheckSqrtSweeps(0.1); }

// d50 = 0.8·N, distances 1..21: 200 sweeps (no bootstrap) must prefer N over √N, with the d50
// CIs covering as above and the power law's p near 1.
void CheckLinearSweeps(double lapse) {
  const int kSweeps = 200;
  int covered = 0, total = 0, linear = 0, p_near_1 = 0;
  CurveOptions o;
  o.bootstrap = 0;
  for (int i = 0; i < kSweeps; ++i) {
    const CurveReport r = FitCurve(Simulate(Linear08, 1, 21, lapse, 5000 + i), {}, o);
    CountCovered(r.fit, Linear08, covered, total);
    linear += r.fitted && r.preferred == CurveKind::kLinear;
    p_near_1 += std::abs(r.power.p - 1) < 0.15;
  }
  const double d50_rate = static_cast<double>(covered) / total;
  std::printf("lapse %.2f: d50 CI coverage %.3f; linear preferred %d/%d; |p - 1| < 0.15: %d\n",
              lapse, d50_rate, linear, kSweeps, p_near_1);
  EXPECT_GE(d50_rate, 0.90);
  EXPECT_GE(linear, 0.90 * kSweeps);
  EXPECT_GE(p_near_1, 0.90 * kSweeps);
}

TEST(CurveSimulation, LinearSweeps) { CheckLinearSweeps(0); }
TEST(CurveSimulation, LinearSweepsWithLapses) { CheckLinearSweeps(0.1); }

TEST(CurveSimulation, FullFitIsFast) {
  // 23 depths × 15 distances × 3 trainings, 200 replicates: well under 0.5 s of CPU at -O2.
  const auto sweep = Simulate(Sqrt3, 3, 17, 0.1, 99);
  const std::clock_t t0 = std::clock();
  const CurveReport r = FitCurve(sweep);
  const double seconds = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  std::printf("FitCurve, B = 200, 10%% lapses: %.3f s CPU; %s\n", seconds, r.Verdict().c_str());
  EXPECT_EQ(r.bootstrap_used, 200);
  EXPECT_LT(seconds, 2.0);  // generous: sanitizer and debug builds run this too
}

}  // namespace
}  // namespace rfx::stats
