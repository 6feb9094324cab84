#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "rfx/sweep/plan.h"
#include "rfx/util/enum_text.h"

namespace rfx::sweep {

namespace {

constexpr int64_t kMaxAxisValues = 100000;

YAML::Node NumberNode(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return YAML::Node(std::string(buf));
}

// An integer range in integers: a double holds integers exactly only up to 2^53 (from
// 9007199254740993 it made 9007199254740992), and the last value may sit at 2^63 - 1.
std::vector<YAML::Node> IntegerRange(const std::string& key, long long from, long long to,
                                     long long step) {
  // to - from fits 64 unsigned bits (from <= to, step > 0 are checked).
  const unsigned long long span =
      static_cast<unsigned long long>(to) - static_cast<unsigned long long>(from);
  const unsigned long long steps = span / static_cast<unsigned long long>(step);
  if (steps >= static_cast<unsigned long long>(kMaxAxisValues)) {  // count = steps + 1
    throw ConfigError(key, "range has " +
                               (steps == std::numeric_limits<unsigned long long>::max()
                                    ? std::string("18446744073709551616")
                                    : std::to_string(steps + 1)) +
                               " values; at most " + std::to_string(kMaxAxisValues));
  }
  std::vector<YAML::Node> values;
  for (unsigned long long i = 0; i <= steps; ++i) {
    // from + i * step <= to: computed in unsigned arithmetic, converted back exactly.
    const unsigned long long u =
        static_cast<unsigned long long>(from) + i * static_cast<unsigned long long>(step);
    values.push_back(YAML::Node(static_cast<long long>(u)));
  }
  return values;
}

}  // namespace

bool ScalarNumber(const YAML::Node& n, double* out) {
  if (!n.IsDefined() || !n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
  if (out) *out = v;
  return true;
}

std::vector<YAML::Node> AxisValues(const std::string& key, const YAML::Node& spec) {
  std::vector<YAML::Node> values;
  if (spec.IsSequence()) {
    if (spec.size() == 0) throw ConfigError(key, "the list of values is empty; give at least one");
    for (const auto& v : spec) {
      if (!v.IsScalar()) {
        throw ConfigError(key, "every value must be a single value (a number or a word), got a " +
                                   std::string(v.IsSequence() ? "list" : "mapping"));
      }
      values.push_back(YAML::Clone(v));
    }
    return values;
  }
  if (spec.IsMap()) {
    for (const auto& kv : spec) {
      const std::string k = kv.first.as<std::string>();
      if (k != "from" && k != "to" && k != "step") {
        throw ConfigError(key, "unknown range key '" + k + "'; a range is {from, to, step}");
      }
    }
    double from = 0, to = 0, step = 1;
    if (!ScalarNumber(spec["from"], &from) || !ScalarNumber(spec["to"], &to)) {
      throw ConfigError(key, "a range needs numeric 'from' and 'to', e.g. {from: 2, to: 24}");
    }
    if (spec["step"].IsDefined() && !ScalarNumber(spec["step"], &step)) {
      throw ConfigError(key, "range 'step' must be a number");
    }
    long long ifrom = 0, ito = 0, istep = 1;
    const bool integer =
        ParseConfigInt(spec["from"].Scalar(), &ifrom) &&
        ParseConfigInt(spec["to"].Scalar(), &ito) &&
        (!spec["step"].IsDefined() || ParseConfigInt(spec["step"].Scalar(), &istep));
    if (integer ? ifrom > ito : from > to) {
      throw ConfigError(key, "range from " + spec["from"].Scalar() + " > to " +
                                 spec["to"].Scalar() + "; 'from' must not exceed 'to'");
    }
    if (integer ? istep <= 0 : !(step > 0)) throw ConfigError(key, "range step must be > 0");
    if (integer) return IntegerRange(key, ifrom, ito, istep);
    const double count = std::floor((to - from) / step + 1e-9) + 1;
    if (!std::isfinite(count) || count > kMaxAxisValues) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4g", count);
      throw ConfigError(key, std::string("range has ") + buf + " values; at most " +
                                 std::to_string(kMaxAxisValues));
    }
    for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
      values.push_back(NumberNode(from + static_cast<double>(i) * step));
    }
    return values;
  }
  throw ConfigError(key, "expected a list of values or a range {from, to, step}");
}

const char* SweepModeText(SweepMode mode) {
  switch (mode) {
    case SweepMode::kGrid:
      return "grid";
    case SweepMode::kThreshold:
      return "threshold";
    case SweepMode::kAdaptive:
      return "adaptive";
  }
  return "grid";
}

namespace {
SweepMode ParseSweepMode(const std::string& text) {
  const auto modes = {SweepMode::kGrid, SweepMode::kThreshold, SweepMode::kAdaptive};
  if (auto mode = FindByText(modes, SweepModeText, text)) return *mode;
  throw ConfigError("sweep.mode", "value '" + text + "' is not allowed; allowed: " +
                                      TextList(modes, SweepModeText));
}
}  // namespace

void SweepOptions::validate() const {
  if (mode == SweepMode::kAdaptive) adaptive.validate();
  if (repeats < 1) {
    throw ConfigError("sweep.repeats", "value " + std::to_string(repeats) + " must be >= 1");
  }
  if (!(accuracy > 0 && accuracy <= 1)) {
    throw ConfigError("sweep.threshold.accuracy",
                      "value " + std::to_string(accuracy) + " must be in (0, 1]");
  }
  if (axes.empty()) {
    throw ConfigError("sweep.axes",
                      "no axes; give at least one, e.g. sweep.axes: {net.depth: "
                      "[2, 4, 8], dataset.distance: {from: 2, to: 24}}");
  }
  std::set<std::string> seen;
  for (const auto& a : axes) {
    if (a.values.empty()) throw ConfigError("sweep.axes." + a.key, "no values");
    if (!seen.insert(a.key).second) {
      throw ConfigError("sweep.axes." + a.key, "axis given twice");
    }
    // A value given twice makes two cells of one training: kept once, counted twice.
    // Integers compare as integers (doubles would merge 2^53 and 2^53 + 1), other numbers as
    // numbers (0.1 = 0.10), the rest as text.
    std::set<std::string> texts;
    std::set<long long> integers;
    std::set<double> numbers;
    for (const auto& v : a.values) {
      long long i = 0;
      double x = 0;
      bool twice = false;
      if (ParseConfigInt(v.Scalar(), &i)) {
        twice = !integers.insert(i).second;
        if (i >= -(1LL << 53) && i <= (1LL << 53)) {
          twice = !numbers.insert(static_cast<double>(i)).second || twice;
        }
      } else if (ScalarNumber(v, &x)) {
        twice = !numbers.insert(x).second;
      } else {
        twice = !texts.insert(v.Scalar()).second;
      }
      if (twice) {
        throw ConfigError("sweep.axes." + a.key,
                          "value '" + v.Scalar() + "' is given twice; give each value once");
      }
    }
  }
  if (searched()) {
    const Axis* t = nullptr;
    std::string names;
    for (const auto& a : axes) {
      if (a.key == threshold_axis) t = &a;
      names += (names.empty() ? "" : ", ") + a.key;
    }
    if (t == nullptr) {
      throw ConfigError("sweep.threshold.axis",
                        "'" + threshold_axis + "' is not one of the sweep axes (" + names + "); " +
                            SweepModeText(mode) + " mode searches along an axis");
    }
    double prev = -std::numeric_limits<double>::infinity();
    for (const auto& v : t->values) {
      double x = 0;
      if (!ScalarNumber(v, &x)) {
        throw ConfigError("sweep.axes." + threshold_axis,
                          "threshold axis values must be numbers, got '" + v.Scalar() + "'");
      }
      if (!(x > prev)) {
        throw ConfigError("sweep.axes." + threshold_axis,
                          "threshold axis values must increase (larger = harder), got " +
                              v.Scalar() + " after a value >= it");
      }
      prev = x;
    }
  }
}

SweepOptions SweepOptions::FromConfig(const Config& config) {
  SweepOptions o;
  try {
    o.mode = ParseSweepMode(config.GetString("sweep.mode"));
    o.adaptive.ci = config.GetDouble("sweep.adaptive.ci");
    o.adaptive.max_trainings = static_cast<int>(config.GetInt("sweep.adaptive.max_trainings"));
    o.adaptive.min_trainings = static_cast<int>(config.GetInt("sweep.adaptive.min_trainings"));
    o.adaptive.lapse = config.GetDouble("sweep.adaptive.lapse");
    o.adaptive.prior_width = config.GetDouble("sweep.adaptive.prior_width");
    o.repeats = static_cast<int>(config.GetInt("sweep.repeats"));
    o.threshold_axis = config.GetString("sweep.threshold.axis");
    o.accuracy = config.GetDouble("sweep.threshold.accuracy");
    const YAML::Node axes = config.Get("sweep.axes");
    if (!axes.IsMap()) config.Fail("sweep.axes", "expected a mapping of config key -> values");
    for (const auto& kv : axes) {
      Axis a;
      a.key = kv.first.as<std::string>();
      const std::string full = "sweep.axes." + a.key;
      if (a.key.rfind("sweep.", 0) == 0 || a.key == "sweep") {
        throw ConfigError(full, "a sweep cannot sweep its own sweep.* keys");
      }
      a.values = AxisValues(full, kv.second);
      // Every value must be settable on the config: the key exists and the type fits.
      Config probe(config);
      for (const auto& v : a.values) {
        try {
          probe.Set(a.key, v, "sweep axis");
        } catch (const ConfigError& e) {
          throw ConfigError(
              full, "axis '" + a.key + "' cannot take value '" + v.Scalar() + "': " + e.problem());
        }
      }
      o.axes.push_back(std::move(a));
    }
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

}  // namespace rfx::sweep
