#include "rfx/stats/curve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <utility>

#include "rfx/util/error.h"
#include "rfx/util/json.h"

namespace rfx::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPMin = 0.05, kPMax = 3;

// The points a curve is fitted to: uncensored depths with a finite, positive se.
struct Points {
  std::vector<double> depth, d50, se;
  std::vector<size_t> index;  // into PsychometricFit::depths
};

Points Usable(const PsychometricFit& fit) {
  Points pts;
  for (size_t i = 0; i < fit.depths.size(); ++i) {
    const DepthEstimate& e = fit.depths[i];
    const double se = e.se();
    if (e.censored != Censoring::kNone || !std::isfinite(se) || !(se > 0) || !(e.depth > 0)) {
      continue;
    }
    pts.depth.push_back(e.depth), pts.d50.push_back(e.d50), pts.se.push_back(se);
    pts.index.push_back(i);
  }
  return pts;
}

// Reduced χ² of a model, +∞ without degrees of freedom.
double ReducedChi2(const CurveModel& m) {
  return m.n > m.k ? m.chi2 / (m.n - m.k) : std::numeric_limits<double>::infinity();
}

void SetAic(CurveModel& m, double c_hat) { m.aic = m.chi2 / c_hat + 2 * m.k; }

// Percentile q ∈ [0, 1] of sorted values, linear interpolation.
double Percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * (sorted.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

nlohmann::json Num(double v) { return FiniteOrNull(v); }

}  // namespace

nlohmann::json CurveModel::ToJson() const {
  return {{"a", Num(a)},     {"b", Num(b)},       {"p", Num(p)}, {"r2", Num(r2)},
          {"aic", Num(aic)}, {"chi2", Num(chi2)}, {"k", k},      {"n", n}};
}

const char* CurveKindText(CurveKind k) {
  switch (k) {
    case CurveKind::kSqrt:
      return "sqrt";
    case CurveKind::kLinear:
      return "linear";
    case CurveKind::kPower:
      return "power";
  }
  return "";
}

ExponentVerdict ExponentVerdictOf(double p_lo, double p_hi) {
  if (!std::isfinite(p_lo) || !std::isfinite(p_hi)) return ExponentVerdict::kUnknown;
  const bool sqrt_in = p_lo <= 0.5 && 0.5 <= p_hi, linear_in = p_lo <= 1 && 1 <= p_hi;
  if (sqrt_in && linear_in) return ExponentVerdict::kBoth;
  if (sqrt_in) return ExponentVerdict::kSqrt;
  if (linear_in) return ExponentVerdict::kLinear;
  return ExponentVerdict::kNeither;
}

const char* ExponentVerdictText(ExponentVerdict v) {
  switch (v) {
    case ExponentVerdict::kSqrt:
      return "sqrt";
    case ExponentVerdict::kLinear:
      return "linear";
    case ExponentVerdict::kBoth:
      return "both";
    case ExponentVerdict::kNeither:
      return "neither";
    case ExponentVerdict::kUnknown:
      break;
  }
  return "unknown";
}

double CurveModel::At(double depth) const {
  return a * std::pow(depth, p) + (std::isnan(b) ? 0.0 : b);
}

void CurveOptions::validate() const {
  if (bootstrap < 0) {
    throw ConfigError("curve.bootstrap",
                      "value " + std::to_string(bootstrap) + " is not allowed; allowed: >= 0");
  }
  if (!(ci_level > 0 && ci_level < 1)) {
    throw ConfigError("curve.ci_level",
                      "value " + std::to_string(ci_level) + " is not allowed; allowed: (0, 1)");
  }
}

namespace {

// Weighted least squares for d50 ≈ a·x + b (or a·x) with x = N^p = exp(p·log N).
CurveModel FitWls(const std::vector<double>& log_depth, const std::vector<double>& d50,
                  const std::vector<double>& weight, double p, bool with_intercept) {
  CurveModel m;
  m.p = p, m.n = static_cast<int>(d50.size()), m.k = with_intercept ? 2 : 1;
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < d50.size(); ++i) {
    const double w = weight[i], x = std::exp(p * log_depth[i]), y = d50[i];
    sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y, syy += w * y * y;
  }
  if (m.n < m.k || !(sw > 0) || !(sxx > 0)) return m;
  double chi2;  // Σ w·(y − a·x − b)², from the sums
  if (with_intercept) {
    const double det = sw * sxx - sx * sx;
    if (!(det > 0)) return m;
    m.a = (sw * sxy - sx * sy) / det, m.b = (sy - m.a * sx) / sw;
    chi2 = syy - m.a * sxy - m.b * sy;
  } else {
    m.a = sxy / sxx;
    chi2 = syy - m.a * sxy;
  }
  const double tss = syy - sy * sy / sw;
  m.chi2 = std::max(chi2, 0.0), m.r2 = tss > 0 ? 1 - m.chi2 / tss : kNaN;
  return m;
}

CurveModel FitPowerWls(const std::vector<double>& log_depth, const std::vector<double>& d50,
                       const std::vector<double>& weight, bool with_intercept) {
  auto chi2 = [&](double p) {
    const double c = FitWls(log_depth, d50, weight, p, with_intercept).chi2;
    return std::isnan(c) ? std::numeric_limits<double>::infinity() : c;
  };
  // A grid, then golden-section search between the neighbours of the best grid point.
  const int kGrid = 30;
  const double step = (kPMax - kPMin) / kGrid;
  double best_p = kPMin, best = chi2(kPMin);
  for (int i = 1; i <= kGrid; ++i) {
    const double p = kPMin + i * step, c = chi2(p);
    if (c < best) best = c, best_p = p;
  }
  double lo = std::max(kPMin, best_p - step), hi = std::min(kPMax, best_p + step);
  const double r = 0.5 * (std::sqrt(5.0) - 1);
  double x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo), f1 = chi2(x1), f2 = chi2(x2);
  while (hi - lo > 1e-6) {
    if (f1 <= f2) {
      hi = x2, x2 = x1, f2 = f1, x1 = hi - r * (hi - lo), f1 = chi2(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2, x2 = lo + r * (hi - lo), f2 = chi2(x2);
    }
  }
  const double p = std::min(f1, f2) <= best ? 0.5 * (lo + hi) : best_p;
  CurveModel m = FitWls(log_depth, d50, weight, p, with_intercept);
  m.k += 1;  // p
  return m;
}

struct Wls {  // the inputs of FitWls from (depth, se)
  std::vector<double> log_depth, weight;
  Wls(const std::vector<double>& depth, const std::vector<double>& se) {
    for (size_t i = 0; i < depth.size(); ++i) {
      log_depth.push_back(std::log(depth[i])), weight.push_back(1 / (se[i] * se[i]));
    }
  }
};

}  // namespace

CurveModel FitCurveModel(const std::vector<double>& depth, const std::vector<double>& d50,
                         const std::vector<double>& se, double p, bool with_intercept,
                         double c_hat) {
  const Wls in(depth, se);
  CurveModel m = FitWls(in.log_depth, d50, in.weight, p, with_intercept);
  SetAic(m, c_hat);
  return m;
}

CurveModel FitPowerModel(const std::vector<double>& depth, const std::vector<double>& d50,
                         const std::vector<double>& se, bool with_intercept, double c_hat) {
  const Wls in(depth, se);
  CurveModel m = FitPowerWls(in.log_depth, d50, in.weight, with_intercept);
  SetAic(m, c_hat);
  return m;
}

namespace {

void AddNote(std::string& note, const std::string& s) { note += (note.empty() ? "" : "; ") + s; }

// sqrt, linear and power fits of the usable points, ĉ, the intercept choice and the verdict.
void FitModels(const Points& pts, CurveReport& rep) {
  rep.sqrt_fit = FitCurveModel(pts.depth, pts.d50, pts.se, 0.5, true);
  rep.linear = FitCurveModel(pts.depth, pts.d50, pts.se, 1.0, true);
  CurveModel power = FitPowerModel(pts.depth, pts.d50, pts.se, false), power_b;
  const bool try_b = pts.depth.size() >= 5;  // 3 parameters and 2 degrees of freedom
  if (try_b) power_b = FitPowerModel(pts.depth, pts.d50, pts.se, true);
  double red = std::min({ReducedChi2(rep.sqrt_fit), ReducedChi2(rep.linear), ReducedChi2(power)});
  if (try_b) red = std::min(red, ReducedChi2(power_b));
  rep.c_hat = std::isfinite(red) ? std::max(1.0, red) : 1.0;
  for (CurveModel* m : {&rep.sqrt_fit, &rep.linear, &power, &power_b}) SetAic(*m, rep.c_hat);
  rep.power = try_b && power_b.aic < power.aic - 6 ? power_b : power;
  rep.preferred = rep.sqrt_fit.aic <= rep.linear.aic ? CurveKind::kSqrt : CurveKind::kLinear;
  rep.delta_aic = std::abs(rep.sqrt_fit.aic - rep.linear.aic);
}

// p of the power law (with rep.power's intercept choice) in each bootstrap replicate.
std::vector<double> BootstrapP(const std::map<double, std::vector<Trial>>& by_depth,
                               const PsychometricOptions& psy, const CurveOptions& curve,
                               const Points& pts, const CurveReport& rep) {
  const bool intercept = !std::isnan(rep.power.b);
  const size_t need = intercept ? 5 : 3;
  const Wls all(pts.depth, pts.se);
  PsychometricOptions fast = psy;
  fast.intervals = false;
  std::vector<double> ps;
  for (int b = 0; b < curve.bootstrap; ++b) {
    std::seed_seq seq{static_cast<uint32_t>(curve.seed), static_cast<uint32_t>(curve.seed >> 32),
                      static_cast<uint32_t>(b)};
    std::mt19937_64 rng(seq);
    std::map<double, std::vector<Trial>> resampled;
    for (const auto& [depth, trials] : by_depth) {
      if (trials.empty()) continue;
      auto& out = resampled[depth];
      out.reserve(trials.size());
      // rng() % n, not uniform_int_distribution: the same draws with every standard library.
      for (size_t i = 0; i < trials.size(); ++i) out.push_back(trials[rng() % trials.size()]);
    }
    const PsychometricFit rf = FitPsychometric(resampled, fast, rep.fit);
    std::vector<double> log_depth, d50, weight;
    for (size_t i = 0; i < pts.index.size(); ++i) {
      const DepthEstimate& e = rf.depths[pts.index[i]];
      if (e.censored != Censoring::kNone) continue;
      log_depth.push_back(all.log_depth[i]), d50.push_back(e.d50), weight.push_back(all.weight[i]);
    }
    if (d50.size() >= need) ps.push_back(FitPowerWls(log_depth, d50, weight, intercept).p);
  }
  return ps;
}

}  // namespace

CurveReport FitCurve(const std::map<double, std::vector<Trial>>& by_depth,
                     const PsychometricOptions& psy, const CurveOptions& curve) {
  psy.validate();
  curve.validate();
  CurveReport rep;
  rep.ci_level = curve.ci_level;
  PsychometricOptions with_ci = psy;
  with_ci.intervals = true;  // the se are the weights
  rep.fit = FitPsychometric(by_depth, with_ci);
  for (const DepthEstimate& e : rep.fit.depths) {
    rep.censored_depths += e.censored != Censoring::kNone;
  }
  const Points pts = Usable(rep.fit);
  const int n = static_cast<int>(pts.depth.size());
  const int unresolved = static_cast<int>(rep.fit.depths.size()) - rep.censored_depths - n;
  if (rep.censored_depths > 0) {
    AddNote(rep.note, std::to_string(rep.censored_depths) + " censored depth(s) left out");
  }
  if (unresolved > 0) {
    AddNote(rep.note, std::to_string(unresolved) + " depth(s) with an unbounded CI left out");
  }
  if (n < 3) {
    AddNote(rep.note, "only " + std::to_string(n) + " usable depth(s); a curve needs 3");
    return rep;
  }
  rep.fitted = true;
  FitModels(pts, rep);
  std::vector<double> ps = BootstrapP(by_depth, psy, curve, pts, rep);
  rep.bootstrap_used = static_cast<int>(ps.size());
  if (ps.size() >= 2) {
    std::sort(ps.begin(), ps.end());
    const double alpha = 1 - curve.ci_level;
    rep.p_lo = Percentile(ps, alpha / 2), rep.p_hi = Percentile(ps, 1 - alpha / 2);
  }
  if (rep.bootstrap_used < curve.bootstrap) {
    AddNote(rep.note, "bootstrap: " + std::to_string(rep.bootstrap_used) + " of " +
                          std::to_string(curve.bootstrap) + " replicates usable");
  }
  return rep;
}

std::string CurveReport::Verdict() const {
  if (!fitted) return "no curve fitted: " + note;
  std::string s = "field grows as N^" + Fixed(power.p, 2);
  if (!std::isnan(power.b)) s += " + b";
  if (std::isfinite(p_lo) && std::isfinite(p_hi)) {
    s += " (" + Fixed(100 * ci_level, 0) + "% CI " + Fixed(p_lo, 2) + "–" + Fixed(p_hi, 2) + ")";
  }
  switch (exponent()) {
    case ExponentVerdict::kSqrt:
      s += ": √N (the CI excludes 1)";
      break;
    case ExponentVerdict::kLinear:
      s += ": N (the CI excludes 0.5)";
      break;
    case ExponentVerdict::kBoth:
      s += ": √N or N (the CI holds both)";
      break;
    case ExponentVerdict::kNeither:
      s += ": neither √N nor N (the CI holds neither)";
      break;
    case ExponentVerdict::kUnknown:
      break;
  }
  const bool sq = preferred == CurveKind::kSqrt;
  const std::string win = sq ? "√N" : "N", lose = sq ? "N" : "√N";
  const std::string d = Fixed(delta_aic, delta_aic < 10 ? 1 : 0);
  if (delta_aic < 2) return s + "; √N and N not distinguished (ΔAIC " + d + " for " + win + ")";
  return s + "; " + win + " preferred over " + lose + " (ΔAIC " + d + ")";
}

nlohmann::json CurveReport::ToJson() const {
  return {{"fit", rfx::stats::ToJson(fit)},
          {"sqrt", sqrt_fit.ToJson()},
          {"linear", linear.ToJson()},
          {"power", power.ToJson()},
          {"p_lo", Num(p_lo)},
          {"p_hi", Num(p_hi)},
          {"ci_level", ci_level},
          {"bootstrap_used", bootstrap_used},
          {"c_hat", c_hat},
          {"fitted", fitted},
          {"preferred", CurveKindText(preferred)},
          {"exponent", ExponentVerdictText(exponent())},
          {"delta_aic", Num(delta_aic)},
          {"censored_depths", censored_depths},
          {"note", note},
          {"verdict", Verdict()}};
}

}  // namespace rfx::stats
