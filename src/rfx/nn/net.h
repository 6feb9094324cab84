// The nets of the study (docs/design.md#nets): a plain fully convolutional stack (`fcn`, optional
// input-projection or residual skips), torchvision's FCN-ResNet50 layout (`fcn_resnet50`) and
// a user's layer list (`layers`, layers_net.h). Every net maps a float image [B, 1, H, W] to a
// 2-channel map [B, 2, H, W] (channel 0 "е", channel 1 "ё"). Build one with BuildNet(), initialise
// it with InitNet() (init.h), save and load it with SaveNet()/LoadNet()/LoadRun().
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <torch/nn.h>
#include <torch/version.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/activation.h"
#include "rfx/nn/arch.h"
#include "rfx/nn/layer_spec.h"
#include "rfx/nn/skip.h"

namespace rfx::nn {

// `net.*` keys. Defaults are the paper's net.
struct NetOptions {
  NetArch arch = NetArch::kFcn;      // net.arch: fcn | fcn_resnet50 | layers (NetArchText)
  int depth = 16;                    // net.depth: conv layers of the fcn (>= 1)
  int width = 16;                    // net.width: channels of the fcn's hidden layers (>= 1)
  int kernel = 3;                    // net.kernel: kernel side of the fcn (odd, >= 1)
  SkipKind skip = SkipKind::kInput;  // net.skip: none | input | residual (SkipKindText)
  int skip_step = 4;                 // net.skip_step: layers between skips (>= 1)
  Activation activation = Activation::kRelu;  // net.activation: relu | gelu | elu | selu | tanh
  std::vector<LayerSpec> layers;  // net.layers: the list of net.arch layers (layers_net.h)
  // net.arch layers: the side of the square input of the build-time shape check
  // (dataset.image_size when read from a config).
  int check_size = 32;
  std::string layers_origin;  // where net.layers came from ("exp.yaml line 7"), for errors

  // Throws ConfigError naming the key, the value and what is allowed.
  void validate() const;
  // Reads `net.*` and validates (errors carry the key's file line).
  static NetOptions FromConfig(const Config& config);
};

// Applies an activation (the identity returns x).
at::Tensor Activate(const at::Tensor& x, Activation activation);

// LibTorch 1.13's fused CPU gelu backward reads a channels-last gradient against a contiguous
// input as if both had the input's layout: in rfx's training layout (channels-last weights) its
// weight gradients were off by up to 5e2 (measured 2026-11-30). LibTorch 2.x computes it right.
// Where true, Activate uses the erf form x·Φ(x) on the CPU, the same function, which autograd
// gets right (net_test checks both: the bug where this is true, its absence where false).
constexpr bool kCpuGeluNeedsErfForm = TORCH_VERSION_MAJOR < 2;

// One top-level layer of a net, in forward order: what train.freeze's indices count and the rows
// of `rfx profile`.
struct NetLayer {
  std::string name;    // the row name ("convs.3", "conv1", "layer2", "maxpool")
  std::string module;  // the module holding its parameters (a named_modules() key; "" = none)
};

// Called with the output of every top-level layer i (NetLayer i), in order.
using LayerObserver = std::function<void(int, const at::Tensor&)>;

// The common interface of every net: forward() on [B, 1, H, W] float → [B, 2, H, W].
// A torch::nn::Module, so parameters(), train()/eval(), to(device), save/load all work.
class Net : public torch::nn::Module {
 public:
  ~Net() override = default;
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  virtual const NetOptions& options() const = 0;
  // The top-level layers, in forward order. By default the whole net is one layer "net" (its
  // parameters belong to no layer); rfx's nets override both.
  virtual std::vector<NetLayer> layers() const;
  // forward() that also calls observe(i, h) with the output of layers()[i], for every i in
  // order (the last one is the net's output); the same values and graph as forward().
  virtual at::Tensor forward_observed(const at::Tensor& x, const LayerObserver& observe);
};
using NetPtr = std::shared_ptr<Net>;

// The fcn (net.arch = fcn). Layer i (0-based, i < depth) is `conv[i]`: 1→width for i = 0,
// width→width in between, width→2 for the last (depth 1: 1→2); kernel k, stride 1, 'same'
// padding (k/2), bias. The activation follows every layer but the last.
//
// net.skip = input (the paper's variant, same semantics as class FCN of
// bench/pyref.py): a chain of 1×1 bias-free convs `skip[j]` carries the raw
// input forward. Skip points are the layers i with i % skip_step == 0 (`skip_at`: 0, 4, 8, …).
// With s = the input x: at skip point i > 0 the layer's input is (h + s) instead of h; right
// after layer i at a skip point, s = skip[j](s) (1→width for j = 0, width→width, the last
// one →2); the final output is conv[last](…) + s. Every skip weight starts at 0.9/n_in and is
// trainable. Computed without full-size skip maps: s = x ⊗ (W_j ⋯ W_1) for the 1-channel input
// x, added with one fused multiply-add (same values and gradients, far less memory traffic).
//
// net.skip = residual: layers 1 … depth−2 form blocks of skip_step layers; a block's output is
// act(conv(…) + block input) (identity shortcut added before the block's last activation).
// Layer 0 and the last layer are outside the blocks (their channel counts differ).
class FcnImpl : public Net {
 public:
  explicit FcnImpl(const NetOptions& options);

  at::Tensor forward(const at::Tensor& x) override;
  // Layer i is conv[i] ("convs.i"); the 1×1 skip convs ("skips.j") belong to no layer.
  std::vector<NetLayer> layers() const override;
  // Observes the output of every layer i = 0 … depth−1: after its activation (and the residual
  // add), the last one after the skip add (i.e. the net's output). For probes that look inside
  // the net layer by layer.
  at::Tensor forward_observed(const at::Tensor& x, const LayerObserver& observe) override;
  // forward() with every activation replaced by the identity (skips and residual adds kept):
  // the linear part of the net, e.g. to compose the decomposed scheme's kernels exactly.
  at::Tensor forward_linear(const at::Tensor& x);
  // The net's activation (options().activation).
  at::Tensor activate(const at::Tensor& x) const { return Activate(x, options_.activation); }

  const NetOptions& options() const override { return options_; }
  int depth() const { return options_.depth; }

  // Registered as ModuleLists "convs" and "skips" (parameter names convs.3.weight, …, as in
  // pyref.py's state_dict). These vectors hold the same modules, typed.
  std::vector<torch::nn::Conv2d> conv;  // depth layers
  std::vector<torch::nn::Conv2d> skip;  // skip = input: the 1×1 chain (empty otherwise)
  std::vector<int> skip_at;             // skip = input: layers i with i % skip_step == 0

 private:
  at::Tensor Run(const at::Tensor& x, const std::function<void(int, const at::Tensor&)>& observe,
                 bool activations);
  NetOptions options_;
};
TORCH_MODULE(Fcn);

// One ResNet bottleneck (expansion 4) with optional dilation, as torchvision's.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 bool downsample);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // conv 1×1 + BN when the shape changes
};
TORCH_MODULE(Bottleneck);

// torchvision's fcn_resnet50(num_classes=2, aux_loss=False) with a 1-channel stem:
// conv1 7×7/2 (1→64, no bias), BN, ReLU, max-pool 3×3/2; layer1–4 of ResNet-50 (3, 4, 6, 3
// bottlenecks) with layer3 and layer4 dilated (2 and 4) instead of strided, so the output
// stride is 8; FCN head: 3×3 2048→512 (no bias), BN, ReLU, dropout 0.1, 1×1 512→2 (bias);
// bilinear upsampling (align_corners false) to the input size. 32,940,994 trainable
// parameters. The net.* fcn keys (depth, width, …) do not apply; net.activation is ignored
// (ReLU, as torchvision).
class FcnResNet50Impl : public Net {
 public:
  explicit FcnResNet50Impl(const NetOptions& options = NetOptions());
  at::Tensor forward(const at::Tensor& x) override;
  // conv1, bn1 (with its ReLU), maxpool, layer1 … layer4, head, upsample.
  std::vector<NetLayer> layers() const override;
  at::Tensor forward_observed(const at::Tensor& x, const LayerObserver& observe) override;
  const NetOptions& options() const override { return options_; }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Sequential head{nullptr};  // conv 3×3, BN, ReLU, dropout, conv 1×1

 private:
  NetOptions options_;
};
TORCH_MODULE(FcnResNet50);

// Builds the net named by options.arch (validated; layers: LayersNet, layers_net.h), on the CPU, in
// float32, with LibTorch's default initialisation: call InitNet() afterwards.
NetPtr BuildNet(const NetOptions& options);

// Number of trainable parameter values.
int64_t CountParameters(const torch::nn::Module& net);

// model.pt: the net's parameters and buffers (torch::serialize archive). LoadNet() reads them
// into a net built with the same options (throws std::runtime_error naming the file when the
// file is missing or does not fit) and moves it to `device`.
void SaveNet(const Net& net, const std::string& path);
void LoadNet(Net& net, const std::string& path, c10::Device device = c10::Device(c10::kCPU));

// A trained net loaded from a run directory (what `rfx train --out DIR` wrote): reads
// DIR/config.yaml, builds the net from its net.* keys and loads DIR/model.pt onto `device`,
// in eval mode.
struct LoadedRun {
  Config config;  // the run's resolved config
  NetPtr net;
};
LoadedRun LoadRun(const std::string& dir, c10::Device device = c10::Device(c10::kCPU));

}  // namespace rfx::nn
