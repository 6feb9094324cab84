#include "rfx/sweep/dry_run.h"

#include <cstdio>
#include <map>

#include "rfx/stats/search.h"
#include "rfx/sweep/cell_runner.h"
#include "rfx/sweep/run.h"
#include "rfx/sweep/validate_cells.h"
#include "rfx/util/progress.h"

namespace rfx::sweep {

using nlohmann::json;

DryRun PlanDryRun(const Config& config, const SweepRunOptions& o) {
  if (o.shard_count < 1 || o.shard < 1 || o.shard > o.shard_count || o.workers < 1) o.validate();
  const Plan plan(config);
  ValidateCells(plan, o.shard, o.shard_count);
  const SweepOptions& so = plan.options();
  DryRun d;
  d.mode = so.mode;
  d.workers = o.workers;
  d.grid_cells = plan.GridSize();
  const auto cells = plan.GridCells();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (Plan::InShard(static_cast<int64_t>(i), o.shard, o.shard_count)) ++d.cells;
  }
  if (!so.searched()) {
    d.trainings_bound = d.trainings_bound_any = d.cells * so.repeats;
    d.grid_trainings = d.trainings_bound;
    return d;
  }
  const auto searches = ShardSearches(plan, o.shard, o.shard_count);
  const int m = static_cast<int>(so.axes[plan.threshold_axis_index()].values.size());
  d.searches = static_cast<int64_t>(searches.size());
  d.grid_trainings = d.searches * m * so.repeats;
  d.cells = d.searches * m;
  if (so.mode == SweepMode::kAdaptive) {
    d.trainings_bound = d.trainings_bound_any =
        stats::AdaptiveBudget(static_cast<int>(d.searches), so.adaptive);
    return d;
  }
  // Groups per chain: the chain's searches that share a wave share a start.
  std::map<int, std::vector<int>> groups;  // chain -> group sizes
  std::map<int, size_t> last_wave;
  for (size_t i = 0; i < searches.size(); ++i) {
    const size_t wave = i / static_cast<size_t>(o.workers);
    auto& g = groups[searches[i].chain];
    auto it = last_wave.find(searches[i].chain);
    if (it != last_wave.end() && it->second == wave) {
      ++g.back();
    } else {
      g.push_back(1);
    }
    last_wave[searches[i].chain] = wave;
  }
  for (const auto& [chain, g] : groups) {
    int64_t any = 0;
    d.trainings_bound += stats::ChainBound(m, g, &any) * so.repeats;
    d.trainings_bound_any += any * so.repeats;
  }
  return d;
}

json DryRun::ToJson() const {
  json j = {{"mode", SweepModeText(mode)},
            {"grid_cells", grid_cells},
            {"cells", cells},
            {"trainings_bound", trainings_bound},
            {"grid_trainings", grid_trainings},
            {"workers", workers}};
  if (mode != SweepMode::kGrid) {
    j["searches"] = searches;
    j["trainings_bound_any"] = trainings_bound_any;
  }
  j["cell_s"] = cell_s >= 0 ? json(cell_s) : json(nullptr);
  j["estimate_s"] = estimate_s >= 0 ? json(estimate_s) : json(nullptr);
  return j;
}

std::string DryRun::ToText() const {
  char buf[512];
  std::string s;
  if (mode == SweepMode::kAdaptive) {
    std::snprintf(buf, sizeof buf,
                  "adaptive: %lld searches (depths) over %lld cells; at most %lld trainings "
                  "(sweep.adaptive.max_trainings per depth; a depth stops earlier once its d50 "
                  "interval is at most sweep.adaptive.ci wide), vs %lld for the full grid\n",
                  static_cast<long long>(searches), static_cast<long long>(cells),
                  static_cast<long long>(trainings_bound), static_cast<long long>(grid_trainings));
    s += buf;
  } else if (mode == SweepMode::kGrid) {
    std::snprintf(buf, sizeof buf, "grid: %lld cells (of %lld), %lld trainings\n",
                  static_cast<long long>(cells), static_cast<long long>(grid_cells),
                  static_cast<long long>(trainings_bound));
    s += buf;
  } else {
    std::snprintf(buf, sizeof buf,
                  "threshold: %lld searches over %lld cells; at most %lld trainings if thresholds "
                  "do not shrink along the chain axis (%lld in any case), vs %lld for the full "
                  "grid (%.1f%%)\n",
                  static_cast<long long>(searches), static_cast<long long>(cells),
                  static_cast<long long>(trainings_bound),
                  static_cast<long long>(trainings_bound_any),
                  static_cast<long long>(grid_trainings),
                  grid_trainings > 0 ? 100.0 * trainings_bound / grid_trainings : 0.0);
    s += buf;
  }
  if (cell_s >= 0) {
    std::snprintf(buf, sizeof buf, "measured %.2f s per training -> at most %s with %d worker(s)\n",
                  cell_s, Progress::FormatDuration(estimate_s).c_str(), workers);
    s += buf;
  }
  return s;
}

}  // namespace rfx::sweep
