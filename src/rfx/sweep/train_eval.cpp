#include "rfx/sweep/train_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "rfx/train/train.h"
#include "rfx/util/error.h"

namespace rfx::sweep {

Evaluator InProcessEvaluator(const std::atomic<bool>* stop) {
  return [stop](const Config& config, const CellTask& task) -> train::TrainResult {
    // Resume: a cell cut short by a crash continues from its checkpoint, and a cell that
    // finished just before a crash (result.json, but no record yet) is not trained again.
    train::RunOptions run;
    run.out_dir = task.cell_dir;
    run.resume = true;
    run.progress = false;
    run.stop = stop;
    try {
      return train::RunTraining(config, run);
    } catch (const train::ResumeConflict&) {
      // Its files were made with other settings (e.g. another train.steps): start it over.
      run.resume = false;
      run.force = true;
      return train::RunTraining(config, run);
    }
  };
}

double MeasureCellSeconds(const Config& config) {
  const Plan plan(config);
  const auto cells = plan.GridCells();
  const int64_t steps = config.GetInt("train.steps");
  std::vector<Cell> probe = {cells.front()};
  if (cells.size() > 1) probe.push_back(cells.back());
  double total = 0;
  for (const Cell& cell : probe) {
    auto timed = [&](int64_t n) {
      Config c = plan.CellConfig(cell, 0);
      c.Set("train.steps", YAML::Node(static_cast<long long>(n)), "--dry-run");
      c.Set("train.checkpoint_every", YAML::Node(0), "--dry-run");
      train::RunOptions run;
      run.progress = false;
      const auto t0 = std::chrono::steady_clock::now();
      train::RunTraining(c, run);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const double t2 = timed(2), t8 = timed(8);
    const double step = std::max(0.0, (t8 - t2) / 6.0);
    const double fixed = std::max(0.0, t2 - 2 * step);
    total += fixed + step * static_cast<double>(steps);
  }
  return total / static_cast<double>(probe.size());
}

}  // namespace rfx::sweep
