// The field through training (train.erf_every, train.erf_samples): snapshots of the gradient
// effective RF of the centre output while a net trains, by an observer of the training
// (rfx/train/observer.h) that whoever starts a training attaches to RunOptions::observers, measured
// exactly as `rfx probe gradient` measures a checkpoint (probe::MeasureGradient: train.erf_samples
// uniform-noise inputs from the probe's own generator, |grad| summed, no scaling, level 0.0012,
// eval mode, no bootstrap).
//
// A snapshot reads the net and leaves it as it was: modes, requires_grad flags and the
// parameters' gradients are restored or untouched, and no RNG stream of the training is drawn
// from, so a run's weights and metrics are the same with snapshots on or off.
//
// Files in the run directory (RunPaths::erf_log, erf_dir): erf/step-S.csv (the map, as the
// probe's CSV) and one line of erf.jsonl per snapshot: {"step", "radius", "clipped", "level",
// "sigma": {x, y}, "centre": {x, y}, "area_ratio": [{t, ratio}], "samples", "input", "agg",
// "scale", "map", "seconds"}; a snapshot whose gradient is not finite (a net diverging between
// two log lines) writes {"step", "error"} and no map.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <set>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/train/observer.h"
#include "rfx/train/train.h"
#include "rfx/util/run_paths.h"

namespace rfx::probe {

class ErfTracker : public train::TrainObserver {
 public:
  // The run's erf options and seed (the probe's noise generator's) come with Start. A run that
  // keeps nothing on disk (no paths) or train.erf_every 0: the tracker does nothing. A resumed
  // run (start.resumed, at its checkpoint's step): drops the erf.jsonl lines and maps of later
  // steps (a run killed after a snapshot but before its next checkpoint wrote them) and
  // remembers which steps are recorded, so none is written twice. Start begins anew each time,
  // so one tracker may watch several trainings, one after another.
  void Start(const train::TrainStart& start) override;

  // Takes the snapshot of `step` when one is due — step 0, every multiple of train.erf_every,
  // and the training's last step (`last`) — and not yet recorded.
  void AfterStep(nn::Net& net, int64_t step, bool last) override;

 private:
  void Resume(int64_t step);
  void Snapshot(nn::Net& net, int64_t step);

  std::optional<Config> config_;
  train::ErfTrackOptions options_;
  std::optional<RunPaths> paths_;  // none: nothing to do
  c10::Device device_ = c10::Device(c10::kCPU);
  uint64_t seed_ = 0;
  std::set<int64_t> recorded_;
};

}  // namespace rfx::probe
