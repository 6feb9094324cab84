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

// UsageError naming --position, the value and the allowed range unless `at` is inside an h×w
// output map.
void CheckInside(const Position& at, int64_t h, int64_t w);
// The placement of output pixel `at` of analytic row `row` (its n, j and start per axis) of a
// net on an h×w input. UsageError naming --position, the value and the allowed range when `at`
// is outside the row's output map (or its field's centre outside the input).
Placement PlaceAt(const theory::Row& row, const Position& at, int h, int w);
// The same for the output of the net of `config` (net.arch, net.depth, …) on an h×w input.
Placement PlaceInNet(const Config& config, const Position& at, int h, int w);
// `config` with net.depth = depth (an fcn of another depth, for depth scans).
Config WithDepth(const Config& config, int depth);
// Map of output channel `channel` of a 1×C×H×W tensor (CPU, double).
Map ChannelMap(const at::Tensor& out, int channel);

// The forward probe's profile at a placement: the output row from the position to the right
// (radius, profile) and the four rays' extents. UsageError naming --position when the output
// map is smaller than the placement says.
DepthProfile ProfileAt(const at::Tensor& out, int channel, const Placement& at, int depth,
                       double level);
// {left: {radius, clipped}, right: …, up: …, down: …}
nlohmann::json ExtentsJson(const Extents& e);
// position, input_position and output_size into a result's JSON.
void AddPlacementJson(const Placement& p, nlohmann::json& j);

// The inputs of a gradient probe: channels, and H, W (0: --size, else dataset.image_size).
struct InputGeometry {
  int channels = 1;
  int h = 0;
  int w = 0;
};
// B×C×H×W inputs (on the probe's device) → B×H×W per-sample maps (double, CPU).
// `at`: the output pixel to read (none: the centre).
using GradientSampler =
    std::function<at::Tensor(const at::Tensor& inputs, const std::optional<Position>& at)>;
// The placement of options.position for inputs of h×w (called only with --position).
using Placer = std::function<Placement(int h, int w)>;
// What every gradient probe shares: the inputs of `options` (noise, task samples, images) batch
// by batch through `sample`, the sum, the bootstrap units, the measures and their CIs (centred on
// the placement's input pixel with --position); fills r's map, measures, ci, placement and input
// fields (not source, device or wall time).
void AccumulateGradient(const Config& used, const GradientOptions& options, const Setup& setup,
                        const InputGeometry& geometry, const Placer& place,
                        const GradientSampler& sample, GradientResult& r);

// The forward probe's profile of a centre-row tensor (values from the centre to the right edge):
// |v| / max, the radius at `level`, clipped when it never falls below it.
DepthProfile RowProfile(const at::Tensor& centre_row, int depth, double level);

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace rfx::probe
