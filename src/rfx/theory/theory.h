// Analytic receptive fields (DESIGN §1.6): per-layer tables of output size n, receptive field
// r, jump j (distance between adjacent units in input pixels) and start (input coordinate of
// the centre of the first unit) for conv / pool / dilation / padding / stride / upsampling,
// over graphs with residual merges. Pure arithmetic: no torch here.
//
// All layers are square (the same k, s, p, d on both axes) and inputs are N×N, so one axis
// describes both; the arithmetic is the per-axis 1-D recurrence
//   n_out = floor((n_in + 2p − d(k−1) − 1)/s) + 1
//   r_out = r_in + (k−1)·d·j_in,  j_out = j_in·s,  start_out = start_in + (d(k−1)/2 − p)·j_in
// with the input at n = N, r = 1, j = 1, start = 0.5 (pixel i spans [i, i+1)).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/skip.h"

namespace rfx::theory {

enum class Op { kInput, kConv, kMaxPool, kAvgPool, kUpsample, kAdd };
const char* OpName(Op op);

// One node of a layer graph.
struct Layer {
  std::string name;
  Op op = Op::kConv;
  int k = 1;                // kernel side (conv, pool)
  int s = 1;                // stride
  int p = 0;                // zero padding per side
  int d = 1;                // dilation
  bool ceil_mode = false;   // pool: ceil instead of floor in n_out
  double factor = 0;        // upsample: scale factor (used when size_of < 0)
  int size_of = -1;         // upsample: take the output size of this node (e.g. 0 = the input)
  bool bilinear = false;    // upsample: bilinear reads 2 input units per output (r grows by j_in)
  std::vector<int> inputs;  // indices of earlier nodes (one, or several for kAdd)
};

// A layer graph in topological order; node 0 is the input. Each builder returns the new
// node's index; `from` = -1 means the last node added.
class Graph {
 public:
  Graph();
  int Conv(const std::string& name, int k, int s = 1, int p = 0, int d = 1, int from = -1);
  int MaxPool(const std::string& name, int k, int s, int p = 0, bool ceil_mode = false,
              int from = -1);
  int AvgPool(const std::string& name, int k, int s, int p = 0, bool ceil_mode = false,
              int from = -1);
  int Upsample(const std::string& name, double factor, bool bilinear, int from = -1);
  int UpsampleTo(const std::string& name, int size_of, bool bilinear, int from = -1);
  int Add(const std::string& name, const std::vector<int>& inputs);
  int Push(Layer layer);  // validates k/s/d >= 1, p >= 0, inputs earlier; throws UsageError

  int last() const { return static_cast<int>(layers_.size()) - 1; }
  const std::vector<Layer>& layers() const { return layers_; }

 private:
  std::vector<Layer> layers_;
};

// One row of the table: the state after a node.
struct Row {
  std::string name;
  Op op = Op::kConv;
  std::string params;  // "k3 s1 p1", "k3 s1 p2 d2", "x8 bilinear", "" ...
  std::vector<int> inputs;
  int64_t n = 0;              // output side (0 = the input was too small for this layer)
  double r = 1;               // receptive field (largest path)
  double r_min = 1;           // smallest receptive field over paths (equals r on a chain)
  double j = 1;               // jump (input px between adjacent units)
  double start = 0.5;         // input coordinate of the centre of unit 0
  bool unproductive = false;  // r_min > input side: no unit sees anything new at this size
  bool border = false;        // the first unproductive layer
  std::string note;           // misaligned merge, empty output, ...
};

struct Table {
  std::string net;
  int64_t input = 0;
  std::vector<Row> rows;  // rows[0] is the input
  std::vector<std::string> warnings;
  int border = -1;  // index of the border row, -1 if none
  // The output node's (last row's) values.
  double rf() const { return rows.back().r; }
  double stride() const { return rows.back().j; }
};

// The per-layer table of `graph` for an N×N input.
Table Analyze(const Graph& graph, int64_t input, const std::string& net_name = "");

// Named nets. The classic references follow torchvision's layouts, features up to the last
// conv stage: vgg16 (to pool5), alexnet (to the last max pool), resnet18/34/50 (to layer4).
// fcn and fcn_resnet50 are the project's nets (DESIGN §1.2), fcn from `net.*` keys.
std::vector<std::string> NetNames();  // every name BuildNet accepts
Graph BuildNet(const std::string& name, const Config& config);
Graph Vgg16();
Graph AlexNet();
Graph ResNet(int depth);  // 18 | 34 | 50
Graph FcnResNet50();
// `net.arch: fcn`: depth convs of side kernel with 'same' padding; skip none | input | residual.
Graph Fcn(int depth, int kernel, nn::SkipKind skip, int skip_step);
// A layer list (the `theory.layers` key) — items like {conv: {k: 3, s: 1, p: 1, d: 1}},
// {maxpool: {k: 2, s: 2}}, {avgpool: {...}}, {upsample: {factor: 2, mode: bilinear}},
// {residual: [items...]} or {residual: {body: [items...], shortcut: [items...]}}.
// Errors name theory.layers[i] and what is allowed.
Graph FromLayerList(const YAML::Node& list, const Config& config);

// `rfx theory` options.
struct TheoryOptions {
  std::string net;               // a NetNames() entry; empty = from the config (theory.layers if
                                 // non-empty, else net.arch)
  int64_t input = 0;             // --input: side of the N×N input (>= 1)
  std::string format = "table";  // table | json | dot
  void validate() const;         // throws UsageError naming the flag and what is allowed
};

// Output formats.
std::string FormatTable(const Table& table);
nlohmann::json ToJson(const Table& table);  // {net, input, rf, stride, border, warnings, layers}
std::string FormatDot(const Table& table);

// Builds the net, analyses it, formats it.
std::string RunTheory(const TheoryOptions& options, const Config& config);

}  // namespace rfx::theory
