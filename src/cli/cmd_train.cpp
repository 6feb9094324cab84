// rfx train: one training run (docs/design.md#training-and-accuracy) into a run directory.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "rfx/probe/erf_track.h"
#include "rfx/train/train.h"

namespace rfx::cli {

namespace {

std::atomic<bool> g_stop{false};

void OnTrainStopSignal(int) { g_stop.store(true); }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnTrainStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

Runner AddTrainCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "train", "Train one net (net.*, init.*, dataset.*, train.*) and write a run directory");
  auto config = std::make_shared<ConfigArgs>();
  auto run = std::make_shared<train::RunOptions>();
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--out", run->out_dir,
                  "Run directory: config.yaml, metrics.jsonl, result.json, model.pt (and "
                  "erf.jsonl, erf/step-S.csv with train.erf_every)")
      ->required();
  cmd->add_flag("--resume", run->resume,
                "Continue an interrupted run in --out from its checkpoint (a finished run is "
                "returned as is)");
  cmd->add_flag("--force", run->force, "Overwrite a run already in --out");
  AddIntegerFlag(cmd, "--stop-at", &run->stop_at_step, 1, INT64_MAX,
                 "Stop (checkpoint, exit 1) once this step is done; continue with --resume");
  return [config, run]() -> int {
    if (run->resume && run->force) throw UsageError("--resume and --force exclude each other");
    if (run->out_dir.empty()) throw UsageError("--out is empty; give the run directory");
    const Config c = LoadConfig(*config);
    g_stop.store(false);
    run->stop = &g_stop;
    InstallStopHandlers();
    // train.erf_every's snapshots (the tracker does nothing when it is 0).
    run->observers = {std::make_shared<probe::ErfTracker>()};
    train::TrainResult r;
    try {
      r = train::RunTraining(c, *run);
    } catch (const train::ResumeConflict& e) {
      std::cerr << "rfx: error: " << e.what() << "\n";
      return train::kExitResumeConflict;
    }
    std::cout << r.ToJson().dump() << std::endl;
    if (r.failed()) {
      std::cerr << "rfx: train failed: " << r.message << "\n";
      return 1;
    }
    if (r.status == train::TrainStatus::kDiverged) {
      std::cerr << "rfx: train diverged: " << r.message << "\n";
    }
    return 0;
  };
}

}  // namespace rfx::cli
