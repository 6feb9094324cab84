// Learning as a probability (docs/design.md#measuring-a-field-under-noise): a training at (depth,
// distance) is a Bernoulli trial, learned or not, with
//   P(learned | d) = (1 − λ)·σ((d50 − d)/s),   σ the logistic,
// λ a lapse rate (trainings that fail whatever the distance; Wichmann & Hill 2001), s > 0 the
// slope (px) and d50 the field of the depth (P is half its maximum there). Pure math, no torch.
//
// Estimation (FitPsychometric) — joint maximum likelihood over all depths:
//  * Parameters: one d50 per depth; one λ shared by all depths (a lapse is a property of
//    training, and one depth's ~30 trials cannot tell it from the slope); s shared (default)
//    or one per depth.
//  * Shared slope: plain ML. With many depths and few trials each it is biased steep (the
//    incidental-parameter problem: ≈ −8% at 23 depths × 45 trials), so the d50 CIs cover 93%
//    instead of 95% on simulated sweeps (tests/stats/psychometric_test.cpp). The Cox–Reid
//    adjusted profile likelihood removes that bias on noisy data but breaks on separable data
//    (every depth learns up to a distance and nothing beyond, as threshold searches give): its
//    −½·log I(d50) term → −∞ as s → 0 and drove s to ~9 px and every d50 to its data's edge;
//    it is kept in psychometric_ml.cpp behind kCoxReid = false. Per-depth slopes: plain ML.
//  * Algorithm: for given (s, λ) each depth's d50 is maximised on its own — Newton from the
//    previous value, and globally (starts between every tried distance with a success and the
//    next one with a failure, and beyond the ends) wherever the likelihood may have several
//    modes, i.e. with λ > 0 (at λ = 0 it is concave in (d50/s, 1/s)); d50 = ±∞ (the supremum
//    of "learns whatever it tries" / "learns nothing") is always compared. (s, λ) are found by
//    projected Newton on the profile, with the information Schur-complemented over the d50s.
//    A cold fit starts from a 3 × 3 grid of (s, λ); a warm one (bootstrap replicates) from the
//    fit it is given.
//  * Bounds: s ∈ [0.25 px, R] (R = max(2, range of all distances)): below 0.25 px a logistic is
//    a step on an integer grid, above R it is flat where it was tried. λ ∈ [0, lapse_max].
//    Finite d50 ∈ [smallest − R, largest + R] of the depth, else ±∞.
//  * Censoring: the ML d50 of a depth above the largest distance tried → kAbove (d50 reported =
//    that distance); below the smallest → kBelow (d50 = the smallest). So no failures → kAbove
//    and no successes → kBelow, while a depth that learns 9 of 10 everywhere, or fails once at
//    the smallest distance only, is kAbove: its failures are lapses, it is not "below".
//  * Interval of d50: profile likelihood, the d50 with 2·(ℓmax − ℓprofile(d50)) ≤ χ²₁(ci_level)
//    (3.841 at 95%), where ℓprofile re-maximises s, λ (and u_j) with the other depths'
//    contribution taken to second order in (s, λ) around the fit — a profile point then costs
//    one depth's likelihood. Checked against the exact profile (a full refit per point): ends
//    agree to < 0.005 px without lapses, to ~1% of the width with λ ≈ 0.1. Ends by stepping out
//    from the estimate, then regula falsi to 1e-4 px; an end not reached inside the search
//    range is ±∞. A censored depth's interval is open on the far side and holds the bound:
//    kAbove → [min(profile end, largest), +∞), kBelow → (−∞, max(profile end, smallest)].
//  * Measured (tests/stats/curve_test.cpp, d50 = 3√N, s = 1, depths 2–24, distances 3–17,
//    3 trials per cell, 200 sweeps): 95% CIs cover the truth for 94.3% of depth estimates,
//    94.9% with 10% lapses.
#pragma once
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "rfx/stats/level.h"

namespace rfx::stats {

// One training: the distance it had to see across and whether it learned (accuracy ≥ level).
struct Trial {
  double distance = 0;
  bool learned = false;
};

// kBelow: the depth learns nothing in the range (d50 < smallest distance tried); kAbove: it
// learns everything (d50 > largest distance tried).
enum class Censoring { kNone, kBelow, kAbove };
const char* CensoringText(Censoring c);  // "", "below", "above"

// Errors name the keys "psychometric.<field>".
struct PsychometricOptions {
  double ci_level = kCiLevel;  // confidence of every interval, in (0, 1)
  bool shared_slope = true;    // one slope s for all depths (thin per-depth data), else per depth
  double lapse_max = 0.2;      // λ is fitted in [0, lapse_max], lapse_max in [0, 0.5); 0 disables
  bool intervals = true;       // profile-likelihood CIs of d50; false: point estimates only (fast,
                               // e.g. for bootstrap replicates), ci_lo/ci_hi stay NaN
  void validate() const;       // ConfigError (a UsageError) naming the field
};

struct DepthEstimate {
  double depth = 0;
  double d50 = std::numeric_limits<double>::quiet_NaN();    // ML estimate; for a censored depth
                                                            // the bound (smallest/largest tried)
  double ci_lo = std::numeric_limits<double>::quiet_NaN();  // CI of d50; censored: one side ±∞
  double ci_hi = std::numeric_limits<double>::quiet_NaN();
  double slope = std::numeric_limits<double>::quiet_NaN();  // s (px)
  double lapse = 0;                                         // λ
  int trainings = 0, learned = 0;
  Censoring censored = Censoring::kNone;
  double ci_level = kCiLevel;  // the level of [ci_lo, ci_hi]
  // (ci_hi − ci_lo)/(2·z), z the normal quantile of ci_level: the weight for curve fits.
  // +∞ for a censored depth, NaN without intervals.
  double se() const;
};

struct PsychometricFit {
  std::vector<DepthEstimate> depths;                        // ascending depth
  double slope = std::numeric_limits<double>::quiet_NaN();  // shared s (NaN with per-depth s)
  double lapse = 0;                                         // λ
  double log_likelihood = std::numeric_limits<double>::quiet_NaN();  // at the estimate
  // The unbounded ML d50 of each depth (±∞ for censored-at-infinity), parallel to `depths`;
  // used to warm-start refits.
  std::vector<double> d50_ml;
};

// P(learned | distance) under the model.
double LearnProbability(double distance, double d50, double slope, double lapse);

// Fisher information about d50 of one trial at `distance` (1/px²): where a next training
// narrows d50 the most.
double D50Information(double distance, double d50, double slope, double lapse);

// Σ log P(outcome) over the trials.
double LogLikelihood(const std::vector<Trial>& trials, double d50, double slope, double lapse);

// Joint ML fit of every depth (key: depth). Depths with no trials are skipped.
// UsageError on a non-finite distance or invalid options.
PsychometricFit FitPsychometric(const std::map<double, std::vector<Trial>>& by_depth,
                                const PsychometricOptions& options = {});
// The same, started from `start` (a fit of similar data, e.g. the full data for a bootstrap
// replicate) instead of a coarse search over s and λ.
PsychometricFit FitPsychometric(const std::map<double, std::vector<Trial>>& by_depth,
                                const PsychometricOptions& options, const PsychometricFit& start);

// Normal quantile Φ⁻¹(q), q ∈ (0, 1).
double NormalQuantile(double q);

// Non-finite numbers become null. A depth: {depth, d50, ci: [lo, hi], ci_level, se, slope, lapse,
// trainings, learned, censored: null | "above" | "below"} (fit.json's `depths[]`).
nlohmann::json ToJson(const DepthEstimate& e);
nlohmann::json ToJson(const PsychometricFit& f);

}  // namespace rfx::stats
