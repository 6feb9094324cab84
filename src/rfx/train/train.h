// Training one net on one data set (DESIGN §1.4): Adam, MSE, accuracy on fresh samples.
#pragma once
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <string>

#include "rfx/config/config.h"

namespace rfx::train {

// `train.*` keys. Defaults are the paper's.
struct TrainOptions {
  int64_t steps = 3000;         // train.steps (>= 1)
  int batch_size = 8;           // train.batch_size (>= 1)
  double lr = 3e-4;             // train.lr (> 0)
  int eval_samples = 256;       // train.eval_samples (>= 1)
  uint64_t seed = 0;            // train.seed
  std::string device = "auto";  // train.device: auto | cpu | cuda | cuda:N
  int threads = 0;              // train.threads (0 = all cores)
  int log_every = 100;          // train.log_every (>= 1)
  int checkpoint_every = 500;   // train.checkpoint_every (0 = only at the end)
  void validate() const;
  static TrainOptions FromConfig(const Config& config);
};

struct TrainResult {
  double accuracy = 0;          // on eval_samples fresh samples (kEvalStream)
  double loss = 0;              // mean training loss over the last log window
  int64_t steps = 0;            // steps done
  std::string status = "ok";    // "ok" | "diverged" | "failed"
  double wall_s = 0;
  std::string device;           // "cpu", "cuda:0", ...
  std::string message;          // why, when status is not "ok"
  nlohmann::json ToJson() const;  // the result.json object
};

struct RunOptions {
  std::string out_dir;          // empty: keep nothing on disk (sweeps may do this)
  bool resume = false;          // continue from out_dir's checkpoint
  bool force = false;           // overwrite a finished run in out_dir
  bool progress = true;         // progress on stderr (a bar on a TTY, sparse lines otherwise)
  const std::atomic<bool>* stop = nullptr;  // set by a signal handler: checkpoint and stop
};

// Trains the net described by `config` (net.*, init.*, dataset.*, train.*). With an out_dir
// writes config.yaml, metrics.jsonl, result.json, model.pt (and a checkpoint). Bad config →
// ConfigError; runtime trouble → status "failed"/"diverged" in the result.
TrainResult RunTraining(const Config& config, const RunOptions& run);

}  // namespace rfx::train
