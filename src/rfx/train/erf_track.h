// The field through training (train.erf_every, train.erf_samples): snapshots of the gradient
// effective RF of the centre output while a net trains, measured exactly as `rfx probe gradient`
// measures a checkpoint (probe::MeasureGradient: train.erf_samples uniform-noise inputs from the
// probe's own generator, |grad| summed, no scaling, level 0.0012, eval mode, no bootstrap).
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
#include <set>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/train/train.h"
#include "rfx/util/run_paths.h"

namespace rfx::train {

class ErfTracker {
 public:
  // `train`: its erf options and seed (the probe's noise generator's). `paths` null (a run that
  // keeps nothing on disk) or train.erf_every 0: the tracker does nothing.
  ErfTracker(const Config& config, const TrainOptions& train, const RunPaths* paths,
             c10::Device device);

  // A run resumed at `step` (its checkpoint's): drops the erf.jsonl lines and maps of later
  // steps (a run killed after a snapshot but before its next checkpoint wrote them) and
  // remembers which steps are recorded, so none is written twice.
  void Resume(int64_t step);

  // Takes the snapshot of `step` when one is due — step 0, every multiple of train.erf_every,
  // and the training's last step (`last`) — and not yet recorded.
  void At(nn::Net& net, int64_t step, bool last);

 private:
  void Snapshot(nn::Net& net, int64_t step);

  Config config_;
  ErfTrackOptions options_;
  const RunPaths* paths_;
  c10::Device device_;
  uint64_t seed_ = 0;
  std::set<int64_t> recorded_;
};

}  // namespace rfx::train
