// The forward-pass impulse estimate of the field radius (docs/design.md#forward-pass-estimate),
// scanned over depths in one incremental pass: `rfx probe forward`.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"
#include "rfx/probe/metrics.h"
#include "rfx/probe/placement.h"

namespace rfx::probe {

// "3,5,8" | "A:B" | "A:B:STEP" → sorted unique depths >= 1. Throws UsageError naming `flag`.
std::vector<int> ParseDepths(const std::string& spec, const std::string& flag = "--depths");

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

// The forward probe's profile of a centre-row tensor (values from the centre to the right edge):
// |v| / max, the radius at `level`, clipped when it never falls below it.
DepthProfile RowProfile(const at::Tensor& centre_row, int depth, double level);

}  // namespace rfx::probe
