// rfx bench train: the median time of one training step of the fcn, its GFLOP/s and a measured
// conv roofline (compare with `pyref.py step`, see bench/RESULTS.md).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "rfx/train/bench.h"

namespace rfx::cli {

Runner AddBenchTrainCommand(CLI::App& bench) {
  CLI::App* cmd = bench.add_subcommand(
      "train", "Time one training step (Adam, MSE) of the fcn on a fixed batch");
  auto o = std::make_shared<train::StepBenchOptions>();
  auto json = std::make_shared<bool>(false);
  auto contiguous = std::make_shared<bool>(false);
  auto no_baseline = std::make_shared<bool>(false);
  cmd->add_option("--depth", o->depth, "Conv layers")->capture_default_str();
  cmd->add_option("--width", o->width, "Channels")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Samples per step")->capture_default_str();
  cmd->add_option("--size", o->size, "Canvas side, px")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--skip", o->skip, "none | input | residual")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N | auto (as train.device)")
      ->capture_default_str();
  cmd->add_option("--reps", o->reps, "Timed steps (median reported)")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Untimed steps first")->capture_default_str();
  cmd->add_flag("--contiguous", *contiguous, "NCHW instead of the trainer's channels-last");
  cmd->add_flag("--no-baseline", *no_baseline,
                "Skip the plain-way baseline (pyref.py's net, NCHW, default allocator) timed "
                "in the same run");
  cmd->add_flag("--json", *json, "Print one JSON object");
  return [o, json, contiguous, no_baseline]() -> int {
    o->channels_last = !*contiguous;
    o->baseline = !*no_baseline;
    const train::StepBenchResult r = train::RunStepBench(*o);
    if (*json) {
      std::cout << r.ToJson(*o).dump() << std::endl;
    } else {
      std::printf("step %.1f ms on %s (median of %d, min %.1f)  %.2f GFLOP/step  %.2f GFLOP/s\n",
                  r.step_ms, r.device.c_str(), o->reps, r.step_ms_min, r.gflop_per_step, r.gflops);
      if (o->baseline) {
        std::printf(
            "baseline (pyref's net, NCHW, default allocator) %.1f ms, speedup %.2fx; "
            "page faults per step %.0f vs %.0f\n",
            r.baseline_step_ms, r.speedup, r.faults_per_step, r.baseline_faults_per_step);
      }
      std::printf(
          "roofline: 3x3 conv forward %.2f GFLOP/s, 1024² matmul %.2f GFLOP/s (%d threads)\n",
          r.conv_roofline_gflops, r.matmul_gflops, r.threads);
    }
    return 0;
  };
}

}  // namespace rfx::cli
