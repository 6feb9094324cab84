#include "rfx/sweep/train_eval.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "rfx/probe/erf_track.h"
#include "rfx/train/train.h"
#include "rfx/util/error.h"

namespace rfx::sweep {

namespace {

// A fresh directory under the system's temporary one, removed with everything in it when
// the object goes: the measured trainings write their run directories there, as a sweep's
// cells do (and ERF snapshots need one), without touching the sweep's --out.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rfx-measure-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot make a scratch directory for the measured trainings in " +
                               std::filesystem::temp_directory_path().string() + ": " +
                               std::strerror(errno));
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Evaluator InProcessEvaluator(const std::atomic<bool>* stop) {
  return [stop](const Config& config, const CellTask& task) -> train::TrainResult {
    // Resume: a cell cut short by a crash continues from its checkpoint, and a cell that
    // finished just before a crash (result.json, but no record yet) is not trained again.
    train::RunOptions run;
    run.out_dir = task.cell_dir;
    run.resume = true;
    run.progress = false;
    run.stop = stop;
    run.observers = {std::make_shared<probe::ErfTracker>()};  // train.erf_every's snapshots
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
  // The periodic extras of a training: an early-stopping check and an ERF snapshot each cost
  // an evaluation, often much more than a step. Each is measured as two of it in 8 steps.
  struct Extra {
    const char* key;
    int64_t every;
  };
  const Extra extras[] = {{"train.early_stop.every", config.GetInt("train.early_stop.every")},
                          {"train.erf_every", config.GetInt("train.erf_every")}};
  std::vector<Cell> probe = {cells.front()};
  if (cells.size() > 1) probe.push_back(cells.back());
  const ScratchDir scratch;
  int runs = 0;
  double total = 0;
  for (const Cell& cell : probe) {
    auto timed = [&](int64_t n, const Extra* with) {  // with: the one extra on, or none
      Config c = plan.CellConfig(cell, 0);
      c.Set("train.steps", YAML::Node(static_cast<long long>(n)), "--dry-run");
      c.Set("train.checkpoint_every", YAML::Node(0), "--dry-run");
      c.Set("train.early_stop.stop", YAML::Node(false), "--dry-run");  // all n steps
      for (const Extra& e : extras) c.Set(e.key, YAML::Node(&e == with ? n / 2 : 0), "--dry-run");
      train::RunOptions run;
      run.progress = false;
      run.out_dir = scratch.path() + "/run-" + std::to_string(runs++);
      run.observers = {std::make_shared<probe::ErfTracker>()};  // the snapshots' cost
      const auto t0 = std::chrono::steady_clock::now();
      train::RunTraining(c, run);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const double t2 = timed(2, nullptr), t8 = timed(8, nullptr);
    const double step = std::max(0.0, (t8 - t2) / 6.0);
    const double fixed = std::max(0.0, t2 - 2 * step);
    double cell_s = fixed + step * static_cast<double>(steps);
    for (const Extra& e : extras) {
      if (e.every <= 0 || e.every >= steps) continue;
      const double each = std::max(0.0, (timed(8, &e) - t8) / 2.0);
      cell_s += each * static_cast<double>(steps / e.every);
    }
    total += cell_s;
  }
  return total / static_cast<double>(probe.size());
}

}  // namespace rfx::sweep
