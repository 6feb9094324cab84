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
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "datasets/dataset.h"
#include "rfx/config/config.h"
#include "rfx/nn/freeze.h"
#include "rfx/nn/net.h"
#include "rfx/train/observer.h"
#include "rfx/util/error.h"

namespace rfx::train {

// `train.early_stop.*`: periodic checks on held-out samples (kCheckStream, disjoint from the
// training and the final evaluation streams). Off unless `every` > 0.
struct EarlyStopOptions {
  int64_t every = 0;       // train.early_stop.every: steps between checks (0 = no checks)
  int samples = 128;       // train.early_stop.samples: held-out samples per check (>= 1)
  double accuracy = 0.95;  // train.early_stop.accuracy: stop once a check reaches this, (0, 1]
  bool stop = true;        // train.early_stop.stop: false = only record learned_at, train on
  bool enabled() const { return every > 0; }
};

// `train.erf_every`, `train.erf_samples`: the gradient ERF of the net while it trains, taken by
// the observer probe::ErfTracker (rfx/probe/erf_track.h) that whoever starts the training
// attaches. Off unless `every` > 0. Does not change the trained net (a result-neutral key).
struct ErfTrackOptions {
  int64_t every = 0;  // train.erf_every: steps between snapshots (0 = off; else also step 0, end)
  int samples = 16;   // train.erf_samples: noise inputs per snapshot (>= 1)
  bool enabled() const { return every > 0; }
};

// `train.*` keys. Defaults are the paper's.
struct TrainOptions {
  int64_t steps = 3000;         // train.steps (>= 1)
  int batch_size = 8;           // train.batch_size (>= 1)
  double lr = 3e-4;             // train.lr (> 0)
  int eval_samples = 256;       // train.eval_samples (>= 1)
  uint64_t seed = 0;            // train.seed
  std::string device = "auto";  // train.device: auto | cpu | cuda | cuda:N
  int threads = 0;              // train.threads (0 = all cores; at most 4x the CPUs we may use)
  int log_every = 100;          // train.log_every (>= 1)
  int checkpoint_every = 500;   // train.checkpoint_every (0 = only at the end)
  EarlyStopOptions early_stop;  // train.early_stop.*
  ErfTrackOptions erf;          // train.erf_every, train.erf_samples
  // train.freeze: layers (indices or names, nn/freeze.h) that do not train; checked against the
  // net when it is built.
  std::vector<nn::LayerRef> freeze;
  void validate() const;
  static TrainOptions FromConfig(const Config& config);
};

// How a training ended. Text ("ok", "diverged", "failed") in StatusText only.
enum class TrainStatus {
  kOk,        // trained (maybe stopped early) and evaluated: `accuracy` is the outcome
  kDiverged,  // the loss became non-finite: an outcome of the experiment (nothing learned)
  kFailed,    // crashed, killed, stopped or out of resources: not an outcome; retried by sweeps
};
const char* StatusText(TrainStatus status);
// Parses StatusText's words; throws std::invalid_argument otherwise.
TrainStatus ParseStatus(const std::string& text);

// What one training gave: result.json, a sweep record and the child-process protocol all carry
// exactly this (ToJson / FromJson).
struct TrainResult {
  double accuracy = 0;  // on eval_samples fresh samples (kEvalStream); 0 unless kOk
  double loss = 0;      // mean training loss over the last log window (NaN: diverged)
  int64_t steps = 0;    // steps done (diverged: the step whose loss was not finite)
  TrainStatus status = TrainStatus::kOk;
  double wall_s = 0;
  std::string device;         // "cpu", "cuda:0", ...
  std::string message;        // why, when status is not kOk; notes (e.g. a bad checkpoint)
  double train_accuracy = 0;  // accuracy on the training batches of the last log window
  // Periodic held-out checks (train.early_stop.every > 0): the first step whose check reached
  // train.early_stop.accuracy (-1: none did, or no checks), and whether training stopped there.
  int64_t check_every = 0;  // train.early_stop.every of this run (0: learned_at is unknown)
  int64_t learned_at = -1;
  bool early_stopped = false;
  bool ok() const { return status == TrainStatus::kOk; }
  bool failed() const { return status == TrainStatus::kFailed; }
  nlohmann::json ToJson() const;  // the result.json object (a non-finite loss is null)
  // Reads ToJson's object (also a sweep record, whose extra keys are ignored). A missing or
  // unknown status reads as kFailed: a result that does not say it finished is not an outcome.
  static TrainResult FromJson(const nlohmann::json& j);
};

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

// The accuracy rule of docs/design.md#training-and-accuracy. `output` is [B, 2, H, W]; for each
// channel, the mean over the disc of radius `radius` px around (H/2, W/2); returns bool [B]: true
// (ё) where mean_ё ≥ mean_е. On the output's device, no host sync.
at::Tensor PredictYo(const at::Tensor& output, int radius = 2);

// Accuracy of `net` on samples 0 … samples−1 of `stream` of `dataset`, in eval mode, batches of
// `batch_size`, on `device` (the net must already be there). Restores the net's train/eval mode.
// A set `stop` ends it early: returns NaN.
double Evaluate(nn::Net& net, const data::DatasetOptions& dataset, int samples, c10::Device device,
                uint64_t stream = data::kEvalStream, int batch_size = 32, int threads = 0,
                const std::atomic<bool>* stop = nullptr);

// The held-out stream of the periodic checks (train.early_stop), disjoint from data::kTrainStream
// and data::kEvalStream.
constexpr uint64_t kCheckStream = 2;

// The data-set options a run trains on: dataset.* with seed dataset.seed + train.seed.
data::DatasetOptions RunDatasetOptions(const Config& config);

}  // namespace rfx::train
