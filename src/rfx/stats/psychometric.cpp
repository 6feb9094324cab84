#include "rfx/stats/psychometric.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "rfx/stats/psychometric_ml.h"
#include "rfx/util/error.h"
#include "rfx/util/json.h"

namespace rfx::stats {
namespace detail {

double DepthEval(const Depth& dep, double d50, double s, double lam, Deriv* out) {
  double l = 0;
  for (const Cell& c : dep.cells) {
    const double z = (d50 - c.d) / s;
    double p, q;  // σ(z), σ(−z), each accurate in its tail
    if (z >= 0) {
      const double e = std::exp(-z);
      p = 1 / (1 + e), q = e * p;
    } else {
      const double e = std::exp(z);
      q = 1 / (1 + e), p = e * q;
    }
    const double P = (1 - lam) * p, Q = lam + (1 - lam) * q;
    const int f = c.n - c.k;
    if (c.k > 0) l += c.k * std::log(P);
    if (f > 0) l += f * std::log(Q);
    if (!out || (c.k > 0 && P <= 0) || (f > 0 && Q <= 0)) continue;
    const double pq = (1 - lam) * p * q;
    const double dp[3] = {pq / s, std::isfinite(z) ? -pq * z : 0.0, -p};
    const double r = (c.k > 0 ? c.k / P : 0.0) - (f > 0 ? f / Q : 0.0);
    const double w = c.n / std::max(P * Q, 1e-300);
    // Information: Fisher's, but with the λ direction rescaled to the observed curvature
    // k·p²/P² + f·p²/Q² (Fisher's n·p²/(P·Q) explodes near λ = 0 where nothing failed, and
    // Newton would creep). A rescaled rank-1 term per cell keeps the matrix positive definite.
    const double obs = (c.k > 0 ? c.k * Q / P : 0.0) + (f > 0 ? f * P / Q : 0.0);
    const double dq[3] = {dp[0], dp[1], dp[2] * std::sqrt(obs / c.n)};
    for (int a = 0; a < 3; ++a) {
      out->g[a] += r * dp[a];
      for (int b = 0; b < 3; ++b) out->h[a][b] += w * dq[a] * dq[b];
    }
    // ∂(w·dp_d²) = w·(2·dp_d·∂dp_d − dp_d²·∂P·(Q − P)/(P·Q)).
    const double ddp[3] = {pq * (q - p) / (s * s),
                           std::isfinite(z) ? -pq / s * (1 + z * (q - p)) : 0.0, -p * q / s};
    const double pq_inv = 1 / std::max(P * Q, 1e-300);
    const double curv = (c.k > 0 ? c.k / (P * P) : 0.0) + (f > 0 ? f / (Q * Q) : 0.0);
    for (int a = 0; a < 3; ++a) {
      out->di[a] += w * (2 * dp[0] * ddp[a] - dp[0] * dp[0] * dp[a] * (Q - P) * pq_inv);
      out->od[a] += curv * dp[0] * dp[a] - r * ddp[a];
    }
  }
  if (out) out->l += l;
  return l;
}

}  // namespace detail

namespace {

using detail::Cell;
using detail::Depth;
using detail::kMinSlope;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

const char* CensoringText(Censoring c) {
  switch (c) {
    case Censoring::kBelow:
      return "below";
    case Censoring::kAbove:
      return "above";
    case Censoring::kNone:
      break;
  }
  return "";
}

void PsychometricOptions::validate() const {
  if (!(ci_level > 0 && ci_level < 1)) {
    throw ConfigError("psychometric.ci_level",
                      "value " + std::to_string(ci_level) + " is not allowed; allowed: (0, 1)");
  }
  if (!(lapse_max >= 0 && lapse_max < 0.5)) {
    throw ConfigError("psychometric.lapse_max",
                      "value " + std::to_string(lapse_max) + " is not allowed; allowed: [0, 0.5)");
  }
}

double DepthEstimate::se() const {
  if (std::isnan(ci_lo) || std::isnan(ci_hi)) return kNaN;
  if (!std::isfinite(ci_lo) || !std::isfinite(ci_hi)) return kInf;
  return (ci_hi - ci_lo) / (2 * NormalQuantile(0.5 + 0.5 * ci_level));
}

double LearnProbability(double distance, double d50, double slope, double lapse) {
  return (1 - lapse) / (1 + std::exp((distance - d50) / slope));
}

double D50Information(double distance, double d50, double slope, double lapse) {
  Depth dep;
  dep.cells = {{distance, 1, 1}};
  detail::Deriv dv;
  detail::DepthEval(dep, d50, slope, lapse, &dv);
  return dv.h[detail::kD][detail::kD];
}

double LogLikelihood(const std::vector<Trial>& trials, double d50, double slope, double lapse) {
  Depth dep;
  for (const Trial& t : trials) dep.cells.push_back({t.distance, 1, t.learned ? 1 : 0});
  return detail::DepthEval(dep, d50, slope, lapse, nullptr);
}

double NormalQuantile(double q) {
  if (!(q > 0 && q < 1)) return q == 0 ? -kInf : q == 1 ? kInf : kNaN;
  if (q > 0.5) return -NormalQuantile(1 - q);  // refine in the lower tail, where erfc is exact
  // Acklam's rational approximation, then one Halley step on erfc.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (q < 0.02425 || q > 1 - 0.02425) {
    const double r = std::sqrt(-2 * std::log(std::min(q, 1 - q)));
    x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
        ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
    if (q > 0.5) x = -x;
  } else {
    const double r = q - 0.5, r2 = r * r;
    x = (((((a[0] * r2 + a[1]) * r2 + a[2]) * r2 + a[3]) * r2 + a[4]) * r2 + a[5]) * r /
        (((((b[0] * r2 + b[1]) * r2 + b[2]) * r2 + b[3]) * r2 + b[4]) * r2 + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - q;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

namespace {

std::vector<Depth> Pool(const std::map<double, std::vector<Trial>>& by_depth) {
  std::vector<Depth> out;
  for (const auto& [depth, trials] : by_depth) {
    if (!std::isfinite(depth)) throw UsageError("psychometric fit: a depth is not finite");
    if (trials.empty()) continue;
    std::vector<std::pair<double, bool>> t;
    for (const Trial& x : trials) {
      if (!std::isfinite(x.distance)) {
        throw UsageError("psychometric fit: a distance at depth " + std::to_string(depth) +
                         " is not finite");
      }
      t.emplace_back(x.distance, x.learned);
    }
    std::sort(t.begin(), t.end());
    Depth d;
    d.depth = depth, d.dmin = t.front().first, d.dmax = t.back().first;
    for (const auto& [dist, learned] : t) {
      if (d.cells.empty() || d.cells.back().d != dist) d.cells.push_back({dist, 0, 0});
      d.cells.back().n++, d.cells.back().k += learned, d.n++, d.k += learned;
    }
    out.push_back(std::move(d));
  }
  return out;
}

// Sets G and the per-depth state to start the fit from: `start` (a fit of similar data) when
// it covers every depth, else the best point of a 3 × 3 grid over (s, λ), each with a global
// search per depth.
void Start(detail::JointFit& pr, const PsychometricOptions& options, const PsychometricFit* start,
           double* G) {
  const auto& deps = pr.depths();
  const double s0 = std::exp(pr.u()[0]);
  if (start && !start->depths.empty()) {
    if (pr.shared()) {
      const double s = std::isfinite(start->slope) ? start->slope : s0;
      G[pr.iu()] = std::log(std::clamp(s, kMinSlope, pr.range()));
    }
    if (pr.has_lapse()) G[pr.il()] = std::clamp(start->lapse, 0.0, options.lapse_max);
    bool all = true;
    for (size_t j = 0, i = 0; j < deps.size(); ++j) {
      while (i < start->depths.size() && start->depths[i].depth < deps[j].depth) ++i;
      if (i == start->depths.size() || start->depths[i].depth != deps[j].depth) {
        all = false;
        continue;
      }
      if (i < start->d50_ml.size()) pr.d50()[j] = start->d50_ml[i];
      const double s = start->depths[i].slope;
      if (std::isfinite(s)) pr.u()[j] = std::log(std::clamp(s, kMinSlope, pr.range()));
    }
    if (!all) pr.Outer(G, nullptr, nullptr, /*cold=*/true);
    return;
  }
  double best = -kInf, best_G[3] = {0, 0, 0};
  std::vector<double> best_d50, best_u;
  for (double fs : {0.5, 1.0, 2.0}) {
    for (double fl : {0.0, 0.25, 0.5}) {
      if ((!pr.shared() && fs != 1) || (!pr.has_lapse() && fl != 0)) continue;
      double g[3] = {0, 0, 0};
      if (pr.shared()) g[pr.iu()] = std::log(std::clamp(s0 * fs, kMinSlope, pr.range()));
      if (pr.has_lapse()) g[pr.il()] = fl * options.lapse_max;
      const double l = pr.Outer(g, nullptr, nullptr, /*cold=*/true);
      if (l > best) best = l, std::copy(g, g + 3, best_G), best_d50 = pr.d50(), best_u = pr.u();
    }
  }
  std::copy(best_G, best_G + 3, G), pr.d50() = best_d50, pr.u() = best_u;
}

PsychometricFit FitImpl(const std::map<double, std::vector<Trial>>& by_depth,
                        const PsychometricOptions& options, const PsychometricFit* start) {
  options.validate();
  PsychometricFit fit;
  std::vector<Depth> pooled = Pool(by_depth);
  if (pooled.empty()) return fit;
  detail::JointFit pr(std::move(pooled), options);
  double G[3] = {0, 0, 0};
  Start(pr, options, start, G);
  pr.Fit(G);
  fit.lapse = pr.Lapse(G);
  if (pr.shared()) fit.slope = std::exp(G[pr.iu()]);
  fit.d50_ml = pr.d50();
  fit.log_likelihood = 0;
  const double z = NormalQuantile(0.5 + 0.5 * options.ci_level);
  for (size_t j = 0; j < pr.depths().size(); ++j) {
    const Depth& dep = pr.depths()[j];
    const double d50 = fit.d50_ml[j];
    fit.log_likelihood += detail::DepthEval(dep, d50, pr.Slope(j, G), fit.lapse, nullptr);
    DepthEstimate e;
    e.depth = dep.depth, e.trainings = dep.n, e.learned = dep.k, e.ci_level = options.ci_level;
    e.slope = pr.Slope(j, G), e.lapse = fit.lapse, e.d50 = d50;
    if (d50 > dep.dmax) e.censored = Censoring::kAbove, e.d50 = dep.dmax;
    if (d50 < dep.dmin) e.censored = Censoring::kBelow, e.d50 = dep.dmin;
    if (options.intervals) {
      std::tie(e.ci_lo, e.ci_hi) = pr.Interval(j, G, z * z);
      // Censored: open on the far side, and holding the bound reported as d50.
      if (e.censored == Censoring::kAbove) e.ci_hi = kInf, e.ci_lo = std::min(e.ci_lo, dep.dmax);
      if (e.censored == Censoring::kBelow) e.ci_lo = -kInf, e.ci_hi = std::max(e.ci_hi, dep.dmin);
    }
    fit.depths.push_back(e);
  }
  return fit;
}

nlohmann::json Num(double v) { return FiniteOrNull(v); }

}  // namespace

PsychometricFit FitPsychometric(const std::map<double, std::vector<Trial>>& by_depth,
                                const PsychometricOptions& options) {
  return FitImpl(by_depth, options, nullptr);
}

PsychometricFit FitPsychometric(const std::map<double, std::vector<Trial>>& by_depth,
                                const PsychometricOptions& options, const PsychometricFit& start) {
  return FitImpl(by_depth, options, &start);
}

nlohmann::json ToJson(const DepthEstimate& e) {
  nlohmann::json j = {
      {"depth", e.depth},       {"d50", Num(e.d50)},        {"ci", {Num(e.ci_lo), Num(e.ci_hi)}},
      {"ci_level", e.ci_level}, {"se", Num(e.se())},        {"slope", Num(e.slope)},
      {"lapse", Num(e.lapse)},  {"trainings", e.trainings}, {"learned", e.learned}};
  j["censored"] = e.censored == Censoring::kNone ? nlohmann::json(nullptr)
                                                 : nlohmann::json(CensoringText(e.censored));
  return j;
}

nlohmann::json ToJson(const PsychometricFit& f) {
  nlohmann::json depths = nlohmann::json::array();
  for (const auto& e : f.depths) depths.push_back(ToJson(e));
  return {{"depths", depths},
          {"slope", Num(f.slope)},
          {"lapse", f.lapse},
          {"log_likelihood", Num(f.log_likelihood)}};
}

}  // namespace rfx::stats
