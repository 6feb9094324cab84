// The gradient effective RF of Luo et al. (2016) of a fresh or trained net
// (docs/design.md#effective-rf-by-gradient): `rfx probe gradient`.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/probe/erf_measures.h"
#include "rfx/probe/metrics.h"
#include "rfx/probe/placement.h"

namespace rfx::probe {

struct Setup;  // common.h

// Memory the bootstrap may spend on per-sample maps (doubles): when `samples` maps of H×W do not
// fit, consecutive samples are summed into equal blocks that are resampled instead (the units
// reported in the CI). 256 MiB: every sample its own unit up to 4096 samples at 64², 32 at 1024².
constexpr int64_t kBootstrapBudgetBytes = int64_t{256} << 20;

// `rfx probe gradient` options.
struct GradientOptions {
  int samples = 0;     // --samples: inputs to accumulate (0: 16; with --inputs every image)
  int batch = 8;       // --batch: inputs per backward pass (>= 1)
  std::string input;   // --input: noise (uniform [0,1), the default) | task (dataset.* samples)
  std::string inputs;  // --inputs DIR: its PNG/JPEG files (sorted), not with --input
  std::vector<double> mean = {0.0};  // --mean: per-channel mean subtracted from [0,1] pixels
  std::vector<double> std = {1.0};   // --std: per-channel divisor after the mean
  std::string agg = "abs";           // --agg: abs (|grad|) | relu (max(grad, 0)), per sample
  std::string scale = "none";        // --scale: none | log (log10(x+1)) before the measures
  // --replknet: RepLKNet's erf scripts instead of agg/scale/channel: the gradient of
  // Σ_c relu(out[c, H/2, W/2]), relu'd, averaged over samples, log10(x+1), / max, and their
  // area-ratio rule (ReplknetAreaRatio).
  bool replknet = false;
  int bootstrap = 200;  // --bootstrap: B replicates of the 95% CI (0: none)
  int64_t bootstrap_budget_bytes = kBootstrapBudgetBytes;  // no flag: the per-sample map budget
  int size = 0;     // --size: input side for noise and images (0: dataset.image_size)
  int channel = 0;  // --channel: output channel c of out[c, H/2, W/2]
  // --position ROW,COL: read out[c, ROW, COL] instead of the centre; the measures are centred on
  // the input pixel of that unit (Placement). Not with --replknet (their scripts read the centre).
  std::optional<Position> position;
  double level = 0.0012;          // --level: radius threshold on the normalised centre row
  std::string checkpoint;         // --checkpoint DIR: a trained run (DIR/config.yaml, model.pt)
  std::string dtype = "float32";  // --dtype: float32 | float64
  std::string bn = "eval";        // --bn: eval | train (fcn_resnet50)
  void validate() const;
};

struct GradientResult {
  Map map;  // the measured map: accumulated, aggregated, scaled (input-sized)
  std::string agg, scale, input, source, device, dtype;
  std::string inputs;  // the --inputs directory (input "images")
  bool replknet = false;
  int samples = 0, channel = 0;  // samples: those in the map
  int skipped_nonfinite = 0;     // --replknet: samples skipped for a NaN/inf gradient, as theirs
  double level = 0;
  int radius = 0;  // along the centre row from the centre (or the input position), right
  bool clipped = false;
  std::optional<Placement> placement;  // with --position
  std::optional<Extents> extents;      // with --position: the four rays from the input position
  GaussianFit fit;
  std::vector<AreaResult> area_ratios;  // per AreaFractions() entry
  std::optional<ErfCi> ci;              // unless --bootstrap 0
  double wall_s = 0;
  nlohmann::json ToJson() const;  // … radius_ci: [lo, hi], sigma_ci: {x: [lo, hi], y: …}, …
};

// Per-sample maps agg(∂ out[b, c, H/2, W/2] / ∂ input[b]) summed over input channels, for
// `inputs` (B×C×H×W, any device): a CPU double B×H×W tensor. With `replknet` the read-out is
// Σ_c relu(out[b, c, H/2, W/2]) and agg is relu (`channel` and `agg` unused). `at`: read
// out[b, c, row, col] instead of the centre.
at::Tensor SampleGradientMaps(nn::Net& net, const at::Tensor& inputs, int channel,
                              const std::string& agg, bool replknet = false,
                              const std::optional<Position>& at = std::nullopt);
// The same from an output `out` computed from `x` (which requires grad): what every net's and
// model's gradient probe reads. UsageError naming --position when `at` is outside `out`.
at::Tensor ReadOutGradient(const at::Tensor& x, const at::Tensor& out, int channel,
                           const std::string& agg, bool replknet,
                           const std::optional<Position>& at);
// Their sum over the batch as an H×W map (not scaled).
Map GradientMap(nn::Net& net, const at::Tensor& inputs, int channel, const std::string& agg);

// The whole gradient probe: a fresh net from config (init.*, seed train.seed) or
// options.checkpoint, inputs, accumulation, measures, bootstrap CI (seed train.seed). A sample
// whose gradient is not finite is a runtime error, except under --replknet, which skips it as
// RepLKNet's script does (it then reads further images; rfx has a fixed list: fewer samples).
GradientResult RunGradient(const Config& config, const GradientOptions& options);

// The gradient probe of RunGradient on a net already built, in options.dtype on `device`; the
// inputs come from `used` (dataset.*) and `seed` (train.seed), options.checkpoint is ignored.
// The net is measured with options.bn and its parameters' requires_grad off (their gradients
// are neither computed nor touched); its modes and requires_grad flags are restored afterwards,
// also on an error. What the training's train.erf_every snapshots call. Source and wall_s are
// left for the caller.
GradientResult MeasureGradient(nn::Net& net, const Config& used, const GradientOptions& options,
                               c10::Device device, uint64_t seed);

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

}  // namespace rfx::probe
