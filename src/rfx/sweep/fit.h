// `rfx fit`: how far each depth sees, from every training of a sweep directory, whatever its mode
// (grid, threshold, adaptive, any repeats). Each training is a learned / not-learned trial; the
// field of a depth is d50, the distance learned half the time, from the psychometric fit
// (psychometric.h: per-depth d50, shared slope and lapse, profile-likelihood CIs); d50 against
// depth is fitted by √N, N and a power law and compared by AIC (curve.h).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "rfx/stats/curve.h"
#include "rfx/stats/psychometric.h"

namespace rfx::sweep {

// What `rfx fit` is asked.
struct FitOptions {
  bool sweep_level = true;  // take the level from the sweep's sweep.threshold.accuracy
  double level = 0.9;       // else: the accuracy that counts as learned, in (0, 1]
  int64_t budget = 0;       // > 0: count a training as learned only if it learned by this step
                            // (its periodic check passed at step <= budget: needs train.early_stop)
  int bootstrap = 200;      // replicates for the CI of p (0: none)
  uint64_t seed = 1;        // bootstrap seed
  bool shared_slope = true;  // one psychometric slope for all depths (else one per depth)
  void validate() const;     // UsageError naming the option and its range
};

// Trials per depth from sweep records: records whose `fixed` keys match, with numeric
// `depth_key` and `axis_key`. Failed trainings are not outcomes: they are left out and counted
// in `*failed`. A training is learned when its status is ok and accuracy >= level, and, with a
// budget, its learned_at is at most the budget; records without periodic checks cannot say that
// and are counted in `*unchecked` (and left out) when a budget is given.
std::map<double, std::vector<stats::Trial>> Outcomes(const std::vector<nlohmann::json>& records,
                                                     const std::string& depth_key,
                                                     const std::string& axis_key, double level,
                                                     int64_t budget, const nlohmann::json& fixed,
                                                     int* failed, int* unchecked);

// The fit of one combination of the axes other than depth and distance.
struct GroupFit {
  nlohmann::json where = nlohmann::json::object();  // the fixed axis values
  stats::CurveReport curve;
  int trainings = 0;  // outcomes used
  int failed = 0;     // failed trainings left out
  int unchecked = 0;  // with a budget: trainings without periodic checks, left out
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

}  // namespace rfx::sweep
