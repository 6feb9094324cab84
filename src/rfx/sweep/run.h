// Running a sweep: grid or threshold search over the cells of a Plan, each cell evaluated by an
// injectable Evaluator (tests use synthetic oracles; `rfx sweep` trains), results appended to the
// store so that rerunning the same command resumes.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/stats/psychometric.h"
#include "rfx/sweep/plan.h"
#include "rfx/train/train.h"

namespace rfx::sweep {

// Where and how a cell is evaluated.
struct CellTask {
  std::string key;       // the record key
  std::string cell_dir;  // DIR/cells/<key>: the training's own files (if it keeps any)
  int worker = 0;        // 0 .. workers-1
};

// Evaluates one cell (one training). `config` is the cell's resolved config, with the worker's
// device and thread share already set. May throw ConfigError/UsageError (the sweep stops with
// exit 2); any other exception is recorded as a kFailed training of that cell (its message
// naming the cell) and the sweep goes on; a files-layer error while recording stops it (exit 1).
using Evaluator = std::function<train::TrainResult(const Config& config, const CellTask& task)>;

struct SweepRunOptions {
  std::string out_dir;               // the sweep directory (required)
  int shard = 1;                     // this process's shard, 1..shard_count
  int shard_count = 1;               // 1 = no sharding (writes results.jsonl)
  int workers = 1;                   // trainings at once
  std::vector<std::string> devices;  // one per worker round-robin ("cuda:0", ...); empty = config
  bool force_new = false;            // set aside results of a different config and start afresh
  bool progress = true;              // bar on a TTY / lines otherwise, on stderr
  const std::atomic<bool>* stop = nullptr;  // set to stop: unfinished cells are not recorded
  void validate() const;
};

// One search's outcome (threshold or adaptive mode).
struct SearchResult {
  nlohmann::json outer;         // the outer axis values, config key -> value
  std::optional<double> value;  // threshold: the largest value seen (none: sees nothing)
  stats::Censoring censored = stats::Censoring::kNone;
  int cells = 0;  // threshold: cells the search asked for; adaptive: trainings of the depth
  // adaptive: the staircase's last estimate of d50 and its 95% interval, and why it stopped.
  double d50 = NAN, ci_lo = NAN, ci_hi = NAN;
  std::string reason;
};

struct SweepSummary {
  int64_t trained = 0;                 // trainings run now
  int64_t reused = 0;                  // cells found finished in the store
  int64_t failed = 0;                  // trainings that failed (kFailed) in this run
  std::vector<SearchResult> searches;  // threshold mode
  bool interrupted = false;
  std::string note;  // e.g. "config changed without changing cells"
  std::string results_path;
  std::string ToText() const;
};

// Runs (or resumes) the sweep of `config` (sweep.* included) into options.out_dir.
SweepSummary RunSweep(const Config& config, const SweepRunOptions& options,
                      const Evaluator& evaluate);

// The plan of a sweep without running it.
struct DryRun {
  SweepMode mode = SweepMode::kThreshold;
  int64_t grid_cells = 0;       // every combination
  int64_t cells = 0;            // grid: cells of this shard
  int64_t searches = 0;         // threshold/adaptive: searches (depths) of this shard
  int64_t trainings_bound = 0;  // upper bound of trainings (threshold: thresholds assumed not to
                                // decrease along the chain axis)
  int64_t trainings_bound_any = 0;  // threshold: bound without that assumption
  int64_t grid_trainings = 0;       // trainings a full grid of this shard would take
  double cell_s = -1;               // measured seconds per training (-1: not measured)
  double estimate_s = -1;           // trainings_bound * cell_s / workers
  int workers = 1;
  nlohmann::json ToJson() const;
  std::string ToText() const;
};
DryRun PlanDryRun(const Config& config, const SweepRunOptions& options);

// Record JSON of a finished training: key, the axis values, repeat, seed, config_hash
// (Plan::ConfigHash), then the TrainResult's own JSON (TrainResult::FromJson reads a record
// back).
nlohmann::json MakeRecord(const Plan& plan, const Cell& cell, int repeat,
                          const train::TrainResult& r);
// A scalar YAML value as JSON (integer, number, boolean or string).
nlohmann::json ScalarJson(const YAML::Node& n);

// An Evaluator that runs `exe train --config CELLDIR.yaml --out CELLDIR --resume` in a child
// process (its output in CELLDIR.log) and reads CELLDIR/result.json. A crash of the child is a
// kFailed training; exit code 2 (bad config) stops the sweep; exit code
// train::kExitResumeConflict (the cell's files were made with other settings) reruns it with
// --force. The child dies with the sweep.
Evaluator ChildProcessEvaluator(const std::string& exe, const std::atomic<bool>* stop = nullptr);

// Checks the config of every cell this shard may train (every grid cell, every value of a
// search) before anything trains: ConfigError naming the axis values of the first bad cell.
void ValidateCells(const Plan& plan, int shard, int shard_count);

}  // namespace rfx::sweep
