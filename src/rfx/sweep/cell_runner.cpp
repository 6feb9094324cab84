#include "rfx/sweep/cell_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <thread>

#include "rfx/runtime/device.h"
#include "rfx/sweep/record.h"
#include "rfx/util/error.h"

namespace rfx::sweep {

using nlohmann::json;

std::string DescribeCell(const Plan& plan, const Cell& cell) {
  std::string s;
  for (size_t i = 0; i < plan.axes().size(); ++i) {
    if (cell[i] < 0) continue;
    s += (s.empty() ? "" : " ") + plan.axes()[i].key + "=" + plan.axes()[i].Text(cell[i]);
  }
  return s;
}

void ParallelFor(int64_t n, int workers, const std::function<void(int64_t, int)>& fn) {
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex mu;
  std::atomic<bool> failed{false};
  auto body = [&](int w) {
    while (!failed) {
      const int64_t i = next++;
      if (i >= n) return;
      try {
        fn(i, w);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(workers, n)));
  if (t == 1) {
    body(0);
  } else {
    std::vector<std::thread> threads;
    for (int w = 0; w < t; ++w) threads.emplace_back(body, w);
    for (auto& th : threads) th.join();
  }
  if (error) std::rethrow_exception(error);
}

std::vector<Search> ShardSearches(const Plan& plan, int shard, int count) {
  std::vector<Search> mine;
  const auto all = plan.Searches();
  for (size_t i = 0; i < all.size(); ++i) {
    if (Plan::InShard(static_cast<int64_t>(i), shard, count)) mine.push_back(all[i]);
  }
  return mine;
}

CellRunner::CellRunner(const Plan& plan, const SweepRunOptions& options, const Evaluator& evaluate,
                       ResultStore* store, SweepSummary* summary)
    : plan_(plan), options_(options), evaluate_(evaluate), store_(store), summary_(summary) {
  tty_ = options.progress && ::isatty(::fileno(stderr)) != 0;
  // Each worker's share of the CPUs this process may use (a Slurm allocation, taskset).
  threads_share_ = std::max(1, HardwareThreads() / std::max(1, options.workers));
}

Config CellRunner::RuntimeConfig(const Cell& cell, int repeat, int worker) const {
  Config c = plan_.CellConfig(cell, repeat);
  if (!options_.devices.empty()) {
    c.Set("train.device", YAML::Node(options_.devices[worker % options_.devices.size()]),
          "--devices");
  }
  if (options_.workers > 1) {
    if (c.GetInt("train.threads") == 0) {
      c.Set("train.threads", YAML::Node(threads_share_), "--workers");
    }
    if (c.GetInt("dataset.threads") == 0) {
      c.Set("dataset.threads", YAML::Node(threads_share_), "--workers");
    }
  }
  return c;
}

bool CellRunner::Stored(const Cell& cell, int repeat, train::TrainResult* result) const {
  const json* rec = store_->Find(plan_.CellKey(cell, repeat));
  if (rec == nullptr) return false;
  if (result != nullptr) *result = train::TrainResult::FromJson(*rec);
  return true;
}

train::TrainResult CellRunner::Run(const Cell& cell, int repeat, int worker) {
  train::TrainResult r;
  if (Stored(cell, repeat, &r)) {
    std::lock_guard<std::mutex> lock(mu_);
    ++summary_->reused;
    if (progress_ && unit_ == ProgressUnit::kTraining)
      progress_->AddBaseline(1);  // no work: not in the rate
    return r;
  }
  if (StopRequested()) throw Interrupted();
  CellTask task;
  task.key = plan_.CellKey(cell, repeat);
  task.cell_dir = options_.out_dir + "/cells/" + task.key;
  task.worker = worker;
  const std::string where =
      DescribeCell(plan_, cell) + " seed=" + std::to_string(plan_.Seed(cell, repeat));
  try {
    r = evaluate_(RuntimeConfig(cell, repeat, worker), task);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    if (StopRequested()) throw Interrupted();
    // Not an outcome: recorded as failed (retried when the sweep is rerun); the sweep goes on.
    r = train::TrainResult();
    r.status = train::TrainStatus::kFailed;
    r.message = "cell " + where + " (key " + task.key + "): " + e.what();
  }
  if (StopRequested() && r.failed()) throw Interrupted();  // a cut-short training
  store_->Append(MakeRecord(plan_, cell, repeat, r));
  char buf[160];
  std::snprintf(buf, sizeof buf, " accuracy=%.3f %s %.1fs", r.accuracy, train::StatusText(r.status),
                r.wall_s);
  const std::string note = where + buf;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++summary_->trained;
    if (r.failed()) ++summary_->failed;
    if (progress_) progress_->Update(done_, note);
  }
  Log("trained " + note + (r.message.empty() ? "" : " (" + r.message + ")"));
  return r;
}

void CellRunner::StartProgress(int64_t total, ProgressUnit unit) {
  unit_ = unit;
  if (options_.progress) progress_ = std::make_unique<Progress>("sweep", total, stderr, 60.0);
}

void CellRunner::Advance(const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  if (progress_) progress_->Update(done_, note);
}

void CellRunner::FinishProgress(bool interrupted) {
  if (progress_) progress_->Finish(interrupted ? "interrupted" : "done");
}

void CellRunner::Log(const std::string& line) {
  if (!options_.progress || tty_) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::fprintf(stderr, "sweep: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace rfx::sweep
