// The named nets of `rfx theory` (the layer lists: layers.cpp).
#include "rfx/theory/nets.h"

#include <algorithm>
#include <set>

#include "rfx/nn/depth_key.h"
#include "rfx/nn/skip.h"
#include "rfx/theory/layers.h"
#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"

namespace rfx::theory {

const char* NamedNetText(NamedNet net) {
  switch (net) {
    case NamedNet::kFcn:
      return "fcn";
    case NamedNet::kFcnResNet50:
      return "fcn_resnet50";
    case NamedNet::kLayers:
      return "layers";
    case NamedNet::kVgg16:
      return "vgg16";
    case NamedNet::kAlexNet:
      return "alexnet";
    case NamedNet::kResNet18:
      return "resnet18";
    case NamedNet::kResNet34:
      return "resnet34";
    case NamedNet::kResNet50:
      return "resnet50";
  }
  return "fcn";
}

NamedNet ParseNamedNet(const std::string& text) {
  if (auto net = FindByText(kNamedNets, NamedNetText, text)) return *net;
  throw UsageError("--net '" + text +
                   "' is not known; allowed: " + TextList(kNamedNets, NamedNetText));
}

NamedNet NamedNetOf(nn::NetArch arch) {
  switch (arch) {
    case nn::NetArch::kFcn:
      return NamedNet::kFcn;
    case nn::NetArch::kFcnResNet50:
      return NamedNet::kFcnResNet50;
    case nn::NetArch::kLayers:
      return NamedNet::kLayers;
  }
  return NamedNet::kFcn;
}

Graph Vgg16() {
  // torchvision vgg16 "D": 3×3 convs (padding 1), 2×2/2 max pools; features to pool5.
  const int convs[5] = {2, 2, 3, 3, 3};
  Graph g;
  for (int b = 0; b < 5; ++b) {
    for (int c = 0; c < convs[b]; ++c) {
      g.Conv("conv" + std::to_string(b + 1) + "_" + std::to_string(c + 1), 3, 1, 1);
    }
    g.MaxPool("pool" + std::to_string(b + 1), 2, 2);
  }
  return g;
}

Graph AlexNet() {
  // torchvision alexnet.features: conv 11/4 p2, pool 3/2, conv 5 p2, pool 3/2, 3× conv 3 p1,
  // pool 3/2.
  Graph g;
  g.Conv("conv1", 11, 4, 2);
  g.MaxPool("pool1", 3, 2);
  g.Conv("conv2", 5, 1, 2);
  g.MaxPool("pool2", 3, 2);
  g.Conv("conv3", 3, 1, 1);
  g.Conv("conv4", 3, 1, 1);
  g.Conv("conv5", 3, 1, 1);
  g.MaxPool("pool5", 3, 2);
  return g;
}

namespace {

// torchvision's ResNet body (conv1 … layer4). `dilate[i]` replaces the stride of layer i+2
// by dilation (replace_stride_with_dilation).
void ResNetBody(Graph& g, bool bottleneck, const int blocks[4], const bool dilate[3]) {
  g.Conv("conv1", 7, 2, 3);
  g.MaxPool("maxpool", 3, 2, 1);
  const int expansion = bottleneck ? 4 : 1;
  int inplanes = 64, dilation = 1;
  for (int stage = 0; stage < 4; ++stage) {
    const int planes = 64 << stage;
    int stride = stage == 0 ? 1 : 2;
    const int previous_dilation = dilation;
    if (stage > 0 && dilate[stage - 1]) {
      dilation *= stride;
      stride = 1;
    }
    for (int b = 0; b < blocks[stage]; ++b) {
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      const int s = b == 0 ? stride : 1;
      const int d = b == 0 ? previous_dilation : dilation;
      const int x = g.last();
      if (bottleneck) {
        g.Conv(p + "conv1", 1);
        g.Conv(p + "conv2", 3, s, d, d);
        g.Conv(p + "conv3", 1);
      } else {
        g.Conv(p + "conv1", 3, s, 1);
        g.Conv(p + "conv2", 3, 1, 1);
      }
      const int main = g.last();
      int shortcut = x;
      if (b == 0 && (s != 1 || inplanes != planes * expansion)) {
        shortcut = g.Conv(p + "downsample", 1, s, 0, 1, x);
      }
      g.Add(p + "add", {main, shortcut});
    }
    inplanes = planes * expansion;
  }
}

}  // namespace

Graph ResNet(int depth) {
  const int basic18[4] = {2, 2, 2, 2}, basic34[4] = {3, 4, 6, 3}, bottle50[4] = {3, 4, 6, 3};
  const bool none[3] = {false, false, false};
  Graph g;
  switch (depth) {
    case 18:
      ResNetBody(g, false, basic18, none);
      break;
    case 34:
      ResNetBody(g, false, basic34, none);
      break;
    case 50:
      ResNetBody(g, true, bottle50, none);
      break;
    default:
      throw UsageError("ResNet depth " + std::to_string(depth) +
                       " is not known; allowed: 18, 34, 50");
  }
  return g;
}

Graph FcnResNet50() {
  // torchvision fcn_resnet50: ResNet-50 with layer3/4 dilated, FCN head (3×3 p1, 1×1), then
  // bilinear upsampling to the input size.
  const int blocks[4] = {3, 4, 6, 3};
  const bool dilate[3] = {false, true, true};
  Graph g;
  ResNetBody(g, true, blocks, dilate);
  g.Conv("head.0", 3, 1, 1);
  g.Conv("head.4", 1);
  g.UpsampleTo("upsample", 0, true);
  return g;
}

Graph Fcn(int depth, int kernel, nn::SkipKind kind, int skip_step) {
  if (depth < 1) throw UsageError("fcn depth must be >= 1, got " + std::to_string(depth));
  if (kernel < 1 || kernel % 2 == 0) {
    throw UsageError("fcn kernel must be odd and >= 1, got " + std::to_string(kernel));
  }
  if (skip_step < 1) throw UsageError("fcn skip_step must be >= 1");
  Graph g;
  const int pad = kernel / 2;
  auto name = [](int i) { return "conv" + std::to_string(i); };
  if (kind == nn::SkipKind::kInput) {
    // Mirrors nn::Fcn: skip points i % skip_step == 0; at i > 0 the layer reads h + s; after
    // layer i at a skip point s = skip_j(s) (1×1); the output is conv_last(...) + s.
    int h = 0, s = 0, j = 0;
    for (int i = 0; i < depth; ++i) {
      const bool at = i % skip_step == 0;
      if (at && i > 0) h = g.Add("add" + std::to_string(i), {h, s});
      h = g.Conv(name(i), kernel, 1, pad, 1, h);
      if (at) s = g.Conv("skip" + std::to_string(j++), 1, 1, 0, 1, s);
    }
    g.Add("output", {h, s});
    return g;
  }
  if (kind == nn::SkipKind::kResidual) {
    // Mirrors nn::Fcn: layers 1 … depth−2 in blocks of skip_step with an identity shortcut.
    g.Conv(name(0), kernel, 1, pad);
    int block_in = g.last(), in_block = 0;
    for (int i = 1; i < depth - 1; ++i) {
      g.Conv(name(i), kernel, 1, pad);
      if (++in_block == skip_step || i == depth - 2) {
        g.Add("add" + std::to_string(i), {g.last(), block_in});
        block_in = g.last();
        in_block = 0;
      }
    }
    if (depth > 1) g.Conv(name(depth - 1), kernel, 1, pad);
    return g;
  }
  for (int i = 0; i < depth; ++i) g.Conv(name(i), kernel, 1, pad);
  return g;
}

NamedNet NamedNetOfConfig(const Config& config) {
  try {
    return NamedNetOf(nn::ParseNetArch(config.GetString("net.arch")));
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
}

Graph BuildNet(NamedNet net, const Config& config) {
  switch (net) {
    case NamedNet::kVgg16:
      return Vgg16();
    case NamedNet::kAlexNet:
      return AlexNet();
    case NamedNet::kResNet18:
      return ResNet(18);
    case NamedNet::kResNet34:
      return ResNet(34);
    case NamedNet::kResNet50:
      return ResNet(50);
    case NamedNet::kFcnResNet50:
      return FcnResNet50();
    case NamedNet::kLayers:
      return FromLayerList(config.Get("net.layers"), config, "net.layers");
    case NamedNet::kFcn:
      break;
  }
  const int64_t depth = config.GetInt(nn::kDepthKey), kernel = config.GetInt("net.kernel");
  const int64_t step = config.GetInt("net.skip_step");
  if (depth < 1 || depth > 100000) config.Fail(nn::kDepthKey, "must be in 1 … 100000");
  if (kernel < 1 || kernel % 2 == 0) config.Fail("net.kernel", "must be odd and >= 1");
  if (step < 1) config.Fail("net.skip_step", "must be >= 1");
  nn::SkipKind skip = nn::SkipKind::kNone;
  try {
    skip = nn::ParseSkipKind(config.GetString("net.skip"));
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return Fcn(static_cast<int>(depth), static_cast<int>(kernel), skip, static_cast<int>(step));
}

}  // namespace rfx::theory
