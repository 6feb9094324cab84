// The evaluator that trains: rfx::train::RunTraining in this process, and the measured cost of
// one training for --dry-run. (Kept apart from run.h so that code which injects its own
// evaluator does not link the trainer.)
#pragma once
#include <atomic>

#include "rfx/config/config.h"
#include "rfx/sweep/run.h"

namespace rfx::sweep {

// Trains each cell with RunTraining in this process (its files in the task's cell_dir),
// resuming a cell's own checkpoint if an earlier sweep was cut short.
Evaluator InProcessEvaluator(const std::atomic<bool>* stop = nullptr);

// Seconds one training of the plan costs, measured: short trainings (2 and 8 steps) of the
// plan's first and last grid cell give a fixed cost and a per-step cost, scaled to train.steps
// and averaged over the two cells. Early-stopping checks (train.early_stop.every) and ERF
// snapshots (train.erf_every) are timed apart (8 steps with two of them) and added once per
// period: a bound, as early stopping usually ends a training sooner.
double MeasureCellSeconds(const Config& config);

}  // namespace rfx::sweep
