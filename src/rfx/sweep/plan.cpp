#include "rfx/sweep/plan.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "rfx/util/hash.h"

namespace rfx::sweep {

namespace {

constexpr int64_t kMaxAxisValues = 100000;

YAML::Node NumberNode(double v, bool integer) {
  if (integer) return YAML::Node(static_cast<long long>(std::llround(v)));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return YAML::Node(std::string(buf));
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
    if (from > to) {
      throw ConfigError(key, "range from " + spec["from"].Scalar() + " > to " +
                                 spec["to"].Scalar() + "; 'from' must not exceed 'to'");
    }
    if (!(step > 0)) throw ConfigError(key, "range step must be > 0");
    long long dummy = 0;
    const bool integer =
        ParseConfigInt(spec["from"].Scalar(), &dummy) &&
        ParseConfigInt(spec["to"].Scalar(), &dummy) &&
        (!spec["step"].IsDefined() || ParseConfigInt(spec["step"].Scalar(), &dummy));
    const double count = std::floor((to - from) / step + 1e-9) + 1;
    if (count > kMaxAxisValues) {
      throw ConfigError(key, "range has " + std::to_string(static_cast<long long>(count)) +
                                 " values; at most " + std::to_string(kMaxAxisValues));
    }
    for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
      values.push_back(NumberNode(from + static_cast<double>(i) * step, integer));
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
  for (SweepMode m : {SweepMode::kGrid, SweepMode::kThreshold, SweepMode::kAdaptive}) {
    if (text == SweepModeText(m)) return m;
  }
  throw ConfigError("sweep.mode",
                    "value '" + text + "' is not allowed; allowed: grid, threshold, adaptive");
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

namespace {
const Config& Defaults();
void ResetSweepSection(Config* c);
}  // namespace

Plan::Plan(const Config& base) : Plan(base, SweepOptions::FromConfig(base)) {}

Plan::Plan(const Config& base, SweepOptions options)
    : base_(base), options_(std::move(options)), cell_base_(base) {
  ResetSweepSection(&cell_base_);
  key_base_ = cell_base_;
  // The keys that do not change a result are normalised out of cell keys, so resuming with
  // other values (threads, devices, logging) retrains nothing.
  for (const std::string& k : ResultNeutralKeys()) {
    if (key_base_.Has(k)) key_base_.Set(k, Defaults().Get(k), "sweep key");
  }
  for (size_t i = 0; i < options_.axes.size(); ++i) {
    if (options_.axes[i].key == options_.threshold_axis) threshold_index_ = static_cast<int>(i);
  }
  if (options_.searched()) {
    for (size_t i = 0; i < options_.axes.size(); ++i) {
      if (static_cast<int>(i) == threshold_index_) continue;
      if (options_.axes[i].key == "net.depth") chain_index_ = static_cast<int>(i);
    }
    if (chain_index_ < 0) {
      for (size_t i = 0; i < options_.axes.size(); ++i) {
        if (static_cast<int>(i) != threshold_index_) {
          chain_index_ = static_cast<int>(i);
          break;
        }
      }
    }
  }
}

int64_t Plan::GridSize() const {
  int64_t n = 1;
  for (const auto& a : options_.axes) n *= static_cast<int64_t>(a.values.size());
  return n;
}

std::vector<Cell> Plan::GridCells() const {
  std::vector<Cell> cells;
  const size_t k = options_.axes.size();
  Cell c(k, 0);
  const int64_t total = GridSize();
  cells.reserve(static_cast<size_t>(total));
  for (int64_t n = 0; n < total; ++n) {
    cells.push_back(c);
    for (size_t i = k; i-- > 0;) {  // last axis fastest
      if (++c[i] < static_cast<int>(options_.axes[i].values.size())) break;
      c[i] = 0;
    }
  }
  return cells;
}

std::vector<Search> Plan::Searches() const {
  std::vector<Search> out;
  if (!options_.searched()) return out;
  // Enumerate the outer axes other than the chain axis (first outermost), then the chain axis.
  std::vector<int> others;
  for (size_t i = 0; i < options_.axes.size(); ++i) {
    const int ii = static_cast<int>(i);
    if (ii != threshold_index_ && ii != chain_index_) others.push_back(ii);
  }
  const int chain_len =
      chain_index_ < 0 ? 1 : static_cast<int>(options_.axes[chain_index_].values.size());
  Cell base(options_.axes.size(), 0);
  base[threshold_index_] = -1;
  int chain = 0;
  while (true) {
    for (int p = 0; p < chain_len; ++p) {
      Search s;
      s.outer = base;
      if (chain_index_ >= 0) s.outer[chain_index_] = p;
      s.chain = chain;
      s.position = p;
      out.push_back(s);
    }
    ++chain;
    size_t j = others.size();
    for (; j-- > 0;) {
      const int ax = others[j];
      if (++base[ax] < static_cast<int>(options_.axes[ax].values.size())) break;
      base[ax] = 0;
    }
    if (j == static_cast<size_t>(-1)) break;
  }
  return out;
}

uint64_t Plan::Seed(int repeat) const {
  return static_cast<uint64_t>(base_.GetInt("train.seed")) + static_cast<uint64_t>(repeat);
}

namespace {

const Config& Defaults() {
  static const Config defaults;
  return defaults;
}

// `c` with its sweep.* section back at the defaults (the sweep settings do not change a cell).
void ResetSweepSection(Config* c) {
  for (const char* k :
       {"sweep.mode", "sweep.axes", "sweep.repeats", "sweep.threshold.axis",
        "sweep.threshold.accuracy", "sweep.adaptive.ci", "sweep.adaptive.max_trainings",
        "sweep.adaptive.min_trainings", "sweep.adaptive.lapse", "sweep.adaptive.prior_width"}) {
    c->Set(k, Defaults().Get(k), "sweep cell");
  }
}

}  // namespace

Config Plan::CellConfig(const Cell& cell, int repeat) const {
  Config c(cell_base_);
  for (size_t i = 0; i < options_.axes.size(); ++i) {
    c.Set(options_.axes[i].key, options_.axes[i].values[cell[i]], "sweep axis");
  }
  c.Set("train.seed", YAML::Node(static_cast<unsigned long long>(Seed(repeat))), "sweep repeat");
  return c;
}

std::string Plan::CellKey(const Cell& cell, int repeat) const {
  {
    std::lock_guard<std::mutex> lock(*key_mu_);
    auto it = key_cache_.find({cell, repeat});
    if (it != key_cache_.end()) return it->second;
  }
  Config c(key_base_);
  for (size_t i = 0; i < options_.axes.size(); ++i) {
    c.Set(options_.axes[i].key, options_.axes[i].values[cell[i]], "sweep axis");
  }
  c.Set("train.seed", YAML::Node(static_cast<unsigned long long>(Seed(repeat))), "sweep repeat");
  std::string key = HexDigest(Fnv1a64(c.Dump()));
  std::lock_guard<std::mutex> lock(*key_mu_);
  key_cache_[{cell, repeat}] = key;
  return key;
}

// ---- threshold search -------------------------------------------------------------------

int FindThreshold(int m, int start, const std::function<bool(int)>& sees) {
  if (m <= 0) return -1;
  const int s = std::clamp(start, 0, m - 1);
  int lo = -1, hi = m;  // sees(lo) true (or lo = -1), sees(hi) false (or hi = m)
  if (sees(s)) {
    lo = s;
    for (int k = 1;; ++k) {
      const long long step = 1LL << std::min(k - 1, 40);
      const int p = static_cast<int>(std::min<long long>(s + step, m - 1));
      if (p == lo) break;  // lo == m - 1: sees everything
      if (sees(p)) {
        lo = p;
      } else {
        hi = p;
        break;
      }
    }
    if (lo == m - 1) return lo;
  } else {
    hi = s;
    for (int k = 1;; ++k) {
      if (hi == 0) return -1;  // sees nothing
      const long long step = 1LL << std::min(k - 1, 40);
      const int p = static_cast<int>(std::max<long long>(s - step, 0));
      if (sees(p)) {
        lo = p;
        break;
      }
      hi = p;
    }
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    if (sees(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int SearchCost(int m, int start, int t) {
  std::set<int> asked;
  FindThreshold(m, start, [&](int i) {
    asked.insert(i);
    return i <= t;
  });
  return static_cast<int>(asked.size());
}

int64_t ChainBound(int m, const std::vector<int>& groups, int64_t* worst_any) {
  if (m <= 0) {
    if (worst_any) *worst_any = 0;
    return 0;
  }
  // Outcomes t in [-1, m); index t+1.
  const int n = m + 1;
  std::vector<std::vector<int>> cost(n, std::vector<int>(n));
  int worst_one = 0;
  for (int h = -1; h < m; ++h) {
    for (int t = -1; t < m; ++t) {
      cost[h + 1][t + 1] = SearchCost(m, std::min(h + 1, m - 1), t);
      worst_one = std::max(worst_one, cost[h + 1][t + 1]);
    }
  }
  int64_t searches = 0;
  for (int g : groups) searches += g;
  if (worst_any) *worst_any = searches * worst_one;
  constexpr int64_t kNeg = std::numeric_limits<int64_t>::min() / 4;
  // W[t]: worst total so far when the last search of the previous group answered t.
  // Before the first group the "answer" is -1 (start at index 0) and anything may follow.
  std::vector<int64_t> W(n, kNeg);
  W[0] = 0;
  bool first = true;
  for (int g : groups) {
    std::vector<int64_t> next(n, kNeg);
    for (int h = 0; h < n; ++h) {
      if (W[h] == kNeg) continue;
      // F[t]: worst cost of the group's searches so far, the last answering t; answers are
      // non-decreasing and (after the first group) at least h.
      const int lo = first ? 0 : h;
      std::vector<int64_t> F(n, kNeg);
      for (int t = lo; t < n; ++t) F[t] = cost[h][t];
      for (int j = 1; j < g; ++j) {
        std::vector<int64_t> G(n, kNeg);
        int64_t best = kNeg;
        for (int t = lo; t < n; ++t) {
          best = std::max(best, F[t]);
          if (best != kNeg) G[t] = best + cost[h][t];
        }
        F.swap(G);
      }
      for (int t = lo; t < n; ++t) {
        if (F[t] != kNeg) next[t] = std::max(next[t], W[h] + F[t]);
      }
    }
    W.swap(next);
    first = false;
  }
  int64_t worst = 0;
  for (int64_t w : W) worst = std::max(worst, w);
  return worst;
}

}  // namespace rfx::sweep
