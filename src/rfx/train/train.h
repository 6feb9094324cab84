// Training one net on one data set (docs/design.md#training-and-accuracy): Adam, MSE, accuracy on
// fresh samples.
//
// Determinism: the weights are initialised by nn::InitNet with seed train.seed; training
// step s (0-based) uses samples s·B … s·B+B−1 of the training stream of the data set with seed
// dataset.seed + train.seed; evaluation uses samples 0 … eval_samples−1 of the disjoint
// evaluation stream. So on the CPU a run is a pure function of its config (and of the thread
// count), and a run interrupted and resumed from its checkpoint ends with the same weights as
// an uninterrupted one.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "rfx/config/config.h"
#include "rfx/data/dataset.h"
#include "rfx/nn/net.h"
#include "rfx/train/observer.h"
#include "rfx/train/options.h"
#include "rfx/train/result.h"
#include "rfx/util/error.h"

namespace rfx::train {

struct RunOptions {
  std::string out_dir;   // empty: keep nothing on disk (sweeps may do this)
  bool resume = false;   // continue from out_dir's checkpoint
  bool force = false;    // overwrite a finished run in out_dir
  bool progress = true;  // progress on stderr (a bar on a TTY, sparse lines otherwise)
  const std::atomic<bool>* stop = nullptr;  // set by a signal handler: checkpoint and stop
  int64_t stop_at_step = 0;  // > 0: stop as if signalled once this step is done (time-sliced
                             // jobs: run N steps, then --resume in the next job)
  // Told of the run and of the net after each step (observer.h), in this order: e.g. the
  // ERF snapshots of train.erf_every (probe::ErfTracker), which train does not take by itself.
  std::vector<std::shared_ptr<TrainObserver>> observers;
};

// Errors of RunTraining that callers act on (by type, never by message text).
// Resuming a run directory whose run was made with another config (beyond the keys that do not
// change a result): the caller decides (a sweep starts the cell over). `rfx train` exits with
// kExitResumeConflict.
class ResumeConflict : public UsageError {
 public:
  using UsageError::UsageError;
};
// Another process is training in the same run directory (it holds DIR/.lock).
class RunBusy : public UsageError {
 public:
  using UsageError::UsageError;
};
// Exit code of `rfx train` for ResumeConflict (0 ok, 1 runtime failure, 2 usage).
constexpr int kExitResumeConflict = 3;

// Trains the net described by `config` (net.*, init.*, dataset.*, train.*). With an out_dir
// writes config.yaml, metrics.jsonl, result.json, model.pt (and a checkpoint). Bad config →
// ConfigError; a run directory in the way → ResumeConflict; a file that cannot be written (disk
// full) → the files layer's error, with the earlier checkpoint intact; divergence or a stop →
// status kDiverged / kFailed in the result. A checkpoint that cannot be read is moved aside to
// checkpoint.pt.bad and the run starts over, saying so on stderr and in `message`.
//
// out_dir states: empty or missing → a fresh run. A finished run (result.json with status
// "ok" or "diverged") → UsageError naming --force, unless `force` (start over) or `resume`
// (returns the stored result, trains nothing). An unfinished run (checkpoint.pt without a
// finished result.json: interrupted or crashed) → UsageError naming --resume and --force,
// unless one of them is given; `resume` continues from the checkpoint (the config must equal
// the stored config.yaml except the keys that do not change a result; else ResumeConflict naming
// the first differing key). `resume` on an empty or missing directory starts a fresh run; on a
// directory holding other files but no run (e.g. a sweep's root) it is a UsageError.
//
// Files in out_dir: config.yaml (the resolved config), metrics.jsonl (one line per log_every
// steps: {"step", "loss", "train_accuracy"}), checkpoint.pt (every checkpoint_every steps, at
// a stop and at the end: model, optimizer, step, RNG state, the current log window),
// model.pt (at the end and at a stop; not when diverged), result.json (TrainResult::ToJson).
//
// A set `run.stop` (checked every step and between evaluation batches) checkpoints and returns
// status kFailed with a message saying how to resume.
TrainResult RunTraining(const Config& config, const RunOptions& run);

// The data-set options a run trains on: dataset.* with seed dataset.seed + train.seed.
data::DatasetOptions RunDatasetOptions(const Config& config);

}  // namespace rfx::train
