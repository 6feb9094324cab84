// The gradient effective receptive field (Luo et al. 2016;
// docs/design.md#effective-rf-by-gradient): inputs (noise, task samples, images), per-sample maps,
// measures and their bootstrap intervals.
#include "rfx/probe/gradient.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "rfx/data/dataset.h"
#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
#include "rfx/probe/images.h"
#include "rfx/runtime/device.h"
#include "rfx/stats/level.h"
#include "rfx/util/error.h"

namespace rfx::probe {

namespace {

// rfx's nets read one grey channel (the images are converted to it).
constexpr int kNetInputChannels = 1;
constexpr int kDefaultSamples = 16;

nlohmann::json Pair(const Interval& i) { return nlohmann::json::array({i.lo, i.hi}); }

}  // namespace

void GradientOptions::validate() const {
  if (samples < 0 || samples > 1000000) {
    throw UsageError("--samples " + std::to_string(samples) +
                     " is out of range; allowed: 1 … 1000000, or 0 for the default (16, or "
                     "every image with --inputs)");
  }
  if (batch < 1) throw UsageError("--batch " + std::to_string(batch) + " must be >= 1");
  if (!inputs.empty() && !input.empty()) {
    throw UsageError("--inputs '" + inputs + "' reads images; it cannot be combined with --input " +
                     input + " (use one of them)");
  }
  if (!input.empty() && input != "noise" && input != "task") {
    throw UsageError("--input '" + input + "' is not known; allowed: noise, task");
  }
  if (agg != "abs" && agg != "relu") {
    throw UsageError("--agg '" + agg + "' is not known; allowed: abs, relu");
  }
  if (scale != "none" && scale != "log") {
    throw UsageError("--scale '" + scale + "' is not known; allowed: none, log");
  }
  if (bootstrap < 0 || bootstrap > 100000) {
    throw UsageError("--bootstrap " + std::to_string(bootstrap) +
                     " is out of range; allowed: 0 (no interval) … 100000");
  }
  if (replknet && position) {
    throw UsageError(
        "--position cannot be combined with --replknet (RepLKNet's scripts read the "
        "output's centre)");
  }
  ImageInputOptions image;
  image.size = std::max(size, 1);
  image.mean = mean;
  image.std = std;
  image.validate();
  CheckCommonFlags(size, /*size_optional=*/true, level, channel, dtype, bn);
}

nlohmann::json GradientResult::ToJson() const {
  nlohmann::json j;
  j["method"] =
      replknet ? "RepLKNet erf scripts: mean over samples of relu(d sum_c relu(out[c,H/2,W/2]) / "
                 "d input), log10(x+1), / max; area ratio = first centred square of side 2i+1 "
                 "(i >= 1) holding more than t"
               : "gradient (Luo et al. 2016): sum over samples of agg(d out[c,H/2,W/2] / d input)";
  j["replknet"] = replknet;
  j["agg"] = agg;
  j["scale"] = scale;
  j["input"] = input;
  if (!inputs.empty()) j["inputs"] = inputs;
  j["source"] = source;
  j["samples"] = samples;
  if (replknet) j["skipped_nonfinite"] = skipped_nonfinite;
  j["channel"] = replknet ? nlohmann::json(nullptr) : nlohmann::json(channel);
  j["device"] = device;
  j["dtype"] = dtype;
  j["height"] = map.h;
  j["width"] = map.w;
  j["level"] = level;
  j["radius"] = radius;
  j["clipped"] = clipped;
  j["sigma"] = {{"x", fit.sigma_x}, {"y", fit.sigma_y}};
  j["centre"] = {{"x", fit.mean_x}, {"y", fit.mean_y}};
  if (placement) AddPlacementJson(*placement, j);
  if (extents) j["extent"] = ExtentsJson(*extents);
  nlohmann::json areas = nlohmann::json::array();
  for (size_t i = 0; i < area_ratios.size(); ++i) {
    const AreaResult& a = area_ratios[i];
    nlohmann::json e = {{"t", a.t}, {"ratio", a.ratio}};
    if (replknet) e["side"] = a.side;
    if (ci) e["ci"] = Pair(ci->areas[i]);
    areas.push_back(e);
  }
  j["area_ratio"] = areas;
  if (ci) {
    j["radius_ci"] = Pair(ci->radius);
    j["sigma_ci"] = {{"x", Pair(ci->sigma_x)}, {"y", Pair(ci->sigma_y)}};
    j["bootstrap"] = {{"replicates", ci->replicates},
                      {"units", ci->units},
                      {"seed", ci->seed},
                      {"level", stats::kCiLevel},
                      {"method", "percentile, resampling the input samples with replacement"}};
  }
  j["wall_s"] = wall_s;
  return j;
}

at::Tensor ReadOutGradient(const at::Tensor& x, const at::Tensor& out, int channel,
                           const std::string& agg, bool replknet,
                           const std::optional<Position>& at) {
  const int64_t h = out.size(2), w = out.size(3);
  const Position p = at ? *at : Position{h / 2, w / 2};
  CheckInside(p, h, w);
  const at::Tensor read = out.select(2, p.row).select(2, p.col);  // B×C_out
  if (replknet) {
    read.clamp_min(0).sum().backward();
  } else {
    read.select(1, channel).sum().backward();
  }
  at::Tensor g = x.grad();  // B×C×H×W
  g = replknet || agg == "relu" ? g.clamp_min(0) : g.abs();
  return g.sum(1).to(at::kCPU, at::kDouble).contiguous();
}

at::Tensor SampleGradientMaps(nn::Net& net, const at::Tensor& inputs, int channel,
                              const std::string& agg, bool replknet,
                              const std::optional<Position>& at) {
  if (inputs.dim() != 4) throw std::invalid_argument("SampleGradientMaps: inputs must be B×C×H×W");
  torch::AutoGradMode grad_mode(true);
  at::Tensor x = inputs.detach().clone();
  x.set_requires_grad(true);
  return ReadOutGradient(x, net.forward(x), channel, agg, replknet, at);
}

Map GradientMap(nn::Net& net, const at::Tensor& inputs, int channel, const std::string& agg) {
  const at::Tensor m = SampleGradientMaps(net, inputs, channel, agg).sum(0).contiguous();
  Map map;
  map.h = static_cast<int>(m.size(0));
  map.w = static_cast<int>(m.size(1));
  map.v.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  return map;
}

namespace {

// Where the probe's inputs come from: noise, task samples or image files, batch by batch.
class InputSource {
 public:
  InputSource(const Config& used, const GradientOptions& o, const Setup& setup,
              const InputGeometry& geometry)
      : o_(o), channels_(geometry.channels) {
    size_ = o.size > 0 ? o.size : static_cast<int>(used.GetInt("dataset.image_size"));
    h_ = geometry.h > 0 ? geometry.h : size_;
    w_ = geometry.w > 0 ? geometry.w : size_;
    if (!o.inputs.empty()) {
      files_ = ListImages(o.inputs);
      if (o.samples > static_cast<int>(files_.size())) {
        throw UsageError("--samples " + std::to_string(o.samples) + " is more than the " +
                         std::to_string(files_.size()) + " image(s) in --inputs '" + o.inputs +
                         "'");
      }
      samples_ = o.samples > 0 ? o.samples : static_cast<int>(files_.size());
      kind_ = "images";
    } else if (o.input == "task") {
      const data::DatasetOptions data = data::DatasetOptions::FromConfig(used);
      if (o.size > 0 && o.size != data.image_size) {
        throw UsageError("--size " + std::to_string(o.size) +
                         " does not apply to --input task (samples are dataset.image_size = " +
                         std::to_string(data.image_size) + "; use --set dataset.image_size=N)");
      }
      size_ = h_ = w_ = data.image_size;
      gen_ = std::make_unique<data::Generator>(data);
      kind_ = "task";
    } else {
      kind_ = "noise";
    }
    if (samples_ == 0) samples_ = o.samples > 0 ? o.samples : kDefaultSamples;
    if (h_ < 3 || w_ < 3) {
      throw UsageError("the input sides must be >= 3 (got " + std::to_string(h_) + "x" +
                       std::to_string(w_) + ")");
    }
    noise_ = at::detail::createCPUGenerator(setup.seed + 0x9e3779b97f4a7c15ULL);
  }
  int h() const { return h_; }
  int w() const { return w_; }
  int samples() const { return samples_; }
  const std::string& kind() const { return kind_; }

  // Samples [first, first + n) as n×C×H×W float on the CPU.
  at::Tensor Batch(int first, int n) {
    std::vector<at::Tensor> items;
    if (!files_.empty()) {
      ImageInputOptions image;
      image.channels = channels_;
      image.size = std::min(h_, w_);
      image.mean = o_.mean;
      image.std = o_.std;
      for (int i = 0; i < n; ++i) items.push_back(LoadImage(files_[first + i], image));
      return at::stack(items);
    }
    if (gen_) {
      for (int i = 0; i < n; ++i) items.push_back(gen_->Make(data::kEvalStream, first + i).image);
      return at::stack(items);
    }
    return at::rand({n, channels_, h_, w_}, noise_, at::TensorOptions().dtype(at::kFloat));
  }

 private:
  const GradientOptions& o_;
  int channels_ = 1, size_ = 0, h_ = 0, w_ = 0, samples_ = 0;
  std::string kind_;
  std::vector<std::string> files_;
  std::unique_ptr<data::Generator> gen_;
  at::Generator noise_;
};

}  // namespace

void AccumulateGradient(const Config& used, const GradientOptions& options, const Setup& setup,
                        const InputGeometry& geometry, const Placer& place,
                        const GradientSampler& sample, GradientResult& r) {
  InputSource source(used, options, setup, geometry);
  const int h = source.h(), w = source.w(), n = source.samples();
  std::optional<Position> read_at;
  if (options.position) {
    r.placement = place(h, w);
    read_at = r.placement->output;
  }

  // Resampling units for the bootstrap: every sample, or blocks when memory is short.
  const bool keep_units = options.bootstrap > 0;
  const int64_t block = keep_units ? UnitBlockSize(n, h, w, options.bootstrap_budget_bytes) : n;
  std::vector<Map> units;
  std::vector<int64_t> counts;
  int in_map = 0;  // samples in the map (--replknet skips non-finite ones)
  Map total;
  total.h = h;
  total.w = w;
  total.v.assign(static_cast<size_t>(h) * w, 0.0);
  for (int done = 0; done < n;) {
    const int b = std::min(options.batch, n - done);
    const at::Tensor x = source.Batch(done, b).to(setup.device, setup.dtype);
    const at::Tensor maps = sample(x, read_at);
    for (int i = 0; i < b; ++i) {
      const double* m = maps[i].data_ptr<double>();
      if (!std::all_of(m, m + total.v.size(), [](double v) { return std::isfinite(v); })) {
        // RepLKNet's script skips such an image ("got NAN, next image"); rfx's own modes stop.
        if (!options.replknet) {
          throw std::runtime_error("the input gradient of sample " + std::to_string(done + i) +
                                   " is not finite (NaN or inf)");
        }
        ++r.skipped_nonfinite;
        continue;
      }
      for (size_t k = 0; k < total.v.size(); ++k) total.v[k] += m[k];
      ++in_map;
      if (!keep_units) continue;
      if ((in_map - 1) % block == 0) {
        units.push_back(Map{h, w, std::vector<double>(total.v.size(), 0.0)});
        counts.push_back(0);
      }
      for (size_t k = 0; k < total.v.size(); ++k) units.back().v[k] += m[k];
      ++counts.back();
    }
    done += b;
  }
  if (in_map == 0) {
    throw std::runtime_error("the input gradient of every one of the " + std::to_string(n) +
                             " samples is not finite (NaN or inf)");
  }
  ErfSpec spec;
  spec.log_scale = options.scale == "log";
  spec.replknet = options.replknet;
  spec.level = options.level;
  if (r.placement) {
    spec.centre_y = static_cast<int>(r.placement->input.row);
    spec.centre_x = static_cast<int>(r.placement->input.col);
  }
  ErfMeasures m = MeasureErf(total, in_map, spec);
  r.map = std::move(m.map);
  r.radius = m.radius;
  r.clipped = m.clipped;
  r.fit = m.fit;
  r.area_ratios = m.areas;
  if (r.placement) r.extents = DirectionalRadii(r.map, spec.centre_y, spec.centre_x, spec.level);
  if (keep_units) {
    r.ci = BootstrapErf(units, counts, spec, options.bootstrap, setup.seed ^ 0xb0075747ULL);
  }
  r.replknet = options.replknet;
  r.agg = options.replknet ? "relu" : options.agg;
  r.scale = options.replknet ? "log10(mean + 1) / max" : options.scale;
  r.input = source.kind();
  r.inputs = options.inputs;
  r.samples = in_map;
  r.channel = options.channel;
  r.level = options.level;
  r.device = setup.device.str();
  r.dtype = options.dtype;
}

GradientResult RunGradient(const Config& config, const GradientOptions& options) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const Setup setup = MakeSetup(config, options.dtype);
  GradientResult r;
  nn::NetPtr net;
  Config used = config;
  if (!options.checkpoint.empty()) {
    nn::LoadedRun run = nn::LoadRun(options.checkpoint, setup.device);
    net = run.net;
    net->to(setup.dtype);
    used = run.config;
    r.source = "checkpoint " + options.checkpoint + " (net.arch " +
               nn::NetArchText(net->options().arch) + ")";
  } else {
    const nn::NetOptions net_options = nn::NetOptions::FromConfig(config);
    const nn::InitOptions init = nn::InitOptions::FromConfig(config);
    net = BuildInitNet(net_options, init, setup);
    const int depth = net_options.arch == nn::NetArch::kLayers ? nn::CountConvs(net_options.layers)
                                                               : net_options.depth;
    r.source = std::string("fresh ") + nn::NetArchText(net_options.arch) + " (depth " +
               std::to_string(depth) + ", init " + nn::InitSchemeText(init.scheme) + ", seed " +
               std::to_string(setup.seed) + ")";
  }
  const std::string source = r.source;
  r = MeasureGradient(*net, used, options, setup.device, setup.seed);
  r.source = source;
  r.wall_s = SecondsSince(t0);
  return r;
}

namespace {

// Restores a net's module modes and its parameters' requires_grad flags when it goes.
class NetStateGuard {
 public:
  explicit NetStateGuard(nn::Net& net) : net_(net) {
    for (const auto& m : net.modules(/*include_self=*/true)) training_.push_back(m->is_training());
    for (auto& p : net.parameters()) requires_grad_.push_back(p.requires_grad());
  }
  ~NetStateGuard() {
    size_t i = 0;
    for (const auto& m : net_.modules(/*include_self=*/true)) m->train(training_[i++]);
    i = 0;
    for (auto& p : net_.parameters()) p.set_requires_grad(requires_grad_[i++]);
  }
  NetStateGuard(const NetStateGuard&) = delete;
  NetStateGuard& operator=(const NetStateGuard&) = delete;

 private:
  nn::Net& net_;
  std::vector<bool> training_, requires_grad_;
};

}  // namespace

GradientResult MeasureGradient(nn::Net& net, const Config& used, const GradientOptions& options,
                               c10::Device device, uint64_t seed) {
  options.validate();
  Setup setup;
  setup.device = device;
  setup.dtype = options.dtype == "float64" ? at::kDouble : at::kFloat;
  setup.seed = seed;
  NetStateGuard guard(net);
  SetBnMode(net, options.bn);
  for (auto& p : net.parameters()) p.set_requires_grad(false);  // d/d input only
  const GradientSampler sample = [&](const at::Tensor& x, const std::optional<Position>& at) {
    return SampleGradientMaps(net, x, options.channel, options.agg, options.replknet, at);
  };
  const Placer place = [&](int h, int w) { return PlaceInNet(used, *options.position, h, w); };
  GradientResult r;
  AccumulateGradient(used, options, setup, InputGeometry{kNetInputChannels, 0, 0}, place, sample,
                     r);
  return r;
}

}  // namespace rfx::probe
