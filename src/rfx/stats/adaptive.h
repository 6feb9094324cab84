// Adaptive sampling of one depth's threshold (`sweep.mode: adaptive`,
// docs/design.md#measuring-a-field-under-noise): a Bayesian staircase of the QUEST family (Watson &
// Pelli 1983) that picks, like Kontsevich & Tyler's (1999) Ψ method, the distance whose outcome
// minimises the expected entropy of d50.
//
// The rule (pure math, no torch, no randomness):
// - Model: P(learned | d) = (1 − λ)·σ((d50 − d)/s) with a fixed lapse λ = `lapse` (robustness
//   against the odd failed training; the fit in psychometric.h estimates λ properly).
// - Posterior over a grid: d50 on a uniform grid from min − m to max + m of the swept
//   distances (m = max(2h, range/10), h the mean spacing of the distances, step h/5, at most 400
//   points) × s on 7 log-spaced values from h/4 to 8h (uniform prior on log s).
// - Prior on d50: normal around `prior_d50` (the shallower depth's estimate) with sd
//   `prior_width`·range; uniform over the grid when `prior_d50` is NaN.
// - Next distance: argmin over all candidate distances of the expected entropy of the d50
//   marginal after one more trial; near-ties (relative 1e-12) go to the smaller index.
// - Estimate: the posterior median of d50 and its equal-tailed 95% credible interval.
// - Stop (never before `min_trainings`): the interval is at most `ci` px wide; or the whole
//   interval lies outside the swept range (d50 censored); or `max_trainings` trials are in.
// Trials are aggregated per distance in ascending order before anything is summed, so the step
// depends on the multiset of trials, not on their order, and is bit-reproducible.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "rfx/stats/psychometric.h"

namespace rfx::stats {

// `sweep.adaptive.*` keys.
struct AdaptiveOptions {
  double ci = 2.0;            // sweep.adaptive.ci: stop when the d50 95% interval is at most this
                              // wide (px), > 0
  int max_trainings = 40;     // sweep.adaptive.max_trainings: per depth, >= 1
  int min_trainings = 6;      // sweep.adaptive.min_trainings: never stop before this many, >= 1,
                              // <= max_trainings
  double lapse = 0.05;        // sweep.adaptive.lapse: fixed lapse rate λ of the model, in [0, 0.5)
  double prior_width = 0.25;  // sweep.adaptive.prior_width: sd of the normal prior around the
                              // shallower depth's d50, as a fraction of the swept range, > 0
  // Throws ConfigError (a UsageError) naming the offending sweep.adaptive.* key.
  void validate() const;
};

// Why a depth stops. The text of each value is AdaptiveStopName.
enum class AdaptiveStop {
  kContinue,      // not done: train at distance_index next
  kInterval,      // the 95% interval is at most `ci` wide
  kOutOfRange,    // the 95% interval lies wholly above or below the swept distances
  kMaxTrainings,  // `max_trainings` trials recorded
};
// "continue" | "ci" | "out_of_range" | "max_trainings".
const char* AdaptiveStopName(AdaptiveStop stop);

struct AdaptiveStep {
  bool done = false;                            // stop this depth
  AdaptiveStop stop = AdaptiveStop::kContinue;  // why (kContinue when !done)
  int distance_index = -1;                      // index into `distances` of the next training
                                                // (when !done)
  double d50 = std::numeric_limits<double>::quiet_NaN();    // posterior median (px)
  double ci_lo = std::numeric_limits<double>::quiet_NaN();  // 95% credible interval of d50
  double ci_hi = std::numeric_limits<double>::quiet_NaN();
  int trainings = 0;   // trials taken into account
  std::string reason;  // when done: "ci 1.8 px <= 2", "max_trainings 40 reached", ...
};

// The next step for one depth. `distances`: the swept values, strictly ascending and finite
// (integers in practice, e.g. 7..48). `trials`: every finished training of this depth, in any
// order (distances need not be among `distances`). `prior_d50`: centre of the prior (the
// shallower depth's estimate), or NaN for none. Throws UsageError for bad distances or trials
// and ConfigError for bad options. One call: ~1.3 ms at -O2 for 40 trials, 42 distances.
AdaptiveStep NextAdaptive(const std::vector<double>& distances, const std::vector<Trial>& trials,
                          double prior_d50, const AdaptiveOptions& options);

// The most trainings an adaptive sweep of `depths` depths can cost (for --dry-run).
int64_t AdaptiveBudget(int depths, const AdaptiveOptions& options);

}  // namespace rfx::stats
