// A TorchScript module as a probe target (`rfx probe forward|gradient --model F.pt`): the
// model itself runs (CPU or CUDA, float32 or float64), on an input of --input-shape C,H,W, and
// the probes read one output channel at the output's centre — of the model's output, or of the
// output of a named submodule (--node NAME, e.g. "layer3": the last op run inside it).
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/probe/probe.h"
#include "rfx/theory/analysis.h"

namespace rfx::probe {

struct ModelOptions {
  std::string path;                  // --model: a TorchScript file
  std::vector<int64_t> input_shape;  // --input-shape C,H,W (empty: 1 × size × size)
  std::string node;                  // --node: a submodule path whose output is read
};

// "C,H,W" with every side in 1 … 16384 (C up to 4096); UsageError naming --input-shape.
std::vector<int64_t> ParseInputShape(const std::string& text);

class ModelTarget {
 public:
  // Loads options.path (UsageError naming --model when it cannot) onto `device` in `dtype`,
  // eval mode; with options.node, cuts the forward graph at that module's last op (UsageError
  // naming --node and the module paths there are when there is none).
  ModelTarget(const ModelOptions& options, c10::Device device, at::ScalarType dtype);
  // The output (or the node's) for a batch B×C×H×W (a tensor, or a tuple / list's first).
  // A model that fails on x: UsageError naming --input-shape and the model's own message.
  at::Tensor Forward(const at::Tensor& x);
  const std::string& description() const { return description_; }

 private:
  torch::jit::Module module_;
  std::shared_ptr<torch::jit::Function> node_fn_;  // null: the module's own forward
  std::string path_;
  std::string description_;  // "model F.pt" / "model F.pt, node layer3"
};

// The module paths of the children of the model at `path` (a TorchScript file; "" = the model
// itself), in registration order: e.g. conv1, bn1, relu, maxpool, layer1 … fc for resnet18.
// UsageError naming --model when the file cannot be loaded.
std::vector<std::string> ModelChildren(const std::string& file, const std::string& path = "");

// The analytic table of the model's graph (`rfx theory --model`) on an h×w input.
theory::Table ModelTable(const ModelOptions& model, int h, int w);
// The index of the last row inside module `node` ("" = the last row), -1 when there is none.
int RowIndexOf(const theory::Table& table, const std::string& node);
// The row the probes read: the output (last row), or the last row inside model.node (UsageError
// naming --node when the analytic graph has none).
const theory::Row& ReadRow(const theory::Table& table, const ModelOptions& model);
// The placement of output pixel `at` of the read row on an h×w input (PlaceAt).
Placement PlaceInModel(const ModelOptions& model, const Position& at, int h, int w);

// The forward-pass estimate of the model: impulse 1.0 at the input's centre in every input
// channel, output channel options.channel, its centre row from the centre out, |v|/max. One
// profile (depth 0). With options.position the impulse goes in at that unit's input pixel
// (PlaceInModel: the analytic graph must cover the model) and the profile is read there. --depths,
// --linear, --fresh do not apply (UsageError).
ForwardResult RunModelForward(const Config& config, const ForwardOptions& options,
                              const ModelOptions& model);

// The gradient ERF of the model: Σ over noise inputs (uniform [0,1), C×H×W) of agg(∂ out[c,
// H'/2, W'/2] / ∂ input) (or at options.position), summed over the input channels, then the
// usual measures (centred on the position's input pixel).
// --input task and --checkpoint do not apply (UsageError).
GradientResult RunModelGradient(const Config& config, const GradientOptions& options,
                                const ModelOptions& model);

}  // namespace rfx::probe
