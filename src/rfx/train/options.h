// The `train.*` keys of a training (configs/defaults.yaml), read and checked once (options.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/freeze.h"

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

}  // namespace rfx::train
