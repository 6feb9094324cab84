#include "rfx/nn/net.h"

#include <torch/serialize.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "rfx/nn/depth_key.h"
#include "rfx/nn/layers_net.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/run_paths.h"
#include "rfx/util/strings.h"

namespace rfx::nn {

namespace {

// Static bounds that keep sizes from wrapping (whether a net fits in memory is
// train/memory.h's check): depth 4096 is 85× the study's deepest net (48 layers).
constexpr int64_t kMaxDepth = 4096;
constexpr int64_t kMaxWidth = 4096;
constexpr int64_t kMaxKernel = 63;

void CheckRange(const std::string& key, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    throw ConfigError(key, "value " + std::to_string(value) + " is out of range; allowed: " +
                               std::to_string(min) + ".." + std::to_string(max));
  }
}

torch::nn::Conv2d MakeConv(int64_t in, int64_t out, int64_t k, bool bias, int64_t stride = 1,
                           int64_t padding = -1, int64_t dilation = 1) {
  if (padding < 0) padding = k / 2;
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                               .stride(stride)
                               .padding(padding)
                               .dilation(dilation)
                               .bias(bias));
}

}  // namespace

void NetOptions::validate() const {
  CheckRange(kDepthKey, depth, 1, kMaxDepth);
  CheckRange("net.width", width, 1, kMaxWidth);
  CheckRange("net.kernel", kernel, 1, kMaxKernel);
  if (kernel % 2 == 0) {
    throw ConfigError("net.kernel", "value " + std::to_string(kernel) +
                                        " is even; allowed: odd sizes 1.." +
                                        std::to_string(kMaxKernel) + " ('same' padding)");
  }
  CheckRange("net.skip_step", skip_step, 1, kMaxDepth);
  if (activation == Activation::kIdentity) {
    throw ConfigError("net.activation",
                      "value 'identity' is not allowed; allowed: " + ActivationList(false));
  }
  if (arch == NetArch::kLayers && layers.empty()) {
    throw ConfigError("net.layers",
                      "is empty; net.arch layers needs a list of items, e.g. [{conv: {out: 16, "
                      "k: 3, p: same}}, relu, {conv: {k: 3, p: same}}]");
  }
  if (arch == NetArch::kLayers) CheckRange("dataset.image_size", check_size, 1, 65536);
}

NetOptions NetOptions::FromConfig(const Config& config) {
  NetOptions o;
  try {
    o.arch = ParseNetArch(config.GetString("net.arch"));
    // Checked as 64-bit values: one beyond int names the key's range (1..4096), not int's.
    auto get_int = [&](const std::string& key, int64_t min, int64_t max) {
      const int64_t v = config.GetInt(key);
      CheckRange(key, v, min, max);
      return static_cast<int>(v);
    };
    o.depth = get_int(kDepthKey, 1, kMaxDepth);
    o.width = get_int("net.width", 1, kMaxWidth);
    o.kernel = get_int("net.kernel", 1, kMaxKernel);
    o.skip = ParseSkipKind(config.GetString("net.skip"));
    o.skip_step = get_int("net.skip_step", 1, kMaxDepth);
    o.activation = ParseActivation(config.GetString("net.activation"), "net.activation", false);
    if (o.arch == NetArch::kLayers) {
      o.layers = ParseLayerList(config.Get("net.layers"), "net.layers");
      o.check_size = get_int("dataset.image_size", 1, 65536);
      o.layers_origin = config.Where("net.layers");
    }
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

at::Tensor Activate(const at::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return at::relu(x);
    case Activation::kGelu:
      // kCpuGeluNeedsErfForm (net.h): LibTorch 1.13's fused CPU backward is wrong in rfx's
      // training layout.
      if (kCpuGeluNeedsErfForm && x.is_cpu()) return 0.5 * x * (1.0 + at::erf(x * M_SQRT1_2));
      return at::gelu(x);
    case Activation::kElu:
      return at::elu(x);
    case Activation::kSelu:
      return at::selu(x);
    case Activation::kTanh:
      return at::tanh(x);
    case Activation::kIdentity:
      return x;
  }
  return x;
}

std::vector<NetLayer> Net::layers() const { return {{"net", ""}}; }

at::Tensor Net::forward_observed(const at::Tensor& x, const LayerObserver& observe) {
  const at::Tensor out = forward(x);
  if (observe) observe(0, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fcn

FcnImpl::FcnImpl(const NetOptions& options) : options_(options) {
  options_.validate();
  const int n = options_.depth, w = options_.width, k = options_.kernel;
  std::vector<int64_t> chans(n + 1, w);
  chans[0] = 1;
  chans[n] = 2;
  torch::nn::ModuleList convs;
  for (int i = 0; i < n; ++i) {
    conv.push_back(MakeConv(chans[i], chans[i + 1], k, /*bias=*/true));
    convs->push_back(conv.back());
  }
  register_module("convs", convs);
  if (options_.skip == SkipKind::kInput) {
    for (int i = 0; i < n; i += options_.skip_step) skip_at.push_back(i);
    std::vector<int64_t> ins;
    for (int i : skip_at) ins.push_back(chans[i]);
    ins.push_back(2);
    torch::nn::ModuleList skips;
    for (size_t j = 0; j + 1 < ins.size(); ++j) {
      skip.push_back(MakeConv(ins[j], ins[j + 1], 1, /*bias=*/false));
      skips->push_back(skip.back());
      torch::NoGradGuard no_grad;
      skip.back()->weight.fill_(SkipStartWeight(ins[j]));
    }
    register_module("skips", skips);
  }
}

at::Tensor FcnImpl::forward(const at::Tensor& x) { return Run(x, nullptr, true); }

at::Tensor FcnImpl::forward_linear(const at::Tensor& x) { return Run(x, nullptr, false); }

at::Tensor FcnImpl::forward_observed(const at::Tensor& x, const LayerObserver& observe) {
  return Run(x, observe, true);
}

std::vector<NetLayer> FcnImpl::layers() const {
  std::vector<NetLayer> out;
  for (int i = 0; i < options_.depth; ++i) {
    const std::string name = "convs." + std::to_string(i);
    out.push_back({name, name});
  }
  return out;
}

at::Tensor FcnImpl::Run(const at::Tensor& input,
                        const std::function<void(int, const at::Tensor&)>& observe,
                        bool activations) {
  const int n = options_.depth;
  // ReLU in place on a fresh conv/add output (autograd-safe: neither needs its output back);
  // saves a full-size allocation and pass per layer.
  const bool relu = options_.activation == Activation::kRelu;
  auto activate = [&](at::Tensor t) {
    if (!activations) return t;
    return relu ? t.relu_() : Activate(t, options_.activation);
  };
  at::Tensor h = input;
  if (options_.skip == SkipKind::kInput) {
    // The skip chain is 1×1 convs of the 1-channel input, so each skip map is the input times
    // a vector: s_j = x ⊗ v_j with v_j = W_j ⋯ W_1. Computing the vectors (tiny matrix-vector
    // products) and adding x·v_j with one fused multiply-add replaces every full-size 1×1 conv
    // and skip map of the chain, forward and backward; same parameters, same gradients.
    at::Tensor v;
    size_t j = 0;  // next skip conv
    for (int i = 0; i < n; ++i) {
      const bool at_skip = j < skip.size() && skip_at[j] == i;
      h = conv[i]->forward(at_skip && i > 0 ? at::addcmul(h, input, v.view({1, -1, 1, 1})) : h);
      if (at_skip) {
        const at::Tensor& w = skip[j++]->weight;
        const at::Tensor m = w.reshape({w.size(0), w.size(1)});
        v = v.defined() ? at::mv(m, v) : m.select(1, 0);
      }
      h = i == n - 1 ? at::addcmul(h, input, v.view({1, -1, 1, 1})) : activate(h);
      if (observe) observe(i, h);
    }
    return h;
  }
  if (options_.skip == SkipKind::kResidual) {
    const int step = options_.skip_step;
    at::Tensor block_in;
    for (int i = 0; i < n; ++i) {
      if (i == 0 || i == n - 1) {
        h = conv[i]->forward(h);
        if (i != n - 1) h = activate(h);
      } else {
        const int pos = (i - 1) % step;
        if (pos == 0) block_in = h;
        h = conv[i]->forward(h);
        if (pos == step - 1 || i == n - 2) h = h + block_in;
        h = activate(h);
      }
      if (observe) observe(i, h);
    }
    return h;
  }
  for (int i = 0; i < n; ++i) {
    h = conv[i]->forward(h);
    if (i != n - 1) h = activate(h);
    if (observe) observe(i, h);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// FCN-ResNet50

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                               bool with_downsample) {
  conv1 = register_module("conv1", MakeConv(inplanes, planes, 1, false, 1, 0));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", MakeConv(planes, planes, 3, false, stride, dilation, dilation));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3 = register_module("conv3", MakeConv(planes, planes * 4, 1, false, 1, 0));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * 4));
  if (with_downsample) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(MakeConv(inplanes, planes * 4, 1, false, stride, 0),
                                            torch::nn::BatchNorm2d(planes * 4)));
  }
}

at::Tensor BottleneckImpl::forward(const at::Tensor& x) {
  at::Tensor out = at::relu(bn1->forward(conv1->forward(x)));
  out = at::relu(bn2->forward(conv2->forward(out)));
  out = bn3->forward(conv3->forward(out));
  const at::Tensor identity = downsample ? downsample->forward(x) : x;
  return at::relu(out + identity);
}

namespace {

// torchvision's ResNet._make_layer with replace_stride_with_dilation.
torch::nn::Sequential MakeLayer(int64_t* inplanes, int64_t* dilation, int64_t planes, int blocks,
                                int64_t stride, bool dilate) {
  const int64_t previous_dilation = *dilation;
  if (dilate) {
    *dilation *= stride;
    stride = 1;
  }
  torch::nn::Sequential layer;
  const bool down = stride != 1 || *inplanes != planes * 4;
  layer->push_back(Bottleneck(*inplanes, planes, stride, previous_dilation, down));
  *inplanes = planes * 4;
  for (int b = 1; b < blocks; ++b) {
    layer->push_back(Bottleneck(*inplanes, planes, 1, *dilation, false));
  }
  return layer;
}

}  // namespace

FcnResNet50Impl::FcnResNet50Impl(const NetOptions& options) : options_(options) {
  options_.arch = NetArch::kFcnResNet50;
  conv1 = register_module("conv1", MakeConv(1, 64, 7, false, 2, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  int64_t inplanes = 64, dilation = 1;
  layer1 = register_module("layer1", MakeLayer(&inplanes, &dilation, 64, 3, 1, false));
  layer2 = register_module("layer2", MakeLayer(&inplanes, &dilation, 128, 4, 2, false));
  layer3 = register_module("layer3", MakeLayer(&inplanes, &dilation, 256, 6, 2, true));
  layer4 = register_module("layer4", MakeLayer(&inplanes, &dilation, 512, 3, 2, true));
  head = register_module(
      "head", torch::nn::Sequential(MakeConv(2048, 512, 3, false, 1, 1),
                                    torch::nn::BatchNorm2d(512), torch::nn::ReLU(),
                                    torch::nn::Dropout(0.1), MakeConv(512, 2, 1, true, 1, 0)));
}

at::Tensor FcnResNet50Impl::forward(const at::Tensor& x) { return forward_observed(x, nullptr); }

std::vector<NetLayer> FcnResNet50Impl::layers() const {
  return {{"conv1", "conv1"},   {"bn1", "bn1"},       {"maxpool", ""},
          {"layer1", "layer1"}, {"layer2", "layer2"}, {"layer3", "layer3"},
          {"layer4", "layer4"}, {"head", "head"},     {"upsample", ""}};
}

at::Tensor FcnResNet50Impl::forward_observed(const at::Tensor& x, const LayerObserver& observe) {
  int i = 0;
  auto seen = [&](at::Tensor h) {
    if (observe) observe(i, h);
    ++i;
    return h;
  };
  at::Tensor h = seen(conv1->forward(x));
  h = seen(at::relu(bn1->forward(h)));
  h = seen(at::max_pool2d(h, {3, 3}, {2, 2}, {1, 1}));
  for (auto* layer : {&layer1, &layer2, &layer3, &layer4}) h = seen((*layer)->forward(h));
  h = seen(head->forward(h));
  namespace F = torch::nn::functional;
  return seen(F::interpolate(h, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                    .mode(torch::kBilinear)
                                    .align_corners(false)));
}

// ---------------------------------------------------------------------------------------------

NetPtr BuildNet(const NetOptions& options) {
  options.validate();
  if (options.arch == NetArch::kFcnResNet50) return std::make_shared<FcnResNet50Impl>(options);
  if (options.arch == NetArch::kLayers) return std::make_shared<LayersNetImpl>(options);
  return std::make_shared<FcnImpl>(options);
}

int64_t CountParameters(const torch::nn::Module& net) {
  int64_t n = 0;
  for (const auto& p : net.parameters()) {
    if (p.requires_grad()) n += p.numel();
  }
  return n;
}

void SaveNet(const Net& net, const std::string& path) {
  torch::serialize::OutputArchive archive;
  net.save(archive);
  // Serialised in memory and written atomically by the files layer: a crash leaves the old file
  // or the new one, and a full disk is a typed error naming the path (LibTorch's own file
  // writer throws from a destructor on a failed write, which aborts the process).
  std::ostringstream bytes;
  archive.save_to(bytes);
  WriteFileAtomic(path, bytes.str());
}

void LoadNet(Net& net, const std::string& path, c10::Device device) {
  if (!FileExists(path)) throw std::runtime_error("no model file " + path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
    net.load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot load " + path + " into a net of arch " +
                             NetArchText(net.options().arch) + ": " + e.what_without_backtrace());
  }
  net.to(device);
  // A trainer may have saved channels-last parameters: hand out plain contiguous ones.
  for (auto& p : net.parameters()) {
    if (!p.is_contiguous()) p.set_data(p.contiguous());
  }
}

LoadedRun LoadRun(const std::string& dir, c10::Device device) {
  const RunPaths paths(dir);
  const std::string& config_path = paths.config;
  if (!FileExists(config_path)) {
    throw UsageError("'" + dir + "' is not a run directory: " + config_path + " is missing");
  }
  LoadedRun run{Config::Load(config_path), nullptr};
  run.net = BuildNet(NetOptions::FromConfig(run.config));
  LoadNet(*run.net, paths.model, device);
  run.net->eval();
  return run;
}

}  // namespace rfx::nn
