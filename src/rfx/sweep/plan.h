// Sweep planning (no training here): the `sweep.*` options, the cells of a grid, the searches of
// threshold mode, the galloping/bisecting threshold search, and the worst-case number of
// trainings a plan can cost.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/stats/adaptive.h"

namespace rfx::sweep {

// One swept config key and its values, in the order they are tried.
struct Axis {
  std::string key;                 // a config key, e.g. "net.depth"
  std::vector<YAML::Node> values;  // scalars, as they will be set on the cell config
  // The value as text ("8"), for messages and CSV.
  std::string Text(size_t i) const { return values[i].Scalar(); }
};

// How a sweep chooses its trainings. Text ("grid", "threshold", "adaptive") in SweepModeText.
enum class SweepMode {
  kGrid,       // every combination of axis values, `repeats` seeds each
  kThreshold,  // per depth, gallop and bisect to the largest distance whose mean accuracy passes
  kAdaptive,   // per depth, a Bayesian staircase on the distance (adaptive.h) until d50 is tight
};
const char* SweepModeText(SweepMode mode);

// `sweep.*` keys.
struct SweepOptions {
  SweepMode mode = SweepMode::kThreshold;           // sweep.mode: grid | threshold | adaptive
  std::vector<Axis> axes;                           // sweep.axes: key -> list | {from, to, step}
  int repeats = 1;                                  // sweep.repeats (>= 1): seeds seed + r
  std::string threshold_axis = "dataset.distance";  // sweep.threshold.axis (numeric, among axes)
  double accuracy = 0.9;                            // sweep.threshold.accuracy in (0, 1]
  stats::AdaptiveOptions adaptive;                  // sweep.adaptive.* (adaptive mode)
  void validate() const;
  // Reads and checks sweep.* against `config` (every axis key must be a settable config key
  // whose type accepts every value). Errors name the offending key, e.g. sweep.axes.net.depth.
  static SweepOptions FromConfig(const Config& config);
  bool threshold_mode() const { return mode == SweepMode::kThreshold; }
  // Threshold and adaptive sweeps run one search per combination of the outer axes (a depth).
  bool searched() const { return mode != SweepMode::kGrid; }
};

// A cell: one index into each axis (same order as SweepOptions::axes).
using Cell = std::vector<int>;

// One threshold search: the fixed indices of the outer axes (the threshold axis's entry is -1).
struct Search {
  Cell outer;
  int chain = 0;     // searches in the same chain differ only in the chain axis
  int position = 0;  // index of this search inside its chain (the chain axis's order)
};

class Plan {
 public:
  // `base` is the resolved config (sweep.* included); throws ConfigError for bad sweep.*.
  explicit Plan(const Config& base);
  Plan(const Config& base, SweepOptions options);

  const SweepOptions& options() const { return options_; }
  const std::vector<Axis>& axes() const { return options_.axes; }
  const Config& base() const { return base_; }
  // Index of the threshold axis in axes(); -1 in grid mode... (always set when it is an axis).
  int threshold_axis_index() const { return threshold_index_; }
  // The axis along which a deeper net's search starts from a shallower one's answer:
  // net.depth when it is an outer axis, else the first outer axis; -1 if there is none.
  int chain_axis_index() const { return chain_index_; }

  // Every combination of axis values (first axis outermost).
  std::vector<Cell> GridCells() const;
  int64_t GridSize() const;
  // The searches of threshold and adaptive mode, chains consecutive, chain axis innermost.
  std::vector<Search> Searches() const;

  // The config a cell trains with: base + the axis values, train.seed = Seed(cell, repeat); the
  // sweep.* section reset to its defaults (so it does not change cells).
  Config CellConfig(const Cell& cell, int repeat) const;
  // The record key: FNV-1a of the dump of CellConfig with thread counts (which don't change a
  // result) normalised.
  std::string CellKey(const Cell& cell, int repeat) const;
  // The seed a cell's repeat trains with: the cell's train.seed (its value on a train.seed axis,
  // else the base config's) + repeat. The constructor refuses a plan in which two cells would
  // train the same seed with the same other keys (seed-axis values closer than the repeats) or
  // a seed past 2^63 - 1.
  uint64_t Seed(const Cell& cell, int repeat) const;
  // FNV-1a of what every cell of this sweep shares: the cell key's config text with the axis keys
  // at their defaults, then the sorted axis keys. Two configs with the same hash make the same
  // cells (the directory guard's rule); each record carries it as "config_hash", so fit and merge
  // refuse to pool records of two configs even when sweep.yaml was deleted or replaced.
  const std::string& ConfigHash() const { return config_hash_; }
  // How many repeats a cell can have: sweep.repeats, or sweep.adaptive.max_trainings in
  // adaptive mode (each training of a distance takes the next seed).
  int RepeatSpan() const;

  // Deterministic partition: item i belongs to shard (i mod count), shards counted from 1.
  static bool InShard(int64_t item, int shard, int count) { return item % count == shard - 1; }

 private:
  Config base_;
  SweepOptions options_;
  Config cell_base_;  // base_ with sweep.* reset
  Config key_base_;   // cell_base_ with the keys that don't change a result normalised
  mutable std::unique_ptr<std::mutex> key_mu_ = std::make_unique<std::mutex>();
  mutable std::map<std::pair<Cell, int>, std::string> key_cache_;
  int threshold_index_ = -1;
  int chain_index_ = -1;
  int seed_index_ = -1;  // index of a train.seed axis, or -1
  std::string config_hash_;
  void CheckSeeds() const;
};

// Values of an axis spec (a YAML list or {from, to, step}); throws ConfigError for `key`.
std::vector<YAML::Node> AxisValues(const std::string& key, const YAML::Node& spec);

// The number a scalar holds; false if it is not a number.
bool ScalarNumber(const YAML::Node& n, double* out);

}  // namespace rfx::sweep
