#include "rfx/nn/init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rfx/nn/layers_net.h"
#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::nn {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Whether a scheme starts the input-skip 1×1 convs at their paper value 0.9/n_in (true) or
// at 0 (see init.h). A switch, so that a new scheme has to say which.
bool SkipStartsOpen(InitScheme scheme) {
  switch (scheme) {
    case InitScheme::kXavier:
    case InitScheme::kShifted:
      return true;
    case InitScheme::kConstant:
    case InitScheme::kDecomposed:
    case InitScheme::kCircular:
    case InitScheme::kCircular2:
      return false;
  }
  return false;
}

// Draws on the CPU in float32 from `gen`, so every device gets the same values.
at::Tensor Uniform(at::IntArrayRef shape, double bound, at::Generator& gen) {
  return at::empty(shape, at::kFloat).uniform_(-bound, bound, gen);
}

at::Tensor Normal(at::IntArrayRef shape, at::Generator& gen) {
  return at::empty(shape, at::kFloat).normal_(0.0, 1.0, gen);
}

void Assign(at::Tensor param, const at::Tensor& value) {
  torch::NoGradGuard no_grad;
  param.copy_(value);
}

at::Tensor Xavier(const at::Tensor& weight, at::Generator& gen) {
  const int64_t rf = weight.numel() / (weight.size(0) * weight.size(1));
  const double fan_in = static_cast<double>(weight.size(1) * rf);
  const double fan_out = static_cast<double>(weight.size(0) * rf);
  return Uniform(weight.sizes(), std::sqrt(6.0 / (fan_in + fan_out)), gen);
}

void ResetBatchNorm(torch::nn::Module& module) {
  for (auto& m : module.modules(/*include_self=*/true)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      torch::NoGradGuard no_grad;
      bn->weight.fill_(1.0);
      bn->bias.zero_();
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0);
    }
  }
}

// xavier or constant on every Conv2d and ConvTranspose2d, biases 0, BatchNorm reset: the schemes
// that do not depend on the fcn's layout (fcn_resnet50, net.arch layers).
void InitConvs(torch::nn::Module& net, const InitOptions& options, at::Generator& gen) {
  auto init = [&](at::Tensor& weight, at::Tensor& bias) {
    if (options.scheme == InitScheme::kConstant) {
      Assign(weight, at::full(weight.sizes(), options.value, at::kDouble));
    } else {
      Assign(weight, Xavier(weight, gen));
    }
    if (bias.defined()) Assign(bias, at::zeros(bias.sizes()));
  };
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) init(conv->weight, conv->bias);
    if (auto* conv = m->as<torch::nn::ConvTranspose2d>()) init(conv->weight, conv->bias);
  }
  ResetBatchNorm(net);
}

void InitFcn(FcnImpl& net, const InitOptions& options, at::Generator& gen) {
  const InitScheme scheme = options.scheme;
  const int n = net.depth();
  const int64_t k = net.options().kernel;
  const int64_t c = k / 2;
  if (scheme == InitScheme::kDecomposed && k != 3) {
    throw ConfigError("init.scheme", "value 'decomposed' needs net.kernel 3 (net.kernel is " +
                                         std::to_string(k) + ")");
  }
  const std::vector<int> order = DecomposedOrder(n);
  std::array<std::vector<Step>, 16> rays;
  if (scheme == InitScheme::kCircular || scheme == InitScheme::kCircular2)
    rays = CircularRaySteps(n);
  for (int i = 0; i < n; ++i) {
    torch::nn::Conv2d& conv = net.conv[i];
    const at::Tensor& w = conv->weight;
    const int64_t out = w.size(0), in = w.size(1);
    at::Tensor value;
    if (scheme == InitScheme::kXavier) {
      value = Xavier(w, gen);
    } else if (scheme == InitScheme::kConstant) {
      value = at::full(w.sizes(), options.value, at::kDouble);
    } else if (scheme == InitScheme::kShifted) {
      const double std = std::sqrt(6.0 / static_cast<double>(in * k + out * k));
      value = Normal(w.sizes(), gen) * std;
      value.narrow(2, 1, k - 1).mul_(0.01);
    } else if (scheme == InitScheme::kDecomposed) {
      // One noise draw per layer, shared by all its (out, in) pairs, as the study did.
      at::Tensor kernel = DecomposedKernel(order[i], n, at::kDouble);
      if (options.decomposed_noise > 0) {
        kernel = kernel + Uniform({3, 3}, options.decomposed_noise, gen).to(at::kDouble);
      }
      value = (kernel * (options.decomposed_scale / static_cast<double>(in)))
                  .expand({out, in, 3, 3})
                  .clone();
    } else if (scheme == InitScheme::kCircular2) {
      value = Xavier(w, gen);
      if (i < n - 1) {
        const at::Tensor second = Xavier(w, gen);
        value.mul_(0.6f);
        auto v = value.accessor<float, 4>();
        auto s2 = second.accessor<float, 4>();
        for (int64_t ch = 0; ch < out; ++ch) {
          const Step s = rays[ch % 16][i];
          const int64_t from = std::min(ch, in - 1);
          // Tap (y, x) of the second kernel moves to (y + dy, x + dx); what leaves the kernel is
          // dropped, the row/column it leaves behind keeps 0.6·xavier.
          for (int64_t y = std::max<int64_t>(0, s.dy); y < std::min<int64_t>(k, k + s.dy); ++y) {
            for (int64_t x = std::max<int64_t>(0, s.dx); x < std::min<int64_t>(k, k + s.dx); ++x) {
              v[ch][from][y][x] = s2[ch][from][y - s.dy][x - s.dx];
            }
          }
        }
      }
    } else {  // circular: the study's circular_init (taps set, not added; see init.h)
      value = Xavier(w, gen);
      auto v = value.accessor<float, 4>();
      if (i < n - 1) {
        for (int64_t ch = 0; ch < out; ++ch) {
          const Step s = rays[ch % 16][i];
          v[ch][i == 0 ? 0 : ch][c + s.dy][c + s.dx] = 0.2f;
        }
      } else {
        for (int64_t o = 0; o < out; ++o) {
          for (int64_t ch = 0; ch < in; ++ch) v[o][ch][c][c] = 1.0f;
        }
      }
    }
    Assign(conv->weight, value);
    Assign(conv->bias, at::zeros(conv->bias.sizes()));
  }
  for (auto& s : net.skip) {
    const double v = SkipStartsOpen(scheme) ? SkipStartWeight(s->weight.size(1)) : 0.0;
    torch::NoGradGuard no_grad;
    s->weight.fill_(v);
  }
}

}  // namespace

const char* InitSchemeText(InitScheme scheme) {
  switch (scheme) {
    case InitScheme::kXavier:
      return "xavier";
    case InitScheme::kConstant:
      return "constant";
    case InitScheme::kShifted:
      return "shifted";
    case InitScheme::kDecomposed:
      return "decomposed";
    case InitScheme::kCircular:
      return "circular";
    case InitScheme::kCircular2:
      return "circular2";
  }
  return "xavier";
}

InitScheme ParseInitScheme(const std::string& text) {
  if (auto scheme = FindByText(kInitSchemes, InitSchemeText, text)) return *scheme;
  throw ConfigError("init.scheme", "value '" + text + "' is not allowed; allowed: " +
                                       TextList(kInitSchemes, InitSchemeText));
}

void InitOptions::validate() const {
  // The weights are float32: a larger value cannot be stored (torch would fail at fill time).
  if (!std::isfinite(value) || std::abs(value) > std::numeric_limits<float>::max()) {
    throw ConfigError("init.value", "value " + FormatNumber(value) +
                                        " does not fit a 32-bit float weight; allowed: finite "
                                        "numbers of magnitude up to " +
                                        FormatNumber(std::numeric_limits<float>::max()));
  }
  if (!(decomposed_noise >= 0) || !(decomposed_noise <= 1)) {
    throw ConfigError("init.decomposed_noise",
                      "value " + FormatNumber(decomposed_noise) + " is out of range; allowed 0..1");
  }
  if (!(decomposed_scale > 0) || !(decomposed_scale <= 1e6)) {
    throw ConfigError("init.decomposed_scale", "value " + FormatNumber(decomposed_scale) +
                                                   " is out of range; allowed (0, 1e6]");
  }
}

InitOptions InitOptions::FromConfig(const Config& config) {
  InitOptions o;
  try {
    o.scheme = ParseInitScheme(config.GetString("init.scheme"));
    o.value = config.GetFloat("init.value");
    o.decomposed_noise = config.GetFloat("init.decomposed_noise");
    o.decomposed_scale = config.GetFloat("init.decomposed_scale");
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

void InitNet(Net& net, const InitOptions& options, uint64_t seed) {
  options.validate();
  at::Generator gen = at::detail::createCPUGenerator(seed);
  if (auto* fcn = dynamic_cast<FcnImpl*>(&net)) {
    InitFcn(*fcn, options, gen);
    return;
  }
  if (dynamic_cast<FcnResNet50Impl*>(&net) || dynamic_cast<LayersNetImpl*>(&net)) {
    if (options.scheme != InitScheme::kXavier && options.scheme != InitScheme::kConstant) {
      throw ConfigError("init.scheme", "value '" + std::string(InitSchemeText(options.scheme)) +
                                           "' needs net.arch fcn; " +
                                           NetArchText(net.options().arch) +
                                           " allows: xavier, constant");
    }
    InitConvs(net, options, gen);
    return;
  }
  throw std::invalid_argument("InitNet: unknown net type");
}

at::Tensor DecomposedKernel(int k, int n, c10::ScalarType dtype) {
  const double phi = 2.0 * kPi / (2.0 * n + 1.0);
  const double b = -2.0 * std::cos(k * phi);
  at::Tensor row = at::tensor(std::vector<double>{1.0, b, 1.0}, at::kDouble);
  return at::outer(row, row).to(dtype);
}

std::vector<int> DecomposedOrder(int n) {
  std::vector<int> order;
  for (int lo = 1, hi = n; lo <= hi; ++lo, --hi) {
    order.push_back(lo);
    if (hi != lo) order.push_back(hi);
  }
  return order;
}

Step CircularRayEnd(int ray, int steps) {
  const double a = 2.0 * kPi * ray / 16.0;
  const double dx = std::cos(a), dy = std::sin(a);
  const double m = std::max(std::abs(dx), std::abs(dy));
  return {static_cast<int>(std::lround(steps * dx / m)),
          static_cast<int>(std::lround(steps * dy / m))};
}

std::array<std::vector<Step>, 16> CircularRaySteps(int steps) {
  std::array<std::vector<Step>, 16> rays;
  for (int r = 0; r < 16; ++r) {
    Step prev;
    for (int j = 1; j <= steps; ++j) {
      const Step p = CircularRayEnd(r, j);
      rays[r].push_back({p.dx - prev.dx, p.dy - prev.dy});
      prev = p;
    }
  }
  return rays;
}

}  // namespace rfx::nn
