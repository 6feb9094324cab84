// The training-step benchmark (`rfx bench train`): the median time of one Adam step of the fcn
// on a fixed batch (data generation excluded, as pyref.py step), its FLOP rate, and a measured
// conv roofline to compare it with; and, in the same run, the plain-way baseline.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace rfx::train {

struct StepBenchOptions {
  int depth = 16;              // fcn layers (>= 1)
  int width = 16;              // fcn channels (>= 1)
  int batch = 8;               // samples per step (>= 1)
  int size = 128;              // canvas side, px (>= 16)
  int threads = 2;             // intra-op threads (0 = all cores)
  std::string skip = "input";  // net.skip
  int reps = 15;               // timed steps (>= 1); the median is reported
  int warmup = 3;              // untimed steps first (>= 0)
  bool channels_last = true;   // the trainer's memory format
  bool baseline = true;        // also time the plain way in the same run (see RunStepBench)
  std::string device = "cpu";  // cpu | cuda | cuda:N | auto (as train.device; --device)
  void validate() const;       // UsageError naming the flag
};

struct StepBenchResult {
  double step_ms = 0;               // median of `reps` steps
  double step_ms_min = 0;           // fastest step
  double gflop_per_step = 0;        // conv FLOPs of forward + backward (2 per multiply-add)
  double gflops = 0;                // gflop_per_step / median step time
  double conv_roofline_gflops = 0;  // best measured rate of one 16→16 3×3 conv forward, same
                                    // threads, batch and size (what the step could reach)
  double matmul_gflops = 0;         // best measured rate of a 1024² float matmul, same threads
  int threads = 0;
  std::string device;           // the device it ran on ("cpu", "cuda:0")
  double faults_per_step = 0;   // minor page faults per timed step
  bool host_allocator = false;  // rfx's caching host allocator was in use
  // With options.baseline: the same step the plain way, timed in the same run in blocks
  // interleaved with rfx's: pyref.py's net (1×1 conv skips, out-of-place ReLU), NCHW, LibTorch's
  // default allocator (for skip != input: rfx's net, NCHW, default allocator).
  double baseline_step_ms = 0;
  double baseline_faults_per_step = 0;
  double speedup = 0;  // baseline_step_ms / step_ms
  nlohmann::json ToJson(const StepBenchOptions& options) const;
};

StepBenchResult RunStepBench(const StepBenchOptions& options);

}  // namespace rfx::train
