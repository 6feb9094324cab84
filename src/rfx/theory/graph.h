// The layer graph of `rfx theory` (docs/design.md#analytic-receptive-fields): nodes in topological
// order with their per-axis geometry (kernel, stride, padding, dilation, ...). Pure description, no
// torch and no arithmetic of fields (analysis.h does that).
#pragma once
#include <string>
#include <vector>

namespace rfx::theory {

// A per-axis pair (height, width). Implicit from one int: Axes k = 3 is 3×3.
struct Axes {
  int h = 1, w = 1;
  constexpr Axes() = default;
  constexpr Axes(int v) : h(v), w(v) {}  // NOLINT: implicit on purpose (square)
  constexpr Axes(int h_, int w_) : h(h_), w(w_) {}
  bool square() const { return h == w; }
  int operator[](int axis) const { return axis == 0 ? h : w; }  // 0 = height, 1 = width
  bool operator==(const Axes& o) const { return h == o.h && w == o.w; }
  bool operator!=(const Axes& o) const { return !(*this == o); }
};
// "3" when square, "3x5" (h×w) otherwise.
std::string AxesText(const Axes& a);

enum class Op {
  kInput,
  kConv,
  kConvTranspose,
  kMaxPool,
  kAvgPool,
  kAdaptiveAvgPool,
  kUpsample,
  kAdd,     // element-wise merge of branches
  kConcat,  // channel concatenation: spatially a merge like kAdd
  kGlobal,  // flatten / linear / global pooling: every unit sees the whole input
};
const char* OpName(Op op);

// One node of a layer graph. Fields not used by an op keep their defaults.
struct Layer {
  std::string name;
  Op op = Op::kConv;
  Axes k = 1;               // kernel (conv, transposed conv, pool)
  Axes s = 1;               // stride
  Axes p = 0;               // zero padding per side
  Axes d = 1;               // dilation
  Axes output_padding = 0;  // transposed conv: extra rows/columns at the end
  Axes size = 1;            // adaptive pool: output size
  bool ceil_mode = false;   // pool: ceil instead of floor in n_out
  double factor = 0;        // upsample: scale factor, both axes (used when size_of < 0)
  int size_of = -1;         // upsample: take the output size of this node (e.g. 0 = the input)
  bool bilinear = false;    // upsample: bilinear reads 2 input units per output (r grows by j_in)
  std::vector<int> inputs;  // indices of earlier nodes (one, or several for kAdd / kConcat)
};

// A layer graph in topological order; node 0 is the input. Each builder returns the new
// node's index; `from` = -1 means the last node added. Builders validate (Push) and throw
// UsageError naming the layer and what is allowed.
class Graph {
 public:
  Graph();
  int Conv(const std::string& name, Axes k, Axes s = 1, Axes p = 0, Axes d = 1, int from = -1);
  int ConvTranspose(const std::string& name, Axes k, Axes s = 1, Axes p = 0,
                    Axes output_padding = 0, Axes d = 1, int from = -1);
  int MaxPool(const std::string& name, Axes k, Axes s, Axes p = 0, bool ceil_mode = false,
              int from = -1);
  int AvgPool(const std::string& name, Axes k, Axes s, Axes p = 0, bool ceil_mode = false,
              int from = -1);
  int AdaptiveAvgPool(const std::string& name, Axes size, int from = -1);
  int Upsample(const std::string& name, double factor, bool bilinear, int from = -1);
  int UpsampleTo(const std::string& name, int size_of, bool bilinear, int from = -1);
  int Add(const std::string& name, const std::vector<int>& inputs);
  int Concat(const std::string& name, const std::vector<int>& inputs);
  int Global(const std::string& name, int from = -1);
  // Appends a node as it is (inputs empty or -1 = the last node). Validates: k, s, d >= 1,
  // p, output_padding >= 0 (output_padding < s or d, as PyTorch), size >= 1, factor > 0,
  // inputs earlier nodes, merges with >= 2 inputs, single-input ops with exactly one.
  int Push(Layer layer);

  int last() const { return static_cast<int>(layers_.size()) - 1; }
  const std::vector<Layer>& layers() const { return layers_; }

 private:
  std::vector<Layer> layers_;
};

}  // namespace rfx::theory
