// Where a probe reads (--position): the output pixel, the input pixel at the centre of its
// analytic field, and the profile and JSON of a placement.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "rfx/config/config.h"
#include "rfx/probe/metrics.h"
#include "rfx/theory/analysis.h"

namespace rfx::probe {

struct DepthProfile;  // forward.h

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

}  // namespace rfx::probe
