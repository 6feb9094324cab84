// `rfx probe compare`: the three views of one model side by side, per depth (fcn) or for the
// net as configured: the analytic field (rfx::theory), the impulse radius (forward probe) and
// the gradient ERF with bootstrap intervals (gradient probe) —
// docs/design.md#forward-pass-estimate, #analytic-receptive-fields, #effective-rf-by-gradient.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/probe/model.h"
#include "rfx/probe/probe.h"

namespace rfx::probe {

// What compare measures: a net built from a config (net.*, init.*; for net.arch fcn one fresh
// net per depth), or a TorchScript model, one row per layer (node): the analytic RF of its
// graph at the last row inside that submodule, and the impulse and gradient probes run on the
// model cut at that node. The nodes: model.node alone (--node), `nodes` (--nodes), or by default
// DefaultNodes.
struct CompareTarget {
  std::string label;        // e.g. "fcn from config", "model F.pt"
  Config config;            // the net's keys (train.device, train.seed, init.* too)
  std::vector<int> depths;  // fcn: one row per depth; empty: one row, the net as configured
  std::optional<ModelOptions> model;  // set: the TorchScript model instead of net.*
  std::vector<std::string> nodes;     // model: the rows' nodes (empty: model.node or the default)
};
// UsageError naming --depths when depths are given for a net.arch other than fcn.
CompareTarget TargetFromConfig(const Config& config, const std::vector<int>& depths);
// `config` supplies train.device and train.seed only. `nodes` (--nodes): UsageError naming
// --nodes when combined with model.node.
CompareTarget TargetFromModel(const Config& config, const ModelOptions& model,
                              const std::vector<std::string>& nodes = {});
// The default rows of a model: its top-level children (a single child that holds everything, as
// a Sequential wrapper, is replaced by its own children, recursively) that the analytic table
// names and whose rows do not see everything (global pooling, flatten, linear: no map to probe),
// in order; then "" (the model's own output) when the table's last row is a map outside them.
std::vector<std::string> DefaultNodes(const ModelOptions& model, const theory::Table& table);

struct CompareOptions {
  int size = 64;          // --size: side of the impulse and the gradient inputs (>= 3)
  double level = 0.0012;  // --level: both radii, first distance below it on the centre row
  std::string dtype = "float32";
  int channel = 0;
  // The gradient probe's own options (samples default 8; bootstrap, agg, scale, replknet,
  // input/inputs, …); size, level, dtype and channel are taken from above.
  GradientOptions gradient;
  CompareOptions() { gradient.samples = 8; }
  void validate() const;  // UsageError naming the flag
};

struct CompareRow {
  std::string label;           // "depth 3" or the arch
  int depth = 0;               // fcn depth (0: not an fcn row)
  double analytic_rf = 0;      // theory: the output unit's field side (fcn: 2N+1)
  double analytic_radius = 0;  // (rf − 1) / 2: the farthest input pixel from the centre it sees
  int impulse_radius = 0;      // forward probe at --level (<= analytic_radius + 1), in units
                               // of the read map (output pixels of the node)
  double impulse_jump = 1;     // input px per unit of the read map (theory's jump j; 1: stride 1)
  bool impulse_clipped = false;
  GradientResult erf;  // gradient probe (map, radius, σ, area ratios, CI)
};

struct CompareResult {
  std::string target, arch, init;
  CompareOptions options;
  int input_h = 0, input_w = 0;  // the probes' input (--size, or --input-shape's H, W)
  std::vector<CompareRow> rows;
  double wall_s = 0;
  nlohmann::json ToJson() const;  // {target, rows: [{depth, analytic_rf, …, erf_radius_ci}], …}
};

CompareResult RunCompare(const CompareTarget& target, const CompareOptions& options);

// One line per row: depth, analytic RF and radius, impulse radius, ERF radius [CI], σx [CI],
// area ratios.
std::string FormatCompareTable(const CompareResult& result);
// Header + one line per row; CI bounds as *_lo, *_hi columns.
std::string FormatCompareCsv(const CompareResult& result);

}  // namespace rfx::probe
