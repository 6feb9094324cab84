// net.arch layers: a trainable net built from the `net.layers` list (layer_spec.h), the same
// specs `rfx theory` turns into its graph.
//
// Channels are tracked from 1 at the input. conv and conv_transpose need `out`, except the last
// of them in the list (as written, nested items included), whose `out` defaults to 2: the е/ё
// task's two maps. batchnorm keeps the channels; residual needs body and shortcut to give the
// same channels; concat gives shortcut + body channels (shortcut first, as U-Nets cat the skip
// before the upsampled map). Modules are named after the items (conv1.weight,
// residual3.body.conv4.weight, ...), so model.pt names what the list names.
//
// At build time the net runs once on a [1, 1, S, S] zero input (S = NetOptions::check_size,
// dataset.image_size from a config): a list that fails on it or does not return [1, 2, S, S]
// (the е/ё task's shape) is a ConfigError naming net.layers and the shapes.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rfx/nn/layer_spec.h"
#include "rfx/nn/net.h"

namespace rfx::nn {

// One list of items (the whole net, or a residual/concat branch).
class LayerStackImpl : public torch::nn::Module {
 public:
  // Builds the modules of `specs` for `*channels` input channels and sets `*channels` to the
  // output's. `last_conv` is the item whose `out` defaults to 2; `key` names the list in errors.
  LayerStackImpl(const std::vector<LayerSpec>& specs, int64_t* channels, const LayerSpec* last_conv,
                 const std::string& key);
  // `input_hw`: the net input's height and width (for `upsample: {to: input}`). `observe`
  // (may be empty) is called with the output of every item i of this list.
  at::Tensor forward(const at::Tensor& x, const std::vector<int64_t>& input_hw,
                     const LayerObserver& observe = nullptr);
  // One NetLayer per item of this list; modules are prefixed with `prefix` ("layers.").
  std::vector<NetLayer> layers(const std::string& prefix) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    LayerSpec spec;  // without its branches (they live in body/shortcut)
    torch::nn::Conv2d conv{nullptr};
    torch::nn::ConvTranspose2d conv_transpose{nullptr};
    torch::nn::BatchNorm2d batchnorm{nullptr};
    std::shared_ptr<LayerStackImpl> body, shortcut;  // residual, concat
  };
  std::vector<Step> steps_;
};

class LayersNetImpl : public Net {
 public:
  explicit LayersNetImpl(const NetOptions& options);
  at::Tensor forward(const at::Tensor& x) override;
  // One layer per top-level item of net.layers, named as the item (conv1, relu2, ...).
  std::vector<NetLayer> layers() const override;
  at::Tensor forward_observed(const at::Tensor& x, const LayerObserver& observe) override;
  const NetOptions& options() const override { return options_; }

 private:
  void Build();  // the modules and the shape check
  NetOptions options_;
  std::shared_ptr<LayerStackImpl> stack_;
};
TORCH_MODULE(LayersNet);

// What train/memory.cpp needs of a layer net without building it: trainable parameter values,
// and the float elements per sample of every item's output plus the input (each one is kept
// for backward, an upper bound: in-place activations and pools share less), for an h×w input.
struct LayersFootprint {
  double parameters = 0;
  double elements = 0;
  double largest = 0;  // the largest single map (elements per sample)
};
LayersFootprint EstimateLayers(const std::vector<LayerSpec>& specs, int64_t h, int64_t w);

}  // namespace rfx::nn
