// A training's run directory (internal to rfx/train; its file names are RunPaths): what a new
// RunTraining may do with what is already there (start, resume, return a finished result, or
// refuse).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "rfx/config/config.h"
#include "rfx/train/train.h"
#include "rfx/util/lock.h"
#include "rfx/util/run_paths.h"

namespace rfx::train {

// The decision for run.out_dir (non-empty), taken before any training.
struct RunDirPlan {
  bool resume = false;                // continue from checkpoint.pt
  std::optional<TrainResult> stored;  // a finished run to return as it is
  std::optional<FileLock> lock;       // DIR/.lock, held while the run trains
};

// Checks out_dir's state against `run` (see RunTraining's contract), and prepares it: a fresh
// run's old files are removed and config.yaml written. Throws UsageError / ResumeConflict, and
// RunBusy when another process holds the directory's lock (DIR/.lock).
RunDirPlan PrepareRunDir(const Config& config, const RunOptions& run);

// Drops metrics.jsonl lines after `last_step` (a resumed run rewrites them).
void TrimMetrics(const std::string& path, int64_t last_step);

// Removes a fresh run's files (after a checkpoint was found unreadable, say).
void ClearRunFiles(const RunPaths& paths);

}  // namespace rfx::train
