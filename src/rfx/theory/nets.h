// The named nets as layer graphs (docs/design.md#analytic-receptive-fields).
#pragma once
#include <array>
#include <string>

#include "rfx/config/config.h"
#include "rfx/nn/arch.h"
#include "rfx/nn/skip.h"
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

}  // namespace rfx::theory
