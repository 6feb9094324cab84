// The small training the train tests share: a 32² canvas at distance 7, a depth-4 input-skip
// fcn, 20 steps, eval on 32 samples, a log line every 5 steps and a checkpoint every 10, on the
// CPU with one torch thread and one producer. `sets` come after these, so they override them.
#pragma once
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/train/train.h"

namespace rfx::test {

inline Config SmallTraining(const std::vector<std::string>& sets) {
  std::vector<std::string> all = {
      "dataset.image_size=32", "dataset.distance=7",       "net.depth=4",     "train.steps=20",
      "train.eval_samples=32", "train.device=cpu",         "train.threads=1", "dataset.threads=1",
      "train.log_every=5",     "train.checkpoint_every=10"};
  all.insert(all.end(), sets.begin(), sets.end());
  return Config::Load("", all);
}

// RunOptions writing to `dir` ("" = nothing on disk) without a progress line.
inline train::RunOptions QuietRun(const std::string& dir = "") {
  train::RunOptions r;
  r.out_dir = dir;
  r.progress = false;
  return r;
}

}  // namespace rfx::test
