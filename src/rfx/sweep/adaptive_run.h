// The adaptive mode's searches (sweep.mode adaptive), run by RunSweep.
#pragma once
#include "rfx/sweep/cell_runner.h"
#include "rfx/sweep/plan.h"
#include "rfx/sweep/run.h"

namespace rfx::sweep {

// Runs this shard's adaptive searches (a Bayesian staircase per depth) with `runner`, adding
// their outcomes to `sum`.
void RunAdaptiveSearches(const Plan& plan, const SweepRunOptions& o, CellRunner& runner,
                         SweepSummary* sum);

}  // namespace rfx::sweep
