// From sweep records to "how far each depth sees", and fits of that threshold against depth:
// a power law a·N^p (least squares in log-log, 95% CI on p), a·√N + b and a·N + b.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rfx::sweep {

struct ThresholdPoint {
  double depth = 0;                // the outer axis value (net.depth)
  std::optional<double> distance;  // largest value seen; empty when even the smallest fails
  std::string censored;            // "" | "below" (sees nothing) | "above" (sees every value)
  int cells = 0;                   // distinct values of the threshold axis evaluated
};

struct LinearFit {
  double a = 0, b = 0, r2 = 0;  // y ≈ a·f(x) + b
  double se_a = 0;              // standard error of a
  int n = 0;
};

struct PowerFit {
  double a = 0, p = 0, r2 = 0;  // y ≈ a·N^p; r2 on the original scale
  double r2_log = 0;            // r2 in log-log
  double p_lo = 0, p_hi = 0;    // 95% CI of p (NaN with fewer than 3 points)
  int n = 0;
};

struct FitReport {
  std::vector<ThresholdPoint> thresholds;
  PowerFit power;
  LinearFit sqrt_fit, linear;
  bool fitted = false;  // enough uncensored points (>= 2) to fit
  std::string note;
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

// Thresholds per value of `depth_key` from records with `axis_key` values: the mean accuracy
// over the records of a (depth, value) cell decides "sees" (>= level); the threshold is the
// largest value reached contiguously from the smallest evaluated one. Records whose other
// keys (`fixed`, key → JSON value) differ are skipped.
std::vector<ThresholdPoint> Thresholds(const std::vector<nlohmann::json>& records,
                                       const std::string& depth_key, const std::string& axis_key,
                                       double level, const std::vector<double>& axis_values,
                                       const nlohmann::json& fixed = nlohmann::json::object());

// Ordinary least squares y ≈ a·x + b.
LinearFit FitLine(const std::vector<double>& x, const std::vector<double>& y);
// y ≈ a·x^p by least squares on (log x, log y); x, y > 0.
PowerFit FitPower(const std::vector<double>& x, const std::vector<double>& y);

// Fits the uncensored thresholds.
FitReport FitThresholds(std::vector<ThresholdPoint> points);

// Student t quantile (two-sided 95%: q = 0.975) with `df` degrees of freedom.
double StudentTQuantile(double q, int df);

}  // namespace rfx::sweep

namespace rfx::sweep {

// The fit of a sweep directory (its sweep.yaml and every record file): thresholds along the
// depth axis (net.depth if swept, else the first axis other than the threshold axis) for each
// combination of the remaining axes.
struct DirFit {
  std::string depth_key, axis_key;
  double level = 0.9;
  std::vector<std::pair<nlohmann::json, FitReport>> groups;  // (fixed axis values, fit)
  // The first group's thresholds/models at the top level; all under "groups" when several.
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

// `level` < 0: sweep.threshold.accuracy of the stored config.
DirFit FitSweepDir(const std::string& dir, double level = -1);

}  // namespace rfx::sweep
