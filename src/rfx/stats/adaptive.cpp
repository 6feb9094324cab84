#include "rfx/stats/adaptive.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "rfx/stats/level.h"
#include "rfx/util/error.h"

namespace rfx::stats {
namespace {

constexpr int kSlopes = 7;               // slope grid points
constexpr double kSlopeLo = 0.25;        // smallest slope, in units of the distance spacing
constexpr double kSlopeHi = 8.0;         // largest slope, same units
constexpr double kStepPerSpacing = 5;    // d50 grid points per distance spacing
constexpr int kMaxGrid = 400;            // most d50 grid points
constexpr double kLevel = kCiLevel;      // credible level of the interval
constexpr double kTieTolerance = 1e-12;  // relative: expected entropies this close tie

// The (d50, slope) grid; cell (i, j) is at index i * kSlopes + j.
struct Grid {
  double lo = 0;       // first d50
  double step = 0;     // d50 spacing
  double spacing = 0;  // mean spacing of the swept distances
  int n = 0;           // d50 points
  std::array<double, kSlopes> slope{};
  double D50(int i) const { return lo + step * i; }
  size_t cells() const { return static_cast<size_t>(n) * kSlopes; }
};

Grid MakeGrid(const std::vector<double>& distances) {
  const double range = distances.back() - distances.front();
  const double h = distances.size() > 1 ? range / static_cast<double>(distances.size() - 1)
                                        : std::max(1.0, std::abs(distances.front()) / 10);
  const double margin = std::max(2 * h, range / 10);
  const double span = range + 2 * margin;
  Grid g;
  g.spacing = h;
  g.lo = distances.front() - margin;
  g.n = std::min(kMaxGrid, static_cast<int>(std::ceil(span / h * kStepPerSpacing)) + 1);
  g.step = span / (g.n - 1);
  for (int j = 0; j < kSlopes; ++j) {
    g.slope[j] = h * kSlopeLo * std::pow(kSlopeHi / kSlopeLo, j / double(kSlopes - 1));
  }
  return g;
}

// σ((d50 − x)/s) and 1 − σ (computed without cancellation) for every cell.
void Sigmoids(const Grid& g, double x, std::vector<double>* sig, std::vector<double>* sigc) {
  sig->resize(g.cells());
  sigc->resize(g.cells());
  for (int i = 0; i < g.n; ++i) {
    const double diff = g.D50(i) - x;
    for (int j = 0; j < kSlopes; ++j) {
      const double z = diff / g.slope[j];
      const double e = std::exp(-std::abs(z));
      const double big = 1 / (1 + e), small = e / (1 + e);
      const size_t k = static_cast<size_t>(i) * kSlopes + j;
      (*sig)[k] = z >= 0 ? big : small;
      (*sigc)[k] = z >= 0 ? small : big;
    }
  }
}

// Learned / not-learned counts per distance, ascending: the order-free summary of the trials.
std::map<double, std::pair<int, int>> Aggregate(const std::vector<Trial>& trials) {
  std::map<double, std::pair<int, int>> counts;
  for (const Trial& t : trials) {
    if (!std::isfinite(t.distance)) throw UsageError("adaptive sweep: a trial has no distance");
    auto& c = counts[t.distance];
    (t.learned ? c.first : c.second) += 1;
  }
  return counts;
}

// Normalised posterior over the grid.
std::vector<double> Posterior(const Grid& g, const std::map<double, std::pair<int, int>>& counts,
                              double prior_d50, double prior_sd, double lapse) {
  std::vector<double> logp(g.cells(), 0.0);
  if (!std::isnan(prior_d50)) {
    for (int i = 0; i < g.n; ++i) {
      const double u = (g.D50(i) - prior_d50) / prior_sd;
      for (int j = 0; j < kSlopes; ++j) logp[static_cast<size_t>(i) * kSlopes + j] = -0.5 * u * u;
    }
  }
  std::vector<double> sig, sigc;
  const double log_keep = std::log1p(-lapse);
  for (const auto& [x, c] : counts) {
    Sigmoids(g, x, &sig, &sigc);
    const auto [learned, failed] = c;
    for (size_t k = 0; k < g.cells(); ++k) {
      if (learned > 0) logp[k] += learned * (log_keep + std::log(sig[k]));
      if (failed > 0) logp[k] += failed * std::log(sigc[k] + lapse * sig[k]);
    }
  }
  const double top = *std::max_element(logp.begin(), logp.end());
  double total = 0;
  for (double& v : logp) {
    v = std::exp(v - top);
    total += v;
  }
  for (double& v : logp) v /= total;
  return logp;
}

// The q-quantile of the d50 marginal, each grid point's mass spread over its cell.
double Quantile(const Grid& g, const std::vector<double>& marginal, double q) {
  double cum = 0;
  for (int i = 0; i < g.n; ++i) {
    if (marginal[i] > 0 && cum + marginal[i] >= q) {
      return g.D50(i) + g.step * ((q - cum) / marginal[i] - 0.5);
    }
    cum += marginal[i];
  }
  return g.D50(g.n - 1) + g.step / 2;
}

// E[entropy of the d50 marginal after one trial at x] up to a constant.
double ExpectedEntropy(const Grid& g, const std::vector<double>& post,
                       const std::vector<double>& marginal, const std::vector<double>& sig,
                       double lapse) {
  double p1 = 0, p0 = 0, s1 = 0, s0 = 0;
  for (int i = 0; i < g.n; ++i) {
    const size_t base = static_cast<size_t>(i) * kSlopes;
    double a1 = 0;
    for (int j = 0; j < kSlopes; ++j) a1 += post[base + j] * sig[base + j];
    a1 *= 1 - lapse;
    const double a0 = std::max(0.0, marginal[i] - a1);
    p1 += a1;
    p0 += a0;
    if (a1 > 0) s1 += a1 * std::log(a1);
    if (a0 > 0) s0 += a0 * std::log(a0);
  }
  // Σ_r P(r)·H(d50 | r) = Σ_r (P(r) log P(r) − Σ_i a_r(i) log a_r(i)).
  double h = -s1 - s0;
  if (p1 > 0) h += p1 * std::log(p1);
  if (p0 > 0) h += p0 * std::log(p0);
  return h;
}

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

void CheckDistances(const std::vector<double>& distances) {
  if (distances.empty()) throw UsageError("adaptive sweep: no distances to choose from");
  for (size_t i = 0; i < distances.size(); ++i) {
    if (!std::isfinite(distances[i]) || (i > 0 && !(distances[i] > distances[i - 1]))) {
      throw UsageError("adaptive sweep: the distances must be finite and strictly ascending");
    }
  }
}

}  // namespace

void AdaptiveOptions::validate() const {
  if (!(ci > 0) || !std::isfinite(ci)) {
    throw ConfigError("sweep.adaptive.ci", "value " + Fixed(ci) + " must be > 0 (px)");
  }
  if (max_trainings < 1) {
    throw ConfigError("sweep.adaptive.max_trainings",
                      "value " + std::to_string(max_trainings) + " must be >= 1");
  }
  if (min_trainings < 1 || min_trainings > max_trainings) {
    throw ConfigError("sweep.adaptive.min_trainings",
                      "value " + std::to_string(min_trainings) +
                          " must be >= 1 and <= sweep.adaptive.max_trainings (" +
                          std::to_string(max_trainings) + ")");
  }
  if (!(lapse >= 0 && lapse < 0.5)) {
    throw ConfigError("sweep.adaptive.lapse", "value " + Fixed(lapse) + " must be in [0, 0.5)");
  }
  if (!(prior_width > 0) || !std::isfinite(prior_width)) {
    throw ConfigError("sweep.adaptive.prior_width", "value " + Fixed(prior_width) + " must be > 0");
  }
}

const char* AdaptiveStopName(AdaptiveStop stop) {
  switch (stop) {
    case AdaptiveStop::kContinue:
      return "continue";
    case AdaptiveStop::kInterval:
      return "ci";
    case AdaptiveStop::kOutOfRange:
      return "out_of_range";
    case AdaptiveStop::kMaxTrainings:
      return "max_trainings";
  }
  return "?";
}

AdaptiveStep NextAdaptive(const std::vector<double>& distances, const std::vector<Trial>& trials,
                          double prior_d50, const AdaptiveOptions& options) {
  options.validate();
  CheckDistances(distances);
  if (std::isinf(prior_d50)) throw UsageError("adaptive sweep: the prior d50 is infinite");
  const Grid g = MakeGrid(distances);
  const double range = std::max(distances.back() - distances.front(), g.spacing);
  const std::vector<double> post =
      Posterior(g, Aggregate(trials), prior_d50, options.prior_width * range, options.lapse);
  std::vector<double> marginal(g.n, 0.0);
  for (int i = 0; i < g.n; ++i) {
    for (int j = 0; j < kSlopes; ++j) marginal[i] += post[static_cast<size_t>(i) * kSlopes + j];
  }

  AdaptiveStep step;
  step.trainings = static_cast<int>(trials.size());
  step.d50 = Quantile(g, marginal, 0.5);
  step.ci_lo = Quantile(g, marginal, (1 - kLevel) / 2);
  step.ci_hi = Quantile(g, marginal, (1 + kLevel) / 2);
  const double width = step.ci_hi - step.ci_lo;
  const std::string interval = Fixed(step.ci_lo) + ".." + Fixed(step.ci_hi) + " px";
  const bool may_stop = step.trainings >= options.min_trainings;
  if (step.trainings >= options.max_trainings) {
    step.stop = AdaptiveStop::kMaxTrainings;
    step.reason = "max_trainings " + std::to_string(options.max_trainings) + " reached";
  } else if (may_stop && step.ci_lo > distances.back()) {
    step.stop = AdaptiveStop::kOutOfRange;
    step.reason = "d50 above the swept distances: 95% interval " + interval;
  } else if (may_stop && step.ci_hi < distances.front()) {
    step.stop = AdaptiveStop::kOutOfRange;
    step.reason = "d50 below the swept distances: 95% interval " + interval;
  } else if (may_stop && width <= options.ci) {
    step.stop = AdaptiveStop::kInterval;
    step.reason = "ci " + Fixed(width) + " px <= " + Fixed(options.ci);
  }
  if (step.stop != AdaptiveStop::kContinue) {
    step.done = true;
    return step;
  }

  std::vector<double> sig, sigc;
  double best = 0;
  for (size_t c = 0; c < distances.size(); ++c) {
    Sigmoids(g, distances[c], &sig, &sigc);
    const double h = ExpectedEntropy(g, post, marginal, sig, options.lapse);
    if (step.distance_index < 0 || h < best - kTieTolerance * std::abs(best)) {
      best = h;
      step.distance_index = static_cast<int>(c);
    }
  }
  return step;
}

int64_t AdaptiveBudget(int depths, const AdaptiveOptions& options) {
  options.validate();
  if (depths < 0) throw UsageError("adaptive sweep: negative number of depths");
  return static_cast<int64_t>(depths) * options.max_trainings;
}

}  // namespace rfx::stats
