#include "rfx/sweep/fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace rfx::sweep {

using nlohmann::json;

namespace {

// Continued fraction of the regularised incomplete beta (Numerical Recipes' betacf).
double BetaCf(double a, double b, double x) {
  const double eps = 1e-14, tiny = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < eps) break;
  }
  return h;
}

double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double bt = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                             a * std::log(x) + b * std::log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return bt * BetaCf(a, b, x) / a;
  return 1 - bt * BetaCf(b, a, 1 - x) / b;
}

// P(T <= t) for Student's t with df degrees of freedom.
double StudentTCdf(double t, int df) {
  const double x = df / (df + t * t);
  const double tail = 0.5 * IncompleteBeta(0.5 * df, 0.5, x);
  return t >= 0 ? 1 - tail : tail;
}

double R2(const std::vector<double>& y, const std::vector<double>& pred) {
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(y.size());
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  if (ss_tot <= 0) return ss_res <= 0 ? 1.0 : 0.0;
  return 1 - ss_res / ss_tot;
}

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

double StudentTQuantile(double q, int df) {
  if (df < 1) return std::numeric_limits<double>::quiet_NaN();
  double lo = -1e3, hi = 1e3;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (StudentTCdf(mid, df) < q) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

LinearFit FitLine(const std::vector<double>& x, const std::vector<double>& y) {
  LinearFit f;
  f.n = static_cast<int>(x.size());
  if (x.size() < 2) return f;
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  f.a = sxx > 0 ? sxy / sxx : 0;
  f.b = my - f.a * mx;
  std::vector<double> pred(x.size());
  double ss_res = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    pred[i] = f.a * x[i] + f.b;
    ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
  }
  f.r2 = R2(y, pred);
  f.se_a = (x.size() > 2 && sxx > 0) ? std::sqrt(ss_res / (n - 2) / sxx)
                                     : std::numeric_limits<double>::quiet_NaN();
  return f;
}

PowerFit FitPower(const std::vector<double>& x, const std::vector<double>& y) {
  PowerFit f;
  std::vector<double> lx, ly;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] > 0 && y[i] > 0) {
      lx.push_back(std::log(x[i]));
      ly.push_back(std::log(y[i]));
    }
  }
  f.n = static_cast<int>(lx.size());
  f.p_lo = f.p_hi = std::numeric_limits<double>::quiet_NaN();
  if (lx.size() < 2) return f;
  const LinearFit l = FitLine(lx, ly);
  f.p = l.a;
  f.a = std::exp(l.b);
  f.r2_log = l.r2;
  std::vector<double> yy, pred;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] > 0 && y[i] > 0) {
      yy.push_back(y[i]);
      pred.push_back(f.a * std::pow(x[i], f.p));
    }
  }
  f.r2 = R2(yy, pred);
  if (lx.size() >= 3 && std::isfinite(l.se_a)) {
    const double t = StudentTQuantile(0.975, static_cast<int>(lx.size()) - 2);
    f.p_lo = f.p - t * l.se_a;
    f.p_hi = f.p + t * l.se_a;
  }
  return f;
}

std::vector<ThresholdPoint> Thresholds(const std::vector<json>& records,
                                       const std::string& depth_key, const std::string& axis_key,
                                       double level, const std::vector<double>& axis_values,
                                       const json& fixed) {
  // depth -> value -> (sum accuracy, count)
  std::map<double, std::map<double, std::pair<double, int>>> cells;
  for (const auto& r : records) {
    if (!r.contains(depth_key) || !r.contains(axis_key) || !r[depth_key].is_number() ||
        !r[axis_key].is_number()) {
      continue;
    }
    bool match = true;
    for (auto it = fixed.begin(); it != fixed.end(); ++it) {
      if (!r.contains(it.key()) || r[it.key()] != it.value()) match = false;
    }
    if (!match) continue;
    const double acc = r.contains("accuracy") && r["accuracy"].is_number()
                           ? r["accuracy"].get<double>()
                           : 0.0;  // a failed training sees nothing
    auto& c = cells[r[depth_key].get<double>()][r[axis_key].get<double>()];
    c.first += acc;
    c.second += 1;
  }
  std::vector<ThresholdPoint> out;
  const double largest = axis_values.empty()
                             ? std::numeric_limits<double>::infinity()
                             : *std::max_element(axis_values.begin(), axis_values.end());
  for (const auto& [depth, by_value] : cells) {
    ThresholdPoint p;
    p.depth = depth;
    p.cells = static_cast<int>(by_value.size());
    bool failed = false;
    for (const auto& [value, acc] : by_value) {  // ascending values
      if (acc.first / acc.second >= level) {
        p.distance = value;
      } else {
        failed = true;
        break;
      }
    }
    if (!p.distance) {
      p.censored = "below";
    } else if (!failed && (axis_values.empty() || *p.distance >= largest)) {
      p.censored = "above";
    }
    out.push_back(p);
  }
  return out;
}

FitReport FitThresholds(std::vector<ThresholdPoint> points) {
  FitReport rep;
  rep.thresholds = std::move(points);
  std::vector<double> x, y, sx;
  for (const auto& p : rep.thresholds) {
    if (!p.censored.empty() || !p.distance) continue;
    x.push_back(p.depth);
    y.push_back(*p.distance);
    sx.push_back(std::sqrt(std::max(0.0, p.depth)));
  }
  if (x.size() < 2) {
    rep.note = "fewer than 2 depths with a threshold inside the swept range; nothing to fit";
    return rep;
  }
  rep.fitted = true;
  rep.power = FitPower(x, y);
  rep.sqrt_fit = FitLine(sx, y);
  rep.linear = FitLine(x, y);
  size_t censored = rep.thresholds.size() - x.size();
  if (censored > 0) {
    rep.note = std::to_string(censored) +
               " depth(s) left out of the fits: threshold outside the swept range";
  }
  return rep;
}

json FitReport::ToJson() const {
  json j;
  j["thresholds"] = json::array();
  for (const auto& p : thresholds) {
    json t = {{"depth", p.depth}, {"cells", p.cells}};
    t["distance"] = p.distance ? json(*p.distance) : json(nullptr);
    if (!p.censored.empty()) t["censored"] = p.censored;
    j["thresholds"].push_back(t);
  }
  if (fitted) {
    j["models"]["power"] = {{"a", Num(power.a)},
                            {"p", Num(power.p)},
                            {"p_ci", {Num(power.p_lo), Num(power.p_hi)}},
                            {"r2", Num(power.r2)},
                            {"r2_log", Num(power.r2_log)},
                            {"n", power.n}};
    j["models"]["sqrt"] = {{"a", Num(sqrt_fit.a)},
                           {"b", Num(sqrt_fit.b)},
                           {"r2", Num(sqrt_fit.r2)},
                           {"n", sqrt_fit.n}};
    j["models"]["linear"] = {
        {"a", Num(linear.a)}, {"b", Num(linear.b)}, {"r2", Num(linear.r2)}, {"n", linear.n}};
  } else {
    j["models"] = json::object();
  }
  if (!note.empty()) j["note"] = note;
  return j;
}

std::string FitReport::ToText() const {
  std::string s = "depth  threshold\n";
  char buf[256];
  for (const auto& p : thresholds) {
    std::string d = p.distance ? std::to_string(static_cast<long long>(std::lround(*p.distance)))
                               : std::string("none");
    if (p.distance && std::fabs(*p.distance - std::round(*p.distance)) > 1e-9) {
      std::snprintf(buf, sizeof buf, "%g", *p.distance);
      d = buf;
    }
    if (p.censored == "above") d = ">= " + d;
    if (p.censored == "below") d = "below the smallest value";
    std::snprintf(buf, sizeof buf, "%5g  %s\n", p.depth, d.c_str());
    s += buf;
  }
  if (fitted) {
    std::snprintf(buf, sizeof buf,
                  "power   threshold = %.4g * N^%.4f   p 95%% CI [%.4f, %.4f]   R2 %.4f\n", power.a,
                  power.p, power.p_lo, power.p_hi, power.r2);
    s += buf;
    std::snprintf(buf, sizeof buf, "sqrt    threshold = %.4g * sqrt(N) + %.4g   R2 %.4f\n",
                  sqrt_fit.a, sqrt_fit.b, sqrt_fit.r2);
    s += buf;
    std::snprintf(buf, sizeof buf, "linear  threshold = %.4g * N + %.4g   R2 %.4f\n", linear.a,
                  linear.b, linear.r2);
    s += buf;
  }
  if (!note.empty()) s += "note: " + note + "\n";
  return s;
}

}  // namespace rfx::sweep
