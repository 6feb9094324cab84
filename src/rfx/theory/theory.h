// Analytic receptive fields (docs/design.md#analytic-receptive-fields): the layer graph (graph.h),
// its per-layer, per-axis table (analysis.h), the named nets and the layer list, and the `rfx
// theory` outputs. Pure arithmetic: no torch here.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/arch.h"
#include "rfx/nn/layer_spec.h"
#include "rfx/nn/skip.h"
#include "rfx/theory/analysis.h"
#include "rfx/theory/graph.h"

namespace rfx::theory {

// Named nets. The classic references follow torchvision's layouts, features up to the last
// conv stage: vgg16 (to pool5), alexnet (to the last max pool), resnet18/34/50 (to layer4).
// fcn and fcn_resnet50 are the project's nets (docs/design.md#nets), fcn from `net.*` keys; layers
// is net.arch layers (the net.layers list).
enum class NamedNet {
  kFcn,
  kFcnResNet50,
  kLayers,
  kVgg16,
  kAlexNet,
  kResNet18,
  kResNet34,
  kResNet50
};
inline constexpr std::array<NamedNet, 8> kNamedNets = {
    NamedNet::kFcn,     NamedNet::kFcnResNet50, NamedNet::kLayers,   NamedNet::kVgg16,
    NamedNet::kAlexNet, NamedNet::kResNet18,    NamedNet::kResNet34, NamedNet::kResNet50};
// "fcn", "fcn_resnet50", "layers", "vgg16", "alexnet", "resnet18", "resnet34", "resnet50".
const char* NamedNetText(NamedNet net);
// The net named `text` (`--net`); a UsageError naming --net and what is allowed otherwise.
NamedNet ParseNamedNet(const std::string& text);
// The named net of a trainable net.arch (the three project nets).
NamedNet NamedNetOf(nn::NetArch arch);
// The named net of the config's net.arch (a ConfigError with its origin for a bad one).
NamedNet NamedNetOfConfig(const Config& config);
// The layer graph of `net`; fcn reads net.depth/kernel/skip/skip_step, layers net.layers.
Graph BuildNet(NamedNet net, const Config& config);
Graph Vgg16();
Graph AlexNet();
Graph ResNet(int depth);  // 18 | 34 | 50
Graph FcnResNet50();
// `net.arch: fcn`: depth convs of side kernel with 'same' padding; skip none | input | residual.
Graph Fcn(int depth, int kernel, nn::SkipKind skip, int skip_step);
// A layer list (`theory.layers`, `net.layers`; syntax in nn/layer_spec.h) parsed by
// nn::ParseLayerList, as a graph: the same specs nn::LayersNet trains. batchnorm and the
// activations add no node; residual is an add of body and shortcut, concat a concat (shortcut
// first, as the net). Errors are ConfigErrors for `key` naming the item's path (key[i]...),
// with the key's origin; an empty list is one too.
Graph FromLayerList(const YAML::Node& list, const Config& config,
                    const std::string& key = "theory.layers");
// The conversion alone; builder errors become ConfigErrors for `key`.
Graph FromLayerSpecs(const std::vector<nn::LayerSpec>& specs, const std::string& key);

// `rfx theory --format`: the output's form, its text in one place.
enum class TheoryFormat { kTable, kJson, kDot };
const char* TheoryFormatText(TheoryFormat format);
// The format named `text`; UsageError naming --format and what is allowed otherwise.
TheoryFormat ParseTheoryFormat(const std::string& text);

// `rfx theory` options.
struct TheoryOptions {
  std::optional<NamedNet> net;  // --net; unset = from the config (theory.layers if non-empty,
                                // else net.arch)
  std::string model;            // --model: a TorchScript file (exclusive with net and a config)
  Axes input = 0;               // --input: N (N×N) or H×W, each side >= 1
  TheoryFormat format = TheoryFormat::kTable;  // --format table | json | dot
  bool resolution_range = false;  // --resolution-range: also the usable square input sides
  void validate() const;          // throws UsageError naming the flag and what is allowed
};

// Output formats. `range` (may be null) adds the resolution range.
std::string FormatTable(const Table& table, const ResolutionRange* range = nullptr);
// {net, input, rf, stride, output, border, warnings, layers[{name, op, params, inputs, n, r,
// r_min, j, start, unproductive, sees_everything, note}]} (+ resolution_range {min, max}).
// Per-axis values are one number when both axes agree, [h, w] when not.
nlohmann::json ToJson(const Table& table, const ResolutionRange* range = nullptr);
std::string FormatDot(const Table& table, const ResolutionRange* range = nullptr);

// Builds the net, analyses it, formats it.
std::string RunTheory(const TheoryOptions& options, const Config& config);

}  // namespace rfx::theory
