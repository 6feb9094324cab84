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
#include "rfx/theory/analysis.h"

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

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace rfx::probe
