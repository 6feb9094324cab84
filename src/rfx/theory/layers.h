// A layer list (net.layers, theory.layers) as a layer graph.
#pragma once
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/layer_spec.h"
#include "rfx/theory/graph.h"

namespace rfx::theory {

// A layer list (`theory.layers`, `net.layers`; syntax in nn/layer_spec.h) parsed by
// nn::ParseLayerList, as a graph: the same specs nn::LayersNet trains. batchnorm and the
// activations add no node; residual is an add of body and shortcut, concat a concat (shortcut
// first, as the net). Errors are ConfigErrors for `key` naming the item's path (key[i]...),
// with the key's origin; an empty list is one too.
Graph FromLayerList(const YAML::Node& list, const Config& config,
                    const std::string& key = "theory.layers");
// The conversion alone; builder errors become ConfigErrors for `key`.
Graph FromLayerSpecs(const std::vector<nn::LayerSpec>& specs, const std::string& key);

}  // namespace rfx::theory
