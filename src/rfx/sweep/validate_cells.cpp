#include "rfx/sweep/validate_cells.h"

#include <optional>
#include <set>

#include "rfx/data/dataset.h"
#include "rfx/nn/init.h"
#include "rfx/nn/net.h"
#include "rfx/runtime/device.h"
#include "rfx/sweep/cell_runner.h"
#include "rfx/sweep/run.h"
#include "rfx/train/memory.h"
#include "rfx/train/train.h"
#include "rfx/util/error.h"

namespace rfx::sweep {

void ValidateCells(const Plan& plan, int shard, int shard_count) {
  std::vector<Cell> cells;
  if (!plan.options().searched()) {
    const auto grid = plan.GridCells();
    for (size_t i = 0; i < grid.size(); ++i) {
      if (Plan::InShard(static_cast<int64_t>(i), shard, shard_count)) cells.push_back(grid[i]);
    }
  } else {
    const int ti = plan.threshold_axis_index();
    const int m = static_cast<int>(plan.axes()[ti].values.size());
    for (const Search& s : ShardSearches(plan, shard, shard_count)) {
      for (int v = 0; v < m; ++v) {
        Cell c = s.outer;
        c[ti] = v;
        cells.push_back(c);
      }
    }
  }
  for (const Cell& cell : cells) {
    const Config c = plan.CellConfig(cell, 0);
    try {
      train::TrainOptions::FromConfig(c);
      nn::NetOptions::FromConfig(c);
      nn::InitOptions::FromConfig(c);
      train::RunDatasetOptions(c);
      // Memory on this machine's device; a sweep planned here for other nodes (rfx slurm on a
      // login node without the GPU) cannot check theirs: RunTraining checks there.
      std::optional<c10::Device> device;
      try {
        device = ResolveDevice(c.GetString("train.device"), "train.device");
      } catch (const ConfigError&) {
      }
      if (device) train::CheckFitsInMemory(c, *device);
    } catch (const ConfigError& e) {
      throw ConfigError(e.key(),
                        e.problem() + " (in the sweep's cell " + DescribeCell(plan, cell) +
                            "; every cell is checked before any trains)",
                        e.where());
    }
  }
}

}  // namespace rfx::sweep
