// train.freeze: the layers of a net whose parameters do not train (no gradient, no optimizer
// state, bit-identical after training).
//
// An entry is a layer index or a name. An index i is Net::layers()[i] (fcn: conv i, 0 … depth−1;
// net.arch layers: the i-th top-level item of net.layers; fcn_resnet50: conv1, bn1, maxpool,
// layer1 … layer4, head, upsample); a layer without parameters (an activation, a pool) cannot be
// frozen. A name is, in this order: a layer's name ("convs.0", "conv1", "layer2"); a module
// path as the net registers it (named_modules(): "layer1.0.conv1", "layers.conv1", "head.0"); a
// parameter name ("convs.0.bias"); or the last part of exactly one module path ("conv4" for
// "layers.residual3.body.conv4").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rfx/nn/net.h"

namespace rfx::nn {

// One entry of train.freeze: an index (>= 0) or, when index < 0, a name.
struct LayerRef {
  int64_t index = -1;
  std::string name;
  std::string text() const { return index >= 0 ? std::to_string(index) : name; }
};

// The names (named_parameters() keys) of the parameters `refs` select, in the net's order.
// Throws ConfigError for `key` naming the entry, what it is not and a few valid choices.
std::vector<std::string> FrozenParameterNames(Net& net, const std::vector<LayerRef>& refs,
                                              const std::string& key = "train.freeze");

// Sets requires_grad false on the parameters `refs` select (FrozenParameterNames). Freezing
// every trainable parameter is a ConfigError for `key`: nothing would train.
void Freeze(Net& net, const std::vector<LayerRef>& refs, const std::string& key = "train.freeze");

// The parameters that train (requires_grad): what the optimizer holds.
std::vector<at::Tensor> TrainableParameters(const torch::nn::Module& net);

}  // namespace rfx::nn
