// rfx sweep: grid or threshold sweeps of training runs, resumable, sharded, with workers.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "rfx/sweep/child_eval.h"
#include "rfx/sweep/dry_run.h"
#include "rfx/sweep/run.h"
#include "rfx/sweep/train_eval.h"
#include "rfx/util/error.h"

namespace rfx::cli {

namespace {

std::atomic<bool> g_stop{false};

void OnSweepStopSignal(int) { g_stop = true; }

struct SweepArgs {
  ConfigArgs config;
  std::string out;
  std::string shard;
  int workers = 1;
  std::string devices;
  bool dry_run = false;
  bool no_measure = false;
  bool force_new = false;
  bool json = false;
};

std::vector<std::string> ParseDevices(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',') {
      if (cur.empty() || cur.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("--devices '" + text +
                         "' must be a comma-separated list of CUDA device numbers, e.g. 0,1,2");
      }
      out.push_back("cuda:" + cur);
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  return out;
}

int RunSweepCommand(const SweepArgs& a) {
  const Config config = LoadConfig(a.config);
  sweep::SweepRunOptions o;
  o.out_dir = a.out;
  o.workers = a.workers;
  o.force_new = a.force_new;
  if (a.out.empty()) throw UsageError("--out is empty; give the sweep directory");
  if (a.workers < 1) {
    throw UsageError("--workers " + std::to_string(a.workers) + " is out of range; allowed >= 1");
  }
  if (!a.shard.empty()) ParseShard(a.shard, &o.shard, &o.shard_count);
  if (!a.devices.empty()) {
    o.devices = ParseDevices(a.devices);
    if (config.GetString("train.device").rfind("cuda", 0) != 0) {
      throw UsageError("--devices needs train.device: cuda (it is '" +
                       config.GetString("train.device") + "')");
    }
  }
  if (a.dry_run) {
    if (o.workers < 1) o.validate();
    sweep::DryRun d = sweep::PlanDryRun(config, o);
    if (!a.no_measure) {
      d.cell_s = sweep::MeasureCellSeconds(config);
      d.estimate_s = d.cell_s * static_cast<double>(d.trainings_bound) / o.workers;
    }
    if (a.json) {
      std::cout << d.ToJson().dump(2) << "\n";
    } else {
      std::cout << d.ToText();
    }
    return 0;
  }
  o.validate();
  g_stop = false;
  o.stop = &g_stop;
  struct sigaction sa {};
  sa.sa_handler = OnSweepStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  sweep::Evaluator eval;
  if (o.workers == 1) {
    eval = sweep::InProcessEvaluator(&g_stop);
  } else {
    const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
    eval = sweep::ChildProcessEvaluator(exe, &g_stop);
  }
  const sweep::SweepSummary s = sweep::RunSweep(config, o, eval);
  if (!s.note.empty()) std::cerr << "rfx sweep: " << s.note << "\n";
  std::cout << s.ToText();
  if (s.interrupted) {
    std::cerr << "rfx sweep: interrupted; rerun the same command to resume\n";
    return 1;
  }
  if (s.failed > 0) {
    std::cerr << "rfx sweep: " << s.failed << " cell(s) failed; rerun to retry\n";
    return 1;
  }
  return 0;
}

}  // namespace

Runner AddSweepCommand(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Train a grid of configs, or search each depth's threshold (resumable)");
  AddConfigOptions(cmd, &args->config);
  cmd->add_option("--out", args->out, "Sweep directory (results.jsonl, sweep.yaml, cells/)")
      ->required();
  cmd->add_option("--shard", args->shard,
                  "Run only shard I of N (I/N): grid cells or threshold searches, round-robin; "
                  "writes DIR/shard-I-of-N.jsonl");
  cmd->add_option("--workers", args->workers,
                  "Trainings at once (>1: child processes, each with its share of threads)");
  cmd->add_option("--devices", args->devices,
                  "CUDA devices for the workers, round-robin (e.g. 0,1); needs train.device: cuda");
  cmd->add_flag(
      "--dry-run", args->dry_run,
      "Print the plan (cells/searches, bound on trainings, time estimate); train nothing");
  cmd->add_flag("--no-measure", args->no_measure,
                "With --dry-run: skip the short measured trainings behind the time estimate");
  cmd->add_flag("--json", args->json, "With --dry-run: print the plan as JSON");
  cmd->add_flag("--force-new", args->force_new,
                "If DIR holds a sweep of another config, move its results to "
                "DIR/superseded-N/ and start afresh");
  return [args]() { return RunSweepCommand(*args); };
}

}  // namespace rfx::cli
