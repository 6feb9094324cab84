// Probes without training (docs/design.md#forward-pass-estimate, #effective-rf-by-gradient): the
// forward-pass impulse estimate of the field radius, scanned over depths in one incremental pass,
// and the gradient effective RF of Luo et al. (2016) of a fresh or trained net.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/probe/erf_measures.h"
#include "rfx/probe/metrics.h"

namespace rfx::probe {

// "3,5,8" | "A:B" | "A:B:STEP" → sorted unique depths >= 1. Throws UsageError naming `flag`.
std::vector<int> ParseDepths(const std::string& spec, const std::string& flag = "--depths");

// A pixel (row, col) of a map: the output pixel a probe reads (--position) or the input pixel
// that corresponds to it.
struct Position {
  int64_t row = 0, col = 0;
  bool operator==(const Position& o) const { return row == o.row && col == o.col; }
};
// "ROW,COL" (integers >= 0). UsageError naming --position.
Position ParsePosition(const std::string& text);
// Where a probe at an output position reads and what it centres on: the output pixel and the
// input pixel at the centre of that unit's analytic field (theory: floor(start + j·i) per axis;
// for a stride-1 'same' net the same pixel), and the output map's size.
struct Placement {
  Position output, input;
  int64_t out_h = 0, out_w = 0;
};

// `rfx probe forward` options (the net itself comes from the config: net.*, init.*, train.*).
struct ForwardOptions {
  int size = 768;                 // --size: side S of the S×S impulse input (>= 3)
  double level = 0.0012;          // --level: radius = first distance with profile < level, (0, 1)
  std::vector<int> depths;        // --depths: fcn depths (empty: net.depth)
  std::string dtype = "float32";  // --dtype: float32 | float64
  std::string bn =
      "eval";       // --bn: BatchNorm mode (fcn_resnet50, layers), eval | train (batch stats)
  int channel = 0;  // --channel: output channel (0 | 1)
  // --position ROW,COL: the output pixel read (unset: the centre, impulse at the input's centre).
  // Set, the impulse goes in at the input pixel of that unit (Placement) and the profile is
  // read from it; an fcn depth scan then runs a fresh net per depth.
  std::optional<Position> position;
  // --linear: fcn with identity activations (its linear part, e.g. to see the decomposed
  // scheme's box, which ReLU would clip).
  bool linear = false;
  // One incremental pass over the depths when exact (see RunForward); false forces one fresh
  // net per depth (the study's way, kept for comparison and the benchmark).
  bool incremental = true;
  void validate() const;  // UsageError naming the flag and what is allowed
};

struct DepthProfile {
  int depth = 0;
  int radius = 0;               // first distance with profile < level (profile.size(): clipped)
  bool clipped = false;         // never fell below the level inside the input
  std::vector<double> profile;  // |v|/max along the centre row, distance 0 … S−1−S/2
  // With --position: the radii along the four rays from the position (right = radius, profile
  // is that ray), each clipped where the border comes first.
  std::optional<Extents> extents;
};

struct ForwardResult {
  std::string arch, init, dtype, device;
  bool linear = false;
  std::string method;       // "incremental" | "fresh" | "single" (fcn_resnet50, layers)
  std::string method_note;  // why not incremental, when not
  int size = 0;
  double level = 0;
  std::optional<Placement> placement;  // with --position (the last depth's, the same for all
                                       // depths of an fcn)
  std::vector<DepthProfile> depths;
  double wall_s = 0;
  // {radii: [{depth, radius, clipped, extent?}], method, position?, input_position?, …}
  nlohmann::json ToJson() const;
};

// The forward-pass estimate: impulse 1.0 at (S/2, S/2), weights from init.* (seed train.seed),
// on train.device with train.threads, output channel `channel`, centre row from the centre out,
// |v|/max. For net.arch = fcn the depths are scanned in one incremental pass when that is exact:
// hidden layers are applied one after another and, at each requested depth D, the last layer of
// a depth-D net (width→2, initialised as in a depth-D net) is applied as a read-out (on the
// centre row only; hidden layers only on the rows and columns later read-outs can see). That
// requires the depth-D net's first D−1 layers to equal the scan's (checked on the weights) and
// no skip path that changes the output (skip none, or input skips with zero weights as under
// `constant`); otherwise (residual skips, the decomposed scheme) each depth is a fresh net,
// and `method_note` says why. fcn_resnet50 and layers: one net (depth: 50, or the layer list's
// convs), BN γ=1, β=0, eval or train mode.
ForwardResult RunForward(const Config& config, const ForwardOptions& options);

// The impulse response of `net` (already on its device and dtype): output channel `channel`,
// S×S, as a CPU double map.
Map ImpulseResponse(nn::Net& net, int size, int channel, c10::Device device, at::ScalarType dtype);

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

// PNG heatmap of a map (normalised to its max, OpenCV's inferno colour map, nearest-neighbour
// enlarged so the short side is at least 256 px).
void WriteHeatmapPng(const Map& map, const std::string& path);

// `rfx bench probe`: the depth scan 1..max_depth at size², plain fcn with constant init,
// incremental vs a fresh net per depth, in the same run.
struct BenchOptions {
  int max_depth = 192;
  int size = 768;
  int threads = 0;  // 0: all cores
  std::string device = "auto";
};
nlohmann::json RunProbeBench(const BenchOptions& options);

}  // namespace rfx::probe
