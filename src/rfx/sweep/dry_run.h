// --dry-run: what a sweep would train, and how long it would take.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "rfx/config/config.h"
#include "rfx/sweep/plan.h"
#include "rfx/sweep/run.h"

namespace rfx::sweep {

// The plan of a sweep without running it.
struct DryRun {
  SweepMode mode = SweepMode::kThreshold;
  int64_t grid_cells = 0;       // every combination
  int64_t cells = 0;            // grid: cells of this shard
  int64_t searches = 0;         // threshold/adaptive: searches (depths) of this shard
  int64_t trainings_bound = 0;  // upper bound of trainings (threshold: thresholds assumed not to
                                // decrease along the chain axis)
  int64_t trainings_bound_any = 0;  // threshold: bound without that assumption
  int64_t grid_trainings = 0;       // trainings a full grid of this shard would take
  double cell_s = -1;               // measured seconds per training (-1: not measured)
  double estimate_s = -1;           // trainings_bound * cell_s / workers
  int workers = 1;
  nlohmann::json ToJson() const;
  std::string ToText() const;
};
DryRun PlanDryRun(const Config& config, const SweepRunOptions& options);

}  // namespace rfx::sweep
