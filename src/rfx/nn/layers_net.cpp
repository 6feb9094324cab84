#include "rfx/nn/layers_net.h"

#include <torch/nn/functional.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rfx/util/error.h"

namespace rfx::nn {

namespace {

const char* kKey = "net.layers";

// The last conv or conv_transpose of the list as written (body before shortcut): its `out`
// defaults to 2.
const LayerSpec* LastConv(const std::vector<LayerSpec>& specs) {
  const LayerSpec* last = nullptr;
  for (const LayerSpec& s : specs) {
    if (s.kind == LayerKind::kConv || s.kind == LayerKind::kConvTranspose) last = &s;
    if (const LayerSpec* b = LastConv(s.body)) last = b;
    if (const LayerSpec* b = LastConv(s.shortcut)) last = b;
  }
  return last;
}

int64_t OutChannels(const LayerSpec& s, const LayerSpec* last_conv, const std::string& key) {
  if (s.out > 0) return s.out;
  if (&s == last_conv) return 2;
  throw ConfigError(key, s.path + "." + LayerKindText(s.kind) +
                             ".out: required for net.arch layers (output channels; only the "
                             "last conv of the list defaults to 2)");
}

std::string Shape(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

torch::ExpandingArray<2> Two(const HW& v) { return torch::ExpandingArray<2>({v.h, v.w}); }

std::vector<int64_t> Vec(const HW& v) { return {v.h, v.w}; }

}  // namespace

LayerStackImpl::LayerStackImpl(const std::vector<LayerSpec>& specs, int64_t* channels,
                               const LayerSpec* last_conv, const std::string& key) {
  for (const LayerSpec& spec : specs) {
    Step step;
    step.spec = spec;
    step.spec.body.clear();
    step.spec.shortcut.clear();
    const int64_t in = *channels;
    switch (spec.kind) {
      case LayerKind::kConv: {
        const int64_t out = OutChannels(spec, last_conv, key);
        if (in % spec.groups != 0 || out % spec.groups != 0) {
          throw ConfigError(key, spec.path + ".conv.groups: " + std::to_string(spec.groups) +
                                     " does not divide the input channels (" + std::to_string(in) +
                                     ") and out (" + std::to_string(out) + ")");
        }
        step.conv = register_module(spec.name,
                                    torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, Two(spec.k))
                                                          .stride(Two(spec.s))
                                                          .padding(Two(spec.p))
                                                          .dilation(Two(spec.d))
                                                          .groups(spec.groups)
                                                          .bias(spec.bias)));
        *channels = out;
        break;
      }
      case LayerKind::kConvTranspose: {
        const int64_t out = OutChannels(spec, last_conv, key);
        step.conv_transpose = register_module(
            spec.name,
            torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, Two(spec.k))
                                           .stride(Two(spec.s))
                                           .padding(Two(spec.p))
                                           .output_padding(Two(spec.output_padding))
                                           .dilation(Two(spec.d))
                                           .bias(spec.bias)));
        *channels = out;
        break;
      }
      case LayerKind::kBatchNorm:
        step.batchnorm = register_module(spec.name, torch::nn::BatchNorm2d(in));
        break;
      case LayerKind::kResidual:
      case LayerKind::kConcat: {
        auto holder = std::make_shared<torch::nn::Module>();
        int64_t body_channels = in, shortcut_channels = in;
        step.body = std::make_shared<LayerStackImpl>(spec.body, &body_channels, last_conv, key);
        holder->register_module("body", step.body);
        if (!spec.shortcut.empty()) {
          step.shortcut =
              std::make_shared<LayerStackImpl>(spec.shortcut, &shortcut_channels, last_conv, key);
          holder->register_module("shortcut", step.shortcut);
        }
        register_module(spec.name, holder);
        if (spec.kind == LayerKind::kConcat) {
          *channels = body_channels + shortcut_channels;
        } else if (body_channels != shortcut_channels) {
          throw ConfigError(key, spec.path + ".residual: the body gives " +
                                     std::to_string(body_channels) + " channels, the shortcut " +
                                     std::to_string(shortcut_channels) +
                                     "; they must match (e.g. a shortcut [{conv: {out: " +
                                     std::to_string(body_channels) + ", k: 1}}])");
        } else {
          *channels = body_channels;
        }
        break;
      }
      default:
        break;
    }
    steps_.push_back(std::move(step));
  }
}

std::vector<NetLayer> LayerStackImpl::layers(const std::string& prefix) const {
  std::vector<NetLayer> out;
  for (const Step& step : steps_) {
    const bool has_module = step.conv || step.conv_transpose || step.batchnorm || step.body;
    out.push_back({step.spec.name, has_module ? prefix + step.spec.name : ""});
  }
  return out;
}

at::Tensor LayerStackImpl::forward(const at::Tensor& x, const std::vector<int64_t>& input_hw,
                                   const LayerObserver& observe) {
  namespace F = torch::nn::functional;
  at::Tensor h = x;
  int index = 0;
  for (Step& step : steps_) {
    const LayerSpec& s = step.spec;
    switch (s.kind) {
      case LayerKind::kConv:
        h = step.conv->forward(h);
        break;
      case LayerKind::kConvTranspose:
        h = step.conv_transpose->forward(h);
        break;
      case LayerKind::kMaxPool:
        h = at::max_pool2d(h, Vec(s.k), Vec(s.s), Vec(s.p), Vec(s.d), s.ceil);
        break;
      case LayerKind::kAvgPool:
        h = at::avg_pool2d(h, Vec(s.k), Vec(s.s), Vec(s.p), s.ceil, /*count_include_pad=*/true);
        break;
      case LayerKind::kAdaptiveAvgPool:
        h = at::adaptive_avg_pool2d(h, Vec(s.size));
        break;
      case LayerKind::kUpsample: {
        auto o = F::InterpolateFuncOptions();
        if (s.mode == UpsampleMode::kBilinear) {
          o.mode(torch::kBilinear).align_corners(false);
        } else {
          o.mode(torch::kNearest);
        }
        if (s.to_input) {
          o.size(input_hw);
        } else {
          o.scale_factor(std::vector<double>{s.factor, s.factor});
        }
        h = F::interpolate(h, o);
        break;
      }
      case LayerKind::kBatchNorm:
        h = step.batchnorm->forward(h);
        break;
      case LayerKind::kActivation:
        h = Activate(h, s.activation);
        break;
      case LayerKind::kResidual:
      case LayerKind::kConcat: {
        const at::Tensor b = step.body->forward(h, input_hw);
        const at::Tensor c = step.shortcut ? step.shortcut->forward(h, input_hw) : h;
        const bool residual = s.kind == LayerKind::kResidual;
        if (residual ? b.sizes() != c.sizes()
                     : (b.size(2) != c.size(2) || b.size(3) != c.size(3))) {
          throw std::runtime_error(s.path + " (" + s.name + "): the body gives " +
                                   Shape(b.sizes()) + " but the shortcut " + Shape(c.sizes()) +
                                   (residual ? "; a residual adds maps of one shape"
                                             : "; a concat needs maps of one height and width"));
        }
        h = residual ? b + c : at::cat({c, b}, 1);
        break;
      }
    }
    if (observe) observe(index, h);
    ++index;
  }
  return h;
}

LayersNetImpl::LayersNetImpl(const NetOptions& options) : options_(options) {
  options_.arch = NetArch::kLayers;
  options_.validate();
  try {
    Build();
  } catch (const ConfigError& e) {
    if (options_.layers_origin.empty() || !e.where().empty()) throw;
    throw e.At(options_.layers_origin);
  }
}

void LayersNetImpl::Build() {
  int64_t channels = 1;
  stack_ =
      register_module("layers", std::make_shared<LayerStackImpl>(options_.layers, &channels,
                                                                 LastConv(options_.layers), kKey));
  // The е/ё task's shape, checked once on zeros (eval mode: BatchNorm of one sample).
  const int64_t n = options_.check_size;
  const std::vector<int64_t> want = {1, 2, n, n};
  at::Tensor out;
  {
    torch::NoGradGuard no_grad;
    eval();
    try {
      out = forward(at::zeros({1, 1, n, n}));
    } catch (const c10::Error& e) {
      train();
      throw ConfigError(kKey, "fails on a [1, 1, " + std::to_string(n) + ", " + std::to_string(n) +
                                  "] input: " + e.what_without_backtrace());
    } catch (const std::runtime_error& e) {
      train();
      throw ConfigError(kKey, "fails on a [1, 1, " + std::to_string(n) + ", " + std::to_string(n) +
                                  "] input: " + e.what());
    }
    train();
  }
  if (out.sizes() != at::IntArrayRef(want)) {
    throw ConfigError(kKey, "net.layers returns " + Shape(out.sizes()) + " for a [1, 1, " +
                                std::to_string(n) + ", " + std::to_string(n) +
                                "] input; the е/ё task needs " + Shape(want));
  }
}

at::Tensor LayersNetImpl::forward(const at::Tensor& x) {
  return stack_->forward(x, {x.size(2), x.size(3)});
}

std::vector<NetLayer> LayersNetImpl::layers() const { return stack_->layers("layers."); }

at::Tensor LayersNetImpl::forward_observed(const at::Tensor& x, const LayerObserver& observe) {
  return stack_->forward(x, {x.size(2), x.size(3)}, observe);
}

// ---------------------------------------------------------------------------------------------

namespace {

struct Map {
  double c = 1, h = 1, w = 1;
  double elements() const { return c * h * w; }
};

double Windowed(double n, int k, int s, int p, int d, bool ceil) {
  const double room = n + 2.0 * p - static_cast<double>(d) * (k - 1) - 1;
  const double out = (ceil ? std::ceil(room / s) : std::floor(room / s)) + 1;
  return std::max(1.0, out);
}

Map Walk(const std::vector<LayerSpec>& specs, Map m, const LayerSpec* last_conv, HW input,
         LayersFootprint* f) {
  for (const LayerSpec& s : specs) {
    switch (s.kind) {
      case LayerKind::kConv:
      case LayerKind::kConvTranspose: {
        const double out = s.out > 0 ? s.out : (&s == last_conv ? 2 : m.c);
        const double k2 = static_cast<double>(s.k.h) * s.k.w;
        const double groups = s.kind == LayerKind::kConv ? s.groups : 1;
        f->parameters += m.c / groups * out * k2 + (s.bias ? out : 0);
        if (s.kind == LayerKind::kConv) {
          m.h = Windowed(m.h, s.k.h, s.s.h, s.p.h, s.d.h, false);
          m.w = Windowed(m.w, s.k.w, s.s.w, s.p.w, s.d.w, false);
        } else {
          m.h = std::max(1.0, (m.h - 1) * s.s.h - 2.0 * s.p.h + s.d.h * (s.k.h - 1.0) +
                                  s.output_padding.h + 1);
          m.w = std::max(1.0, (m.w - 1) * s.s.w - 2.0 * s.p.w + s.d.w * (s.k.w - 1.0) +
                                  s.output_padding.w + 1);
        }
        m.c = out;
        break;
      }
      case LayerKind::kMaxPool:
      case LayerKind::kAvgPool:
        m.h = Windowed(m.h, s.k.h, s.s.h, s.p.h, s.d.h, s.ceil);
        m.w = Windowed(m.w, s.k.w, s.s.w, s.p.w, s.d.w, s.ceil);
        break;
      case LayerKind::kAdaptiveAvgPool:
        m.h = s.size.h, m.w = s.size.w;
        break;
      case LayerKind::kUpsample:
        m.h = s.to_input ? input.h : std::max(1.0, std::floor(m.h * s.factor));
        m.w = s.to_input ? input.w : std::max(1.0, std::floor(m.w * s.factor));
        break;
      case LayerKind::kBatchNorm:
        f->parameters += 2 * m.c;
        break;
      case LayerKind::kActivation:
        break;
      case LayerKind::kResidual:
      case LayerKind::kConcat: {
        const Map b = Walk(s.body, m, last_conv, input, f);
        const Map c = Walk(s.shortcut, m, last_conv, input, f);
        m = b;
        if (s.kind == LayerKind::kConcat) m.c = b.c + c.c;
        break;
      }
    }
    f->elements += m.elements();
    f->largest = std::max(f->largest, m.elements());
  }
  return m;
}

}  // namespace

LayersFootprint EstimateLayers(const std::vector<LayerSpec>& specs, int64_t h, int64_t w) {
  LayersFootprint f;
  Map in;
  in.h = static_cast<double>(h), in.w = static_cast<double>(w);
  f.elements = in.elements();
  f.largest = in.elements();
  Walk(specs, in, LastConv(specs), HW(static_cast<int>(h), static_cast<int>(w)), &f);
  return f;
}

}  // namespace rfx::nn
