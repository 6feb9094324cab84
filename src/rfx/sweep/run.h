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

}  // namespace rfx::sweep
