#include "rfx/sweep/plan.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "rfx/nn/depth_key.h"
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
