// The cells' configs, checked before a sweep trains anything.
#pragma once
#include "rfx/sweep/plan.h"

namespace rfx::sweep {

// Checks the config of every cell this shard may train (every grid cell, every value of a
// search) before anything trains: ConfigError naming the axis values of the first bad cell.
void ValidateCells(const Plan& plan, int shard, int shard_count);

}  // namespace rfx::sweep
