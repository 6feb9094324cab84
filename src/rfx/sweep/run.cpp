// RunSweep: the store, the up-front checks, and the grid and threshold modes (the adaptive mode
// is in adaptive_run.cpp; what the modes share in cell_runner.cpp).
#include "rfx/sweep/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "rfx/stats/search.h"
#include "rfx/sweep/adaptive_run.h"
#include "rfx/sweep/cell_runner.h"
#include "rfx/sweep/record.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/sweep_dir.h"
#include "rfx/sweep/validate_cells.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/lock.h"

namespace rfx::sweep {

using nlohmann::json;

namespace {

std::string OuterText(const json& outer) {
  std::string where;
  for (auto it = outer.begin(); it != outer.end(); ++it) {
    where += (where.empty() ? "" : " ") + it.key() + "=" +
             (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  return where;
}

void RunGrid(const Plan& plan, const SweepRunOptions& o, CellRunner& runner) {
  std::vector<std::pair<Cell, int>> work;
  const auto cells = plan.GridCells();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (!Plan::InShard(static_cast<int64_t>(i), o.shard, o.shard_count)) continue;
    for (int r = 0; r < plan.options().repeats; ++r) work.emplace_back(cells[i], r);
  }
  runner.StartProgress(static_cast<int64_t>(work.size()), CellRunner::ProgressUnit::kTraining);
  ParallelFor(static_cast<int64_t>(work.size()), o.workers, [&](int64_t i, int w) {
    runner.Run(work[i].first, work[i].second, w);
    runner.Advance();
  });
}

void RunThresholdSearches(const Plan& plan, const SweepRunOptions& o, CellRunner& runner,
                          SweepSummary* sum) {
  const SweepOptions& so = plan.options();
  const auto searches = ShardSearches(plan, o.shard, o.shard_count);
  const int ti = plan.threshold_axis_index();
  const int m = static_cast<int>(so.axes[ti].values.size());
  runner.StartProgress(static_cast<int64_t>(searches.size()), CellRunner::ProgressUnit::kSearch);
  std::map<int, int> chain_answer;  // chain -> last answer from an earlier wave
  sum->searches.resize(searches.size());
  int64_t finished = 0;
  for (size_t w0 = 0; w0 < searches.size(); w0 += static_cast<size_t>(o.workers)) {
    const size_t n = std::min(searches.size() - w0, static_cast<size_t>(o.workers));
    std::vector<int> answers(n, -1);
    ParallelFor(static_cast<int64_t>(n), o.workers, [&](int64_t k, int w) {
      const Search& s = searches[w0 + k];
      auto it = chain_answer.find(s.chain);
      const int start = it == chain_answer.end() ? 0 : std::min(it->second + 1, m - 1);
      int asked = 0;
      const int t = stats::FindThreshold(m, start, [&](int idx) {
        Cell cell = s.outer;
        cell[ti] = idx;
        double acc = 0;
        for (int r = 0; r < so.repeats; ++r) {
          const train::TrainResult res = runner.Run(cell, r, w);
          acc += res.ok() ? res.accuracy : 0.0;  // failed/diverged: not seen
        }
        ++asked;
        return acc / so.repeats >= so.accuracy;
      });
      answers[k] = t;
      SearchResult res;
      for (size_t a = 0; a < so.axes.size(); ++a) {
        if (static_cast<int>(a) == ti) continue;
        res.outer[so.axes[a].key] = ScalarJson(so.axes[a].values[s.outer[a]]);
      }
      res.cells = asked;
      if (t >= 0) {
        double v = 0;
        ScalarNumber(so.axes[ti].values[t], &v);
        res.value = v;
      }
      res.censored = t < 0 ? stats::Censoring::kBelow
                           : (t == m - 1 ? stats::Censoring::kAbove : stats::Censoring::kNone);
      const std::string note = DescribeCell(plan, s.outer) + " threshold " +
                               (t < 0 ? std::string("none") : so.axes[ti].Text(t));
      int64_t done = 0;
      {
        std::lock_guard<std::mutex> lock(runner.mutex());
        sum->searches[w0 + k] = res;
        done = ++finished;
      }
      runner.Advance(note);
      runner.Log("search " + std::to_string(done) + "/" + std::to_string(searches.size()) + " " +
                 note + " (" + std::to_string(asked) + " cells)");
    });
    for (size_t k = 0; k < n; ++k) chain_answer[searches[w0 + k].chain] = answers[k];
  }
}

}  // namespace

void SweepRunOptions::validate() const {
  if (out_dir.empty()) throw UsageError("no sweep directory given (out_dir is empty)");
  if (shard_count < 1 || shard < 1 || shard > shard_count) {
    throw UsageError("shard " + std::to_string(shard) + " of " + std::to_string(shard_count) +
                     " is out of range; allowed 1 <= shard <= shard_count");
  }
  if (workers < 1) {
    throw UsageError("workers " + std::to_string(workers) + " is out of range; allowed >= 1");
  }
}

std::string SweepSummary::ToText() const {
  std::string s;
  char buf[512];
  for (const auto& r : searches) {
    const std::string where = OuterText(r.outer);
    if (!r.reason.empty() || std::isfinite(r.d50)) {  // adaptive
      std::snprintf(buf, sizeof buf, "%s  d50 %.2f (95%% interval %.2f..%.2f)  %d trainings  %s\n",
                    where.c_str(), r.d50, r.ci_lo, r.ci_hi, r.cells, r.reason.c_str());
      s += buf;
      continue;
    }
    std::string v = r.value ? json(*r.value).dump() : "none";
    if (r.censored == stats::Censoring::kBelow) v = "none (sees nothing)";
    if (r.censored == stats::Censoring::kAbove) v = ">= " + v + " (sees everything)";
    std::snprintf(buf, sizeof buf, "%s  threshold %s  (%d cells)\n", where.c_str(), v.c_str(),
                  r.cells);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "%lld trainings run, %lld reused, %lld failed -> %s\n",
                static_cast<long long>(trained), static_cast<long long>(reused),
                static_cast<long long>(failed), results_path.c_str());
  s += buf;
  if (interrupted) s += "interrupted: rerun the same command to resume\n";
  if (failed > 0 && !interrupted) {
    s += std::to_string(failed) +
         " training(s) failed; rerun the same command to retry them (each one's log: "
         "cells/KEY.log)\n";
  }
  return s;
}

SweepSummary RunSweep(const Config& config, const SweepRunOptions& o, const Evaluator& evaluate) {
  o.validate();
  const Plan plan(config);
  // --devices sets each cell's train.device: a cell of a train.device axis would be labelled
  // with one device and trained on another.
  for (const Axis& a : plan.axes()) {
    if (a.key == "train.device" && !o.devices.empty()) {
      throw UsageError(
          "--devices cannot be combined with a sweep along train.device (sweep.axes.train.device "
          "chooses each cell's device); drop --devices or the axis");
    }
  }
  ValidateCells(plan, o.shard, o.shard_count);
  SweepSummary sum;
  const std::string out_path =
      o.shard_count > 1 ? ShardPath(o.out_dir, o.shard, o.shard_count) : ResultsPath(o.out_dir);
  sum.results_path = out_path;
  MakeDirs(o.out_dir);
  // One writer per results file (a second `rfx sweep` on the same --out and shard would train
  // every cell again); other shards have files, and locks, of their own.
  const std::optional<FileLock> lock = FileLock::TryLock(LockPath(out_path));
  if (!lock) {
    const std::string pid = FileLock::Holder(LockPath(out_path));
    throw UsageError("another rfx sweep is writing " + out_path +
                     (pid.empty() ? "" : " (pid " + pid + ")") +
                     "; wait for it to finish, or give this one another --out or --shard");
  }
  sum.note = CheckAndStoreConfig(o.out_dir, config, o.force_new);
  ResultStore store(o.out_dir, out_path);
  CellRunner runner(plan, o, evaluate, &store, &sum);
  try {
    switch (plan.options().mode) {
      case SweepMode::kGrid:
        RunGrid(plan, o, runner);
        break;
      case SweepMode::kThreshold:
        RunThresholdSearches(plan, o, runner, &sum);
        break;
      case SweepMode::kAdaptive:
        RunAdaptiveSearches(plan, o, runner, &sum);
        break;
    }
  } catch (const Interrupted&) {
    sum.interrupted = true;
  }
  runner.FinishProgress(sum.interrupted);
  return sum;
}

}  // namespace rfx::sweep
