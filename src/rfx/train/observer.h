// What a training tells the code that watches it (RunOptions::observers): the run it starts and
// the net after each step. An observer reads the net and leaves it as it was (modes,
// requires_grad flags, gradients, the training's RNG streams), so a run's weights and metrics
// are the same with or without it. The ERF snapshots of train.erf_every are one
// (probe::ErfTracker, rfx/probe/erf_track.h): train itself knows no probe.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/util/run_paths.h"

namespace rfx::train {

struct TrainOptions;

// The run a training starts or continues.
struct TrainStart {
  const Config& config;         // the resolved config of the run
  const TrainOptions& options;  // its train.* keys
  const RunPaths* paths;        // its run directory; null for a run that keeps nothing on disk
  c10::Device device;           // where the net trains
  bool resumed = false;         // continues from a checkpoint …
  int64_t step = 0;             // … of this step (0 for a fresh run)
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  // Once, before the first step (after a resumed run's checkpoint is loaded). The references
  // in `start` live until the training returns.
  virtual void Start(const TrainStart& start) = 0;
  // The net after `step` steps: step 0 (or a resumed run's first step) before training, then
  // after every step; `last` on the training's last step (its end, or an early stop).
  virtual void AfterStep(nn::Net& net, int64_t step, bool last) = 0;
};

}  // namespace rfx::train
