#include "rfx/stats/adaptive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "rfx/stats/curve.h"
#include "rfx/stats/psychometric.h"
#include "rfx/util/error.h"

namespace rfx::stats {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> Range(int from, int to) {
  std::vector<double> v;
  for (int d = from; d <= to; ++d) v.push_back(d);
  return v;
}

// The simulated training: learned with probability (1 − lapse)·σ((d50 − d)/s).
class Oracle {
 public:
  Oracle(double d50, double slope, double lapse, uint64_t seed)
      : d50_(d50), slope_(slope), lapse_(lapse), rng_(seed) {}
  Trial Train(double d) {
    const double p = (1 - lapse_) / (1 + std::exp(-(d50_ - d) / slope_));
    const double u = static_cast<double>(rng_() >> 11) * 0x1p-53;  // same on every platform
    return Trial{d, u < p};
  }
  void set_d50(double d50) { d50_ = d50; }

 private:
  double d50_, slope_, lapse_;
  std::mt19937_64 rng_;
};

struct DepthRun {
  AdaptiveStep last;
  std::vector<Trial> trials;
};

// One depth's adaptive run against `oracle` until NextAdaptive says done.
DepthRun RunDepth(const std::vector<double>& distances, Oracle* oracle, double prior,
                  const AdaptiveOptions& options) {
  DepthRun run;
  for (;;) {
    run.last = NextAdaptive(distances, run.trials, prior, options);
    if (run.last.done) return run;
    run.trials.push_back(oracle->Train(distances[run.last.distance_index]));
  }
}

TEST(AdaptiveOptions, DefaultsAreValid) { EXPECT_NO_THROW(AdaptiveOptions{}.validate()); }

TEST(AdaptiveOptions, BadValuesNameTheirKey) {
  auto expect_key = [](const AdaptiveOptions& o, const std::string& key) {
    try {
      o.validate();
      ADD_FAILURE() << "no error for " << key;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  AdaptiveOptions o;
  o.ci = 0;
  expect_key(o, "sweep.adaptive.ci");
  o = {};
  o.max_trainings = 0;
  expect_key(o, "sweep.adaptive.max_trainings");
  o = {};
  o.min_trainings = 41;
  expect_key(o, "sweep.adaptive.min_trainings");
  o = {};
  o.lapse = 0.5;
  expect_key(o, "sweep.adaptive.lapse");
  o = {};
  o.prior_width = -1;
  expect_key(o, "sweep.adaptive.prior_width");
}

TEST(Adaptive, RejectsBadDistancesAndTrials) {
  const AdaptiveOptions o;
  EXPECT_THROW(NextAdaptive({}, {}, kNaN, o), UsageError);
  EXPECT_THROW(NextAdaptive({3, 3, 4}, {}, kNaN, o), UsageError);
  EXPECT_THROW(NextAdaptive({5, 4}, {}, kNaN, o), UsageError);
  EXPECT_THROW(NextAdaptive({3, 4}, {Trial{kNaN, true}}, kNaN, o), UsageError);
}

TEST(Adaptive, BudgetIsDepthsTimesMax) {
  AdaptiveOptions o;
  o.max_trainings = 25;
  EXPECT_EQ(AdaptiveBudget(23, o), 575);
  EXPECT_EQ(AdaptiveBudget(0, o), 0);
  EXPECT_THROW(AdaptiveBudget(-1, o), UsageError);
}

TEST(Adaptive, SameTrialsInAnyOrderGiveTheSameStep) {
  const std::vector<double> distances = Range(7, 48);
  Oracle oracle(15.5, 1.5, 0.1, 7);
  std::vector<Trial> trials;
  for (int i = 0; i < 30; ++i) trials.push_back(oracle.Train(distances[(i * 7) % 20]));
  const AdaptiveStep ref = NextAdaptive(distances, trials, 14.0, AdaptiveOptions{});
  ASSERT_FALSE(ref.done);
  std::mt19937 rng(3);
  for (int k = 0; k < 10; ++k) {
    std::shuffle(trials.begin(), trials.end(), rng);
    const AdaptiveStep s = NextAdaptive(distances, trials, 14.0, AdaptiveOptions{});
    EXPECT_EQ(s.distance_index, ref.distance_index);
    EXPECT_EQ(s.done, ref.done);
    EXPECT_EQ(s.d50, ref.d50);  // bit-identical, not merely close
    EXPECT_EQ(s.ci_lo, ref.ci_lo);
    EXPECT_EQ(s.ci_hi, ref.ci_hi);
    EXPECT_EQ(s.reason, ref.reason);
  }
}

TEST(Adaptive, FirstStepFollowsThePrior) {
  const std::vector<double> distances = Range(7, 48);
  const AdaptiveOptions o;
  const AdaptiveStep centred = NextAdaptive(distances, {}, 20.0, o);
  ASSERT_FALSE(centred.done);
  EXPECT_NEAR(distances[centred.distance_index], 20.0, 2.0);
  EXPECT_NEAR(centred.d50, 20.0, 1.0);  // the prior is cut at the grid's lower end
  const AdaptiveStep broad = NextAdaptive(distances, {}, kNaN, o);
  ASSERT_FALSE(broad.done);
  EXPECT_NEAR(distances[broad.distance_index], 27.5, 2.0);
  EXPECT_NEAR(broad.d50, 27.5, 0.5);
  EXPECT_GT(broad.ci_hi - broad.ci_lo, 30.0);
}

TEST(Adaptive, StopsAtMaxTrainings) {
  const std::vector<double> distances = Range(7, 48);
  AdaptiveOptions o;
  o.max_trainings = 10;
  o.min_trainings = 3;
  std::vector<Trial> trials;
  for (int i = 0; i < 10; ++i) trials.push_back(Trial{i % 2 ? 10.0 : 40.0, i % 3 == 0});
  const AdaptiveStep s = NextAdaptive(distances, trials, kNaN, o);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.stop, AdaptiveStop::kMaxTrainings);
  EXPECT_EQ(s.reason, "max_trainings 10 reached");
  EXPECT_EQ(s.distance_index, -1);
  trials.pop_back();
  EXPECT_FALSE(NextAdaptive(distances, trials, kNaN, o).done);
}

TEST(Adaptive, StopsWhenTheIntervalIsNarrow) {
  const std::vector<double> distances = Range(7, 48);
  std::vector<Trial> trials;
  for (int r = 0; r < 4; ++r) {
    for (int d = 18; d <= 26; ++d) trials.push_back(Trial{double(d), d <= 21});
  }
  const AdaptiveStep s = NextAdaptive(distances, trials, kNaN, AdaptiveOptions{});
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.stop, AdaptiveStop::kInterval);
  EXPECT_EQ(s.reason.rfind("ci ", 0), 0u) << s.reason;
  EXPECT_LE(s.ci_hi - s.ci_lo, 2.0);
  EXPECT_NEAR(s.d50, 21.5, 0.5);
  // ... but not before min_trainings.
  AdaptiveOptions late;
  late.min_trainings = 37;
  EXPECT_FALSE(NextAdaptive(distances, trials, kNaN, late).done);
}

TEST(Adaptive, StopsWhenTheFieldIsBeyondTheRange) {
  const std::vector<double> distances = Range(3, 17);
  Oracle oracle(40, 1, 0, 5);
  const DepthRun run = RunDepth(distances, &oracle, kNaN, AdaptiveOptions{});
  EXPECT_EQ(run.last.stop, AdaptiveStop::kOutOfRange) << run.last.reason;
  EXPECT_GT(run.last.ci_lo, 17.0);
  EXPECT_LT(run.last.trainings, 15);
}

// True d50 = 12.3, s = 1, no lapse, no prior: the final 95% interval holds the truth in at least
// 90% of 200 runs.
TEST(Adaptive, CoverageAgainstALogisticOracle) {
  const std::vector<double> distances = Range(7, 48);
  const AdaptiveOptions o;
  int covered = 0, trainings = 0, at_max = 0;
  double width = 0;
  for (int run = 0; run < 200; ++run) {
    Oracle oracle(12.3, 1.0, 0.0, 1000 + run);
    const DepthRun r = RunDepth(distances, &oracle, kNaN, o);
    covered += r.last.ci_lo <= 12.3 && 12.3 <= r.last.ci_hi;
    trainings += r.last.trainings;
    at_max += r.last.stop == AdaptiveStop::kMaxTrainings;
    width += r.last.ci_hi - r.last.ci_lo;
  }
  std::cout << "coverage " << covered / 2.0 << "% of 200, mean trainings " << trainings / 200.0
            << ", mean width " << width / 200 << " px, " << at_max << " runs hit max_trainings\n";
  EXPECT_GE(covered, 180);
  EXPECT_LT(trainings / 200.0, 36.0);
}

TEST(Adaptive, OneStepIsFast) {
  const std::vector<double> distances = Range(7, 48);
  Oracle oracle(20, 2, 0.05, 11);
  std::vector<Trial> trials;
  for (int i = 0; i < 40; ++i) trials.push_back(oracle.Train(distances[i]));  // 40 distinct
  AdaptiveOptions o;
  o.max_trainings = 41;
  std::vector<double> ms;
  for (int k = 0; k < 21; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    const AdaptiveStep s = NextAdaptive(distances, trials, 18.0, o);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_FALSE(s.done);
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "NextAdaptive with 40 trials at 40 distances, 42 candidates: median " << ms[10]
            << " ms, min " << ms[0] << " ms\n";
  // Not a speed target (those live in bench/): a guard against a step that refits per candidate
  // in a way that grows like a training. Min 2.4 ms (median 3.1) with nice 10 beside two
  // trainings on 2 cores, where the old 2 ms bound failed; a training takes seconds.
  EXPECT_LT(ms[0], 20.0);
}

// The acceptance test. Oracle d50 = 3·√N, s = 1, no lapse, depths 2..24, distances
// 3..17; the width of FitCurve's bootstrap CI of the exponent p (median over 20 sweeps) of
// adaptive sweeps (each depth's prior: the previous depth's final d50) against grids with
// repeats (all 15 distances × r). Passes when adaptive is at least 2× narrower for the same
// budget, or at least as narrow with at most half the budget.
using ByDepth = std::map<double, std::vector<Trial>>;
constexpr int kSweeps = 20;

uint64_t OracleSeed(int sweep, int depth, int arm) {
  return 1000003ull * sweep + 101 * depth + arm;
}

ByDepth GridSweep(int sweep, int repeats) {
  ByDepth by_depth;
  for (int n = 2; n <= 24; ++n) {
    Oracle oracle(3 * std::sqrt(n), 1, 0, OracleSeed(sweep, n, 0));
    for (int r = 0; r < repeats; ++r) {
      for (int d = 3; d <= 17; ++d) by_depth[n].push_back(oracle.Train(d));
    }
  }
  return by_depth;
}

ByDepth AdaptiveSweep(int sweep, const AdaptiveOptions& options) {
  const std::vector<double> distances = Range(3, 17);
  ByDepth by_depth;
  double prior = kNaN;
  for (int n = 2; n <= 24; ++n) {
    Oracle oracle(3 * std::sqrt(n), 1, 0, OracleSeed(sweep, n, 1));
    DepthRun run = RunDepth(distances, &oracle, prior, options);
    prior = run.last.d50;
    by_depth[n] = std::move(run.trials);
  }
  return by_depth;
}

// One way of sampling, over all sweeps.
struct Arm {
  explicit Arm(std::string n) : name(std::move(n)) {}
  std::string name;
  std::vector<double> widths;  // p's CI per sweep (+inf when the curve could not be fitted)
  int64_t trainings = 0;       // over all sweeps
  int covered = 0;             // sweeps whose CI holds the true p = 0.5
  double MedianWidth() const {
    std::vector<double> w = widths;
    std::sort(w.begin(), w.end());
    return w.empty() ? kNaN : (w[(w.size() - 1) / 2] + w[w.size() / 2]) / 2;
  }
  double Budget() const { return static_cast<double>(trainings) / widths.size(); }
  void Add(const ByDepth& by_depth) {
    CurveOptions curve;
    curve.bootstrap = 100;
    const CurveReport r = FitCurve(by_depth, PsychometricOptions{}, curve);
    const double w = r.p_hi - r.p_lo;
    widths.push_back(r.fitted && std::isfinite(w) ? w : std::numeric_limits<double>::infinity());
    covered += r.p_lo <= 0.5 && 0.5 <= r.p_hi;
    for (const auto& [n, trials] : by_depth) trainings += static_cast<int64_t>(trials.size());
  }
  void Print() const {
    std::cout << name << ": " << Budget() << " trainings per sweep, median p CI width "
              << MedianWidth() << ", p = 0.5 inside in " << covered << "/" << widths.size() << "\n";
  }
};

TEST(Adaptive, AcceptanceNarrowerExponentThanAGrid) {
  AdaptiveOptions fixed15;  // spends exactly 15 per depth: the budget of a grid with 1 repeat
  fixed15.ci = 1e-6;
  fixed15.max_trainings = 15;
  AdaptiveOptions fixed8 = fixed15;  // about half that budget
  fixed8.max_trainings = 7;
  const AdaptiveOptions natural;  // the defaults: stop at a 2 px interval
  Arm grid1("grid, 1 repeat"), grid2("grid, 2 repeats"), grid4("grid, 4 repeats");
  Arm ad15("adaptive, 15 per depth"), ad7("adaptive, 7 per depth"), adn("adaptive, ci 2 px");
  for (int sweep = 0; sweep < kSweeps; ++sweep) {
    grid1.Add(GridSweep(sweep, 1));
    grid2.Add(GridSweep(sweep, 2));
    grid4.Add(GridSweep(sweep, 4));
    ad15.Add(AdaptiveSweep(sweep, fixed15));
    ad7.Add(AdaptiveSweep(sweep, fixed8));
    adn.Add(AdaptiveSweep(sweep, natural));
  }
  for (const Arm* a : {&grid1, &grid2, &grid4, &ad7, &ad15, &adn}) a->Print();
  const double same_budget = grid1.MedianWidth() / ad15.MedianWidth();
  const bool half_budget =
      ad15.Budget() <= grid2.Budget() / 2 && ad15.MedianWidth() <= grid2.MedianWidth();
  std::cout << "same budget (" << grid1.Budget() << "): grid/adaptive width " << same_budget
            << "; adaptive at " << ad15.Budget() << " vs grid at " << grid2.Budget() << ": "
            << ad15.MedianWidth() << " vs " << grid2.MedianWidth() << "\n";
  EXPECT_EQ(ad15.Budget(), grid1.Budget());
  EXPECT_TRUE(same_budget >= 2 || half_budget);
  // Narrow because informative, not because overconfident.
  EXPECT_GE(ad15.covered, kSweeps * 3 / 4);
}

}  // namespace
}  // namespace rfx::stats
