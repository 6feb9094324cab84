#include "rfx/sweep/plan.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "rfx/nn/depth_key.h"
#include "rfx/util/enum_text.h"
#include "rfx/util/hash.h"

namespace rfx::sweep {

namespace {
const Config& Defaults();
void ResetSweepSection(Config* c);
std::string KeyText(const Config& c);
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
    if (options_.axes[i].key == "train.seed") seed_index_ = static_cast<int>(i);
  }
  CheckSeeds();
  Config shared(key_base_);
  std::vector<std::string> axis_keys;
  for (const Axis& a : options_.axes) {
    axis_keys.push_back(a.key);
    if (Defaults().Has(a.key)) shared.Set(a.key, Defaults().Get(a.key), "sweep hash");
  }
  std::sort(axis_keys.begin(), axis_keys.end());
  std::string text = KeyText(shared) + "axes:";
  for (const std::string& k : axis_keys) text += " " + k;
  config_hash_ = HexDigest(Fnv1a64(text));
  if (options_.searched()) {
    for (size_t i = 0; i < options_.axes.size(); ++i) {
      if (static_cast<int>(i) == threshold_index_) continue;
      if (options_.axes[i].key == nn::kDepthKey) chain_index_ = static_cast<int>(i);
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

int Plan::RepeatSpan() const {
  return options_.mode == SweepMode::kAdaptive ? std::max(1, options_.adaptive.max_trainings)
                                               : std::max(1, options_.repeats);
}

namespace {
int64_t SeedValue(const YAML::Node& n) {
  long long v = 0;
  if (!n.IsScalar() || !ParseConfigInt(n.Scalar(), &v)) return -1;  // CheckSeeds refused it
  return v;
}
}  // namespace

uint64_t Plan::Seed(const Cell& cell, int repeat) const {
  const int64_t first = seed_index_ < 0
                            ? base_.GetInt("train.seed")
                            : SeedValue(options_.axes[seed_index_].values[cell[seed_index_]]);
  return static_cast<uint64_t>(first) + static_cast<uint64_t>(repeat);
}

// Every cell trains seeds seed..seed+span-1 (its repeats). Those must be valid seeds, and two
// values of a train.seed axis must not share one: the two cells would be the same training, kept
// once under one cell's label (a sweep along [5, 6] with 2 repeats trains seed 6 twice).
void Plan::CheckSeeds() const {
  const int64_t span = RepeatSpan();
  const char* const repeats_key =
      options_.mode == SweepMode::kAdaptive ? "sweep.adaptive.max_trainings" : "sweep.repeats";
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t last_first = kMax - (span - 1);
  auto check = [&](const std::string& key, const std::string& text) {
    long long v = 0;
    if (!ParseConfigInt(text, &v)) throw ConfigError(key, "value '" + text + "' is not an integer");
    if (v < 0 || v > last_first) {
      throw ConfigError(key, "seed " + text + " is out of range: with " + repeats_key + "=" +
                                 std::to_string(span) + " a cell trains seeds seed.." + "seed+" +
                                 std::to_string(span - 1) + "; allowed 0.." +
                                 std::to_string(last_first));
    }
    return static_cast<int64_t>(v);
  };
  try {
    if (seed_index_ < 0) {
      check("train.seed", base_.GetString("train.seed"));
      return;
    }
    const std::string key = "sweep.axes.train.seed";
    std::vector<int64_t> seeds;
    for (const YAML::Node& v : options_.axes[seed_index_].values) {
      seeds.push_back(check(key, v.IsScalar() ? v.Scalar() : std::string("a collection")));
    }
    std::sort(seeds.begin(), seeds.end());
    for (size_t i = 1; i < seeds.size(); ++i) {
      if (seeds[i] - seeds[i - 1] >= span) continue;
      const std::string a = std::to_string(seeds[i - 1]), b = std::to_string(seeds[i]);
      throw ConfigError(key, "values " + a + " and " + b + " are closer than " + repeats_key + "=" +
                                 std::to_string(span) + ": a cell trains seeds seed..seed+" +
                                 std::to_string(span - 1) + ", so both would train seed " + b +
                                 "; space the values at least " + std::to_string(span) +
                                 " apart (e.g. [" + a + ", " + std::to_string(seeds[i - 1] + span) +
                                 "])");
    }
  } catch (const ConfigError& e) {
    base_.Rethrow(e);
  }
}

namespace {

const Config& Defaults() {
  static const Config defaults;
  return defaults;
}

// Keys added to the config after sweeps were first written (rfx of 2026-11-30, fcdd479), each
// with a default under which rfx trains exactly as it did before the key existed. A cell key
// leaves such a key out while it holds its default, so a sweep begun by an older rfx resumes
// without retraining its cells under new keys (which would also count each of them twice). Add
// every new config key here whose default keeps the old training; a key that changes what the
// default trains (as dataset.glyphs did) must change the keys and stays out of this list. The
// records' config_hash is made the same way, so fit and merge keep pooling an older sweep's
// records with a newer rfx's.
const std::vector<std::string>& LateKeys() {
  static const std::vector<std::string> keys = {"train.freeze", "train.erf_every",
                                                "train.erf_samples"};
  return keys;
}

std::string Emit(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

// The text a cell key hashes: the resolved config without the late keys at their defaults.
std::string KeyText(const Config& c) {
  YAML::Node root = c.root();  // a private copy
  for (const std::string& k : LateKeys()) {
    if (!c.Has(k) || Emit(c.Get(k)) != Emit(Defaults().Get(k))) continue;
    const std::vector<std::string> parts = SplitKey(k);
    YAML::Node node = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) node.reset(node[parts[i]]);
    node.remove(parts.back());
  }
  return Emit(root) + "\n";  // as Config::Dump
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
  c.Set("train.seed", YAML::Node(static_cast<unsigned long long>(Seed(cell, repeat))),
        "sweep repeat");
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
  c.Set("train.seed", YAML::Node(static_cast<unsigned long long>(Seed(cell, repeat))),
        "sweep repeat");
  std::string key = HexDigest(Fnv1a64(KeyText(c)));
  std::lock_guard<std::mutex> lock(*key_mu_);
  key_cache_[{cell, repeat}] = key;
  return key;
}

}  // namespace rfx::sweep

// The sweep.* options (SweepOptions, the modes, the axes' values).

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
