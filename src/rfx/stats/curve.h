// How the field grows with depth (docs/design.md#measuring-a-field-under-noise): the per-depth d50s
// of a psychometric fit against depth N, fitted by weighted least squares (weights 1/se², se from
// the d50 CIs) as
//   sqrt:   d50 = a·√N + b
//   linear: d50 = a·N + b
//   power:  d50 = a·N^p, or a·N^p + b only when the intercept lowers the AIC by more than 6
//           ("strong support"): b trades against a and p, so without clear need it only blurs
//           p (with ΔAIC > 2 the null picked it in 4% of simulated √N sweeps, and their p CIs
//           missed 0.5). p is searched in [0.05, 3] (grid, then golden section).
// Model comparison: the se are treated as known standard deviations, so −2·log L = χ² + const
// and AIC = χ²/ĉ + 2k, k the number of fitted parameters. ĉ = max(1, smallest χ²/(n − k) over
// the models) allows for scatter beyond the se (quasi-AIC, Burnham & Anderson 2002 §6.2); ĉ = 1
// when the se explain the scatter. r2 is the weighted R². `preferred` is sqrt or linear (the
// question is √N against N; both have k = 2, so ΔAIC = Δχ²/ĉ).
// p's CI: a bootstrap over trainings — each depth's trials are resampled with replacement, the
// psychometric model refitted (warm-started from the full fit; d50s, s and λ all refitted), and
// the power law (same intercept choice) refitted to the depths uncensored in both the full fit
// and the replicate, with the weights of the full fit. Percentile interval. Replicate i draws
// from mt19937_64(seed_seq{seed, i}), so a replicate does not depend on the others.
// Censored depths (and depths whose CI is unbounded) stay out of every curve fit; a curve is
// fitted with >= 3 such depths (two parameters and one degree of freedom).
// Measured (d50 = 3√N, s = 1, depths 2–24, distances 3–17, 3 trials per cell, B = 100): the
// p CI holds 0.5 and excludes 1 in 94.5% of 200 sweeps (94.0% with 10% lapses; the bootstrap
// is ~5% narrow, the usual small-sample shortfall); with d50 = 0.8·N (distances 1–21) N is
// preferred in 200/200 (199/200 with lapses). tests/stats/curve_test.cpp checks these (p on 100
// of the sweeps). One FitCurve of that size with B = 200 takes ~0.1 s of CPU at -O2 (~0.14 s with
// lapses, whose likelihood needs the global d50 search).
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/stats/level.h"
#include "rfx/stats/psychometric.h"

namespace rfx::stats {

enum class CurveKind { kSqrt, kLinear, kPower };
const char* CurveKindText(CurveKind k);  // "sqrt", "linear", "power"

// What p's CI says about the study's question: kSqrt when it holds 0.5 and excludes 1, kLinear
// when it holds 1 and excludes 0.5, kBoth / kNeither otherwise, kUnknown without a finite CI.
// This is the verdict of a sweep; the AIC comparison of c·√N + b with k·N + b is reported beside
// it (the intercepts absorb curvature, so over a narrow range of depths the AIC often cannot
// decide while p's CI can).
enum class ExponentVerdict { kUnknown, kSqrt, kLinear, kBoth, kNeither };
ExponentVerdict ExponentVerdictOf(double p_lo, double p_hi);
const char* ExponentVerdictText(ExponentVerdict v);  // "unknown", "sqrt", "linear", ...

struct CurveModel {
  double a = std::numeric_limits<double>::quiet_NaN();     // scale
  double b = std::numeric_limits<double>::quiet_NaN();     // intercept (NaN: none fitted)
  double p = std::numeric_limits<double>::quiet_NaN();     // exponent (0.5, 1 or fitted)
  double r2 = std::numeric_limits<double>::quiet_NaN();    // weighted R²
  double aic = std::numeric_limits<double>::quiet_NaN();   // χ²/ĉ + 2k
  double chi2 = std::numeric_limits<double>::quiet_NaN();  // Σ ((y − fit)/se)²
  int k = 0;                                               // fitted parameters
  int n = 0;                                               // points
  double At(double depth) const;                           // the model's d50 at a depth
  nlohmann::json ToJson() const;                           // every field; non-finite ones as null
};

// Errors name the keys "curve.<field>".
struct CurveOptions {
  int bootstrap = 200;         // replicates for p's CI, >= 0 (0: no CI); < 20 gives a crude CI
  uint64_t seed = 1;           // bootstrap seed
  double ci_level = kCiLevel;  // confidence of p's CI, in (0, 1)
  void validate() const;       // ConfigError (a UsageError) naming the field
};

struct CurveReport {
  PsychometricFit fit;                 // the per-depth estimates used
  CurveModel sqrt_fit, linear, power;  // power: a·N^p (+ b if supported, else b NaN)
  double p_lo = std::numeric_limits<double>::quiet_NaN();  // bootstrap CI of p
  double p_hi = std::numeric_limits<double>::quiet_NaN();
  double ci_level = kCiLevel;  // of [p_lo, p_hi]
  int bootstrap_used = 0;      // replicates with >= 3 usable depths (the others are dropped)
  double c_hat = 1;            // ĉ of the AIC
  bool fitted = false;         // >= 3 uncensored depths with finite CIs
  CurveKind preferred = CurveKind::kSqrt;                       // sqrt or linear only
  double delta_aic = std::numeric_limits<double>::quiet_NaN();  // AIC(other) − AIC(preferred)
  int censored_depths = 0;
  std::string note;
  ExponentVerdict exponent() const { return ExponentVerdictOf(p_lo, p_hi); }
  // e.g. "field grows as N^0.49 (95% CI 0.38–0.61): √N (the CI excludes 1); √N preferred over
  // N (ΔAIC 14)"
  std::string Verdict() const;
  nlohmann::json ToJson() const;
};

// Weighted least squares d50 ≈ a·f(N) + b (with_intercept) or a·f(N), f(N) = N^p, and its AIC
// with the given ĉ. depth, d50, se parallel; depth > 0, se > 0.
CurveModel FitCurveModel(const std::vector<double>& depth, const std::vector<double>& d50,
                         const std::vector<double>& se, double p, bool with_intercept,
                         double c_hat = 1);
// The same with p fitted in [0.05, 3].
CurveModel FitPowerModel(const std::vector<double>& depth, const std::vector<double>& d50,
                         const std::vector<double>& se, bool with_intercept, double c_hat = 1);

CurveReport FitCurve(const std::map<double, std::vector<Trial>>& by_depth,
                     const PsychometricOptions& psy = {}, const CurveOptions& curve = {});

}  // namespace rfx::stats
