// Shared set-up of the probes (internal to src/rfx/probe): device, dtype, seeded nets.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "rfx/config/config.h"
#include "rfx/nn/init.h"
#include "rfx/nn/net.h"
#include "rfx/probe/probe.h"

namespace rfx::probe {

struct Setup {
  c10::Device device = c10::Device(c10::kCPU);  // from train.device
  at::ScalarType dtype = at::kFloat;            // from --dtype
  uint64_t seed = 0;                            // train.seed
};

// Resolves train.device, sets train.threads, reads train.seed; `dtype` float32 | float64.
Setup MakeSetup(const Config& config, const std::string& dtype);
void CheckDtype(const std::string& dtype);  // UsageError naming --dtype
void CheckBn(const std::string& bn);        // UsageError naming --bn
// The flags both probes share: --size (0 allowed when `size_optional`), --level, --channel,
// --dtype, --bn. UsageError naming the flag.
void CheckCommonFlags(int size, bool size_optional, double level, int channel,
                      const std::string& dtype, const std::string& bn);

// A net built and initialised (seed setup.seed) in setup.dtype — converted before the init, so
// float64 weights are computed in double — on setup.device, in eval mode.
nn::NetPtr BuildInitNet(const nn::NetOptions& net, const nn::InitOptions& init, const Setup& setup);
// eval: everything in eval mode; train: BatchNorm layers use batch statistics (dropout stays off).
void SetBnMode(nn::Net& net, const std::string& bn);

// The inputs of a gradient probe: channels, and H, W (0: --size, else dataset.image_size).
struct InputGeometry {
  int channels = 1;
  int h = 0;
  int w = 0;
};
// B×C×H×W inputs (on the probe's device) → B×H×W per-sample maps (double, CPU).
using GradientSampler = std::function<at::Tensor(const at::Tensor& inputs)>;
// What every gradient probe shares: the inputs of `options` (noise, task samples, images) batch
// by batch through `sample`, the sum, the bootstrap units, the measures and their CIs; fills r's
// map, measures, ci and input fields (not source, device or wall time).
void AccumulateGradient(const Config& used, const GradientOptions& options, const Setup& setup,
                        const InputGeometry& geometry, const GradientSampler& sample,
                        GradientResult& r);

// The forward probe's profile of a centre-row tensor (values from the centre to the right edge):
// |v| / max, the radius at `level`, clipped when it never falls below it.
DepthProfile RowProfile(const at::Tensor& centre_row, int depth, double level);

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace rfx::probe
