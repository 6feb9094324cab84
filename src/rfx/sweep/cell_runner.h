// What the sweep modes share (internal to rfx/sweep): running one training of a cell through the
// store (a finished record is reused, a new result recorded before the next training starts),
// worker threads, and the searches of a shard.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "rfx/sweep/plan.h"
#include "rfx/sweep/run.h"
#include "rfx/sweep/store.h"
#include "rfx/util/progress.h"

namespace rfx::sweep {

// Thrown inside the runner when a stop was requested: unfinished trainings are not results.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// "net.depth=8 dataset.distance=12" (axes whose index is -1 are left out).
std::string DescribeCell(const Plan& plan, const Cell& cell);

// Runs fn(i, worker) for i in [0, n) on `workers` threads; rethrows the first exception.
void ParallelFor(int64_t n, int workers, const std::function<void(int64_t, int)>& fn);

// The searches of shard `shard` of `count` (round-robin over Plan::Searches()).
std::vector<Search> ShardSearches(const Plan& plan, int shard, int count);

class CellRunner {
 public:
  CellRunner(const Plan& plan, const SweepRunOptions& options, const Evaluator& evaluate,
             ResultStore* store, SweepSummary* summary);

  // The result of training (cell, repeat): the store's finished record, or a training run now
  // on `worker` and appended to the store. An evaluator exception other than a usage error is
  // recorded as a kFailed training naming the cell. Throws Interrupted on a stop request.
  train::TrainResult Run(const Cell& cell, int repeat, int worker);

  // Whether (cell, repeat) has a finished record; `*result` receives it.
  bool Stored(const Cell& cell, int repeat, train::TrainResult* result) const;

  // What a progress unit is: a training (a grid's cell and repeat; a stored one counts as
  // done without work, outside the rate) or a search (a threshold search, an adaptive depth).
  enum class ProgressUnit { kTraining, kSearch };
  // Progress over `total` units; Advance() one done.
  void StartProgress(int64_t total, ProgressUnit unit);
  void Advance(const std::string& note = "");
  void FinishProgress(bool interrupted);
  // A line on stderr when not on a terminal (logs), nothing on a terminal (the bar says it).
  void Log(const std::string& line);

  bool StopRequested() const { return options_.stop != nullptr && options_.stop->load(); }
  std::mutex& mutex() { return mu_; }

 private:
  Config RuntimeConfig(const Cell& cell, int repeat, int worker) const;

  const Plan& plan_;
  const SweepRunOptions& options_;
  const Evaluator& evaluate_;
  ResultStore* store_;
  SweepSummary* summary_;
  std::mutex mu_;  // guards summary_, progress_, done_
  std::unique_ptr<Progress> progress_;
  int64_t done_ = 0;
  ProgressUnit unit_ = ProgressUnit::kSearch;
  bool tty_ = false;
  int threads_share_ = 1;
};

}  // namespace rfx::sweep
