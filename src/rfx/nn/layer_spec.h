// The layer list (`net.layers` for net.arch layers, `theory.layers` for rfx theory): one parser
// for both, so the trainable net (nn::LayersNet) and the analytic graph (theory::FromLayerSpecs)
// are built from the same typed specs and cannot disagree. Torch-free.
//
// Each item of the list is a one-key mapping {KIND: {fields}} (fields optional where every one
// has a default) or, for the field-less kinds, the bare word:
//   conv             {out, k, s: 1, p: 0 | same, d: 1, groups: 1, bias: true}
//   conv_transpose   {out, k, s: 1, p: 0, output_padding: 0, d: 1, bias: true}
//   maxpool | pool   {k, s: k, p: 0, d: 1, ceil: false}      (p at most k/2, as torch's)
//   avgpool          {k, s: k, p: 0, ceil: false}            (zero padding counted, as torch's)
//   adaptive_avgpool {size}
//   upsample         {factor: 2 | to: input, mode: nearest | bilinear}  (align_corners false)
//   batchnorm        (or `batchnorm` bare)
//   activation       relu | gelu | elu | selu | tanh | identity  ({activation: relu} or `relu`)
//   residual         [items] or {body: [items], shortcut: [items]}: body(x) + shortcut(x)
//                    (no shortcut: the identity)
//   concat           [items] or {body, shortcut}: channels of shortcut(x) then body(x) (U-Net
//                    skips; no shortcut: x itself)
// Every kind but the activations also takes `name` (letters, digits, _ and -; unique in the
// list). Default names are the kind and a running number over the whole list, in order
// (conv1, maxpool2, residual3, conv4, ...). k, s, p, d, output_padding and size are an int or
// [h, w]. `p: same` is d(k−1)/2 per axis: only with stride 1 and an odd effective kernel
// d(k−1)+1. `out` (output channels) is needed by the net only (theory ignores it): see
// layers_net.h.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "rfx/nn/activation.h"

namespace rfx::nn {

enum class LayerKind {
  kConv,
  kConvTranspose,
  kMaxPool,
  kAvgPool,
  kAdaptiveAvgPool,
  kUpsample,
  kBatchNorm,
  kActivation,
  kResidual,
  kConcat,
};
// The item's key in the list ("conv", "conv_transpose", ...).
const char* LayerKindText(LayerKind kind);

enum class UpsampleMode { kNearest, kBilinear };
const char* UpsampleModeText(UpsampleMode mode);

// A size per axis: height (rows) and width (columns).
struct HW {
  int h = 1, w = 1;
  HW() = default;
  HW(int v) : h(v), w(v) {}  // NOLINT: implicit, an int means both axes
  HW(int h_, int w_) : h(h_), w(w_) {}
  bool square() const { return h == w; }
  bool operator==(const HW& o) const { return h == o.h && w == o.w; }
  bool operator!=(const HW& o) const { return !(*this == o); }
};

// One parsed item. Fields not used by a kind keep their defaults.
struct LayerSpec {
  LayerKind kind = LayerKind::kConv;
  std::string name;  // given or default ("conv1"): module names in the net, rows in theory
  std::string path;  // where it came from, for errors: "net.layers[2].residual.body[0]"
  // conv, conv_transpose
  int out = 0;  // output channels; 0 = not given
  HW k = 1, s = 1, p = 0, d = 1;
  HW output_padding = 0;  // conv_transpose
  int groups = 1;         // conv
  bool bias = true;       // conv, conv_transpose
  // pools
  bool ceil = false;
  // adaptive_avgpool
  HW size = 1;
  // upsample
  double factor = 2;      // used unless to_input
  bool to_input = false;  // `to: input`: the net input's size
  UpsampleMode mode = UpsampleMode::kNearest;
  // activation
  Activation activation = Activation::kRelu;
  // residual, concat: the two branches from the same input (shortcut empty = the input)
  std::vector<LayerSpec> body, shortcut;
};

// Parses a layer list. `key` is the config key it came from ("net.layers", "theory.layers");
// every error is a ConfigError for `key` whose text names the item's path ("net.layers[2].conv.
// s"), the value and what is allowed. An empty list is allowed here (callers decide).
std::vector<LayerSpec> ParseLayerList(const YAML::Node& list, const std::string& key);

// The conv and conv_transpose items of the list, nested ones included (a net's "depth").
int CountConvs(const std::vector<LayerSpec>& specs);

}  // namespace rfx::nn
