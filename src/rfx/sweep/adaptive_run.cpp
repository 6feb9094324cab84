// The adaptive mode (docs/design.md#measuring-a-field-under-noise): per depth, a Bayesian staircase
// on the threshold axis (adaptive.h). The next training of a depth is a pure function of that
// depth's finished records and of the prior centre, which is the final estimate of the search
// `workers` places earlier in this shard's list when it belongs to the same chain (the same worker
// ran it just before). So a killed sweep rerun with the same --workers and --shard asks for exactly
// the trainings an uninterrupted one would, and never retrains a recorded one.
#include "rfx/sweep/adaptive_run.h"

#include <cmath>
#include <map>

#include "rfx/sweep/cell_runner.h"
#include "rfx/sweep/record.h"
#include "rfx/sweep/run.h"

namespace rfx::sweep {

namespace {

bool Learned(const train::TrainResult& r, double level) { return r.ok() && r.accuracy >= level; }

// The finished trainings of a search, and how many each distance index has (repeats 0..n-1).
struct DepthRecords {
  std::vector<stats::Trial> trials;
  std::vector<int> count;  // per distance index
};

DepthRecords ReadDepth(const Plan& plan, const CellRunner& runner, const Search& s,
                       const std::vector<double>& distances, int max_per_distance) {
  const int ti = plan.threshold_axis_index();
  DepthRecords d;
  d.count.assign(distances.size(), 0);
  for (size_t j = 0; j < distances.size(); ++j) {
    Cell cell = s.outer;
    cell[ti] = static_cast<int>(j);
    train::TrainResult r;
    while (d.count[j] < max_per_distance && runner.Stored(cell, d.count[j], &r)) {
      d.trials.push_back({distances[j], Learned(r, plan.options().accuracy)});
      ++d.count[j];
    }
  }
  return d;
}

}  // namespace

void RunAdaptiveSearches(const Plan& plan, const SweepRunOptions& o, CellRunner& runner,
                         SweepSummary* sum) {
  const SweepOptions& so = plan.options();
  const stats::AdaptiveOptions& ao = so.adaptive;
  const auto searches = ShardSearches(plan, o.shard, o.shard_count);
  const int ti = plan.threshold_axis_index();
  std::vector<double> distances;
  for (const auto& v : so.axes[ti].values) {
    double x = 0;
    ScalarNumber(v, &x);
    distances.push_back(x);
  }
  runner.StartProgress(static_cast<int64_t>(searches.size()), CellRunner::ProgressUnit::kSearch);
  sum->searches.assign(searches.size(), SearchResult());
  const int workers = std::max(1, std::min<int>(o.workers, static_cast<int>(searches.size())));
  // Worker w runs searches w, w + W, w + 2W, ... in order; each starts from the estimate of the
  // one before it on the same worker when that belongs to the same chain.
  ParallelFor(workers, workers, [&](int64_t w, int worker) {
    double prior = NAN;
    int prior_chain = -1;
    for (size_t k = static_cast<size_t>(w); k < searches.size(); k += workers) {
      const Search& s = searches[k];
      if (s.chain != prior_chain) prior = NAN;
      stats::AdaptiveStep step;
      while (true) {
        const DepthRecords d = ReadDepth(plan, runner, s, distances, ao.max_trainings + 1);
        step = stats::NextAdaptive(distances, d.trials, prior, ao);
        if (step.done) break;
        Cell cell = s.outer;
        cell[ti] = step.distance_index;
        const train::TrainResult r = runner.Run(cell, d.count[step.distance_index], worker);
        if (r.failed()) {  // not an outcome: leave the depth for a rerun to retry
          step.reason = "a training failed; rerun to retry";
          break;
        }
      }
      SearchResult res;
      for (size_t a = 0; a < so.axes.size(); ++a) {
        if (static_cast<int>(a) == ti) continue;
        res.outer[so.axes[a].key] = ScalarJson(so.axes[a].values[s.outer[a]]);
      }
      res.cells = step.trainings;
      res.d50 = step.d50;
      res.ci_lo = step.ci_lo;
      res.ci_hi = step.ci_hi;
      res.reason = step.reason;
      if (step.stop == stats::AdaptiveStop::kOutOfRange) {
        res.censored =
            step.d50 < distances.front() ? stats::Censoring::kBelow : stats::Censoring::kAbove;
      }
      {
        std::lock_guard<std::mutex> lock(runner.mutex());
        sum->searches[k] = res;
      }
      char note[160];
      std::snprintf(note, sizeof note, " d50 %.2f [%.2f, %.2f] after %d trainings (%s)", step.d50,
                    step.ci_lo, step.ci_hi, step.trainings, step.reason.c_str());
      runner.Advance(DescribeCell(plan, s.outer) + note);
      runner.Log("depth " + DescribeCell(plan, s.outer) + note);
      prior = step.d50;
      prior_chain = s.chain;
    }
  });
}

}  // namespace rfx::sweep
