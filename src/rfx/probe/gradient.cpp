// The gradient effective receptive field (Luo et al. 2016; DESIGN §1.7) and the probe bench.
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/dataset.h"
#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
#include "rfx/probe/probe.h"
#include "rfx/util/device.h"
#include "rfx/util/error.h"

namespace rfx::probe {

void GradientOptions::validate() const {
  if (samples < 1 || samples > 1000000) {
    throw UsageError("--samples " + std::to_string(samples) +
                     " is out of range; allowed: 1 … 1000000");
  }
  if (batch < 1) throw UsageError("--batch " + std::to_string(batch) + " must be >= 1");
  if (input != "noise" && input != "task") {
    throw UsageError("--input '" + input + "' is not known; allowed: noise, task");
  }
  if (agg != "abs" && agg != "relu") {
    throw UsageError("--agg '" + agg + "' is not known; allowed: abs, relu");
  }
  if (scale != "none" && scale != "log") {
    throw UsageError("--scale '" + scale + "' is not known; allowed: none, log");
  }
  CheckCommonFlags(size, /*size_optional=*/true, level, channel, dtype, bn);
}

nlohmann::json GradientResult::ToJson() const {
  nlohmann::json j;
  j["method"] = "gradient (Luo et al. 2016): sum over samples of agg(d out[c,H/2,W/2] / d input)";
  j["agg"] = agg;
  j["scale"] = scale;
  j["input"] = input;
  j["source"] = source;
  j["samples"] = samples;
  j["channel"] = channel;
  j["device"] = device;
  j["dtype"] = dtype;
  j["height"] = map.h;
  j["width"] = map.w;
  j["level"] = level;
  j["radius"] = radius;
  j["clipped"] = clipped;
  j["sigma"] = {{"x", fit.sigma_x}, {"y", fit.sigma_y}};
  j["centre"] = {{"x", fit.mean_x}, {"y", fit.mean_y}};
  nlohmann::json areas = nlohmann::json::array();
  for (const auto& [t, r] : area_ratios) areas.push_back({{"t", t}, {"ratio", r}});
  j["area_ratio"] = areas;
  j["wall_s"] = wall_s;
  return j;
}

Map GradientMap(nn::Net& net, const at::Tensor& inputs, int channel, const std::string& agg) {
  if (inputs.dim() != 4 || inputs.size(1) != 1) {
    throw std::invalid_argument("GradientMap: inputs must be B×1×H×W");
  }
  torch::AutoGradMode grad_mode(true);
  at::Tensor x = inputs.detach().clone();
  x.set_requires_grad(true);
  const at::Tensor out = net.forward(x);
  const int64_t h = out.size(2), w = out.size(3);
  out.select(1, channel).select(1, h / 2).select(1, w / 2).sum().backward();
  at::Tensor g = x.grad().select(1, 0);  // B×H×W
  g = agg == "relu" ? g.clamp_min(0) : g.abs();
  const at::Tensor m = g.sum(0).to(at::kCPU, at::kDouble).contiguous();
  Map map;
  map.h = static_cast<int>(m.size(0));
  map.w = static_cast<int>(m.size(1));
  map.v.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  return map;
}

void MeasureGradientMap(GradientResult& r) {
  const int cy = r.map.h / 2, cx = r.map.w / 2;
  const std::vector<double> row = NormalizeProfile(RowFrom(r.map, cy, cx));
  r.radius = RadiusAtLevel(row, r.level);
  r.clipped = r.radius >= static_cast<int>(row.size());
  r.fit = FitGaussian(r.map);
  r.area_ratios.clear();
  for (double t : AreaFractions()) r.area_ratios.emplace_back(t, AreaRatio(r.map, cy, cx, t));
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
    r.source = "checkpoint " + options.checkpoint + " (net.arch " + net->options().arch + ")";
  } else {
    const nn::NetOptions net_options = nn::NetOptions::FromConfig(config);
    const nn::InitOptions init = nn::InitOptions::FromConfig(config);
    net = BuildInitNet(net_options, init, setup);
    r.source = "fresh " + net_options.arch + " (depth " + std::to_string(net_options.depth) +
               ", init " + init.scheme + ", seed " + std::to_string(setup.seed) + ")";
  }
  SetBnMode(*net, options.bn);

  int size = options.size > 0 ? options.size : static_cast<int>(used.GetInt("dataset.image_size"));
  std::unique_ptr<data::Generator> gen;
  if (options.input == "task") {
    const data::DatasetOptions data = data::DatasetOptions::FromConfig(used);
    if (options.size > 0 && options.size != data.image_size) {
      throw UsageError("--size " + std::to_string(options.size) +
                       " does not apply to --input task (samples are dataset.image_size = " +
                       std::to_string(data.image_size) + "; use --set dataset.image_size=N)");
    }
    size = data.image_size;
    gen = std::make_unique<data::Generator>(data);
  }
  if (size < 3) throw UsageError("the input side must be >= 3 (got " + std::to_string(size) + ")");
  at::Generator noise = at::detail::createCPUGenerator(setup.seed + 0x9e3779b97f4a7c15ULL);

  Map total;
  total.h = total.w = size;
  total.v.assign(static_cast<size_t>(size) * size, 0.0);
  for (int done = 0; done < options.samples;) {
    const int b = std::min(options.batch, options.samples - done);
    at::Tensor x;
    if (gen) {
      std::vector<at::Tensor> images;
      for (int i = 0; i < b; ++i) images.push_back(gen->Make(data::kEvalStream, done + i).image);
      x = at::stack(images);
    } else {
      x = at::rand({b, 1, size, size}, noise, at::TensorOptions().dtype(at::kFloat));
    }
    x = x.to(setup.device, setup.dtype);
    const Map m = GradientMap(*net, x, options.channel, options.agg);
    for (size_t i = 0; i < total.v.size(); ++i) total.v[i] += m.v[i];
    done += b;
  }
  r.map = options.scale == "log" ? Log10p1(total) : total;
  r.agg = options.agg;
  r.scale = options.scale;
  r.input = options.input;
  r.samples = options.samples;
  r.channel = options.channel;
  r.level = options.level;
  r.device = setup.device.str();
  r.dtype = options.dtype;
  MeasureGradientMap(r);
  r.wall_s = SecondsSince(t0);
  return r;
}

void WriteHeatmapPng(const Map& map, const std::string& path) {
  if (map.h <= 0 || map.w <= 0) throw std::invalid_argument("WriteHeatmapPng: empty map");
  double lo = map.v[0], hi = map.v[0];
  for (double v : map.v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  cv::Mat gray(map.h, map.w, CV_8UC1);
  for (int y = 0; y < map.h; ++y) {
    for (int x = 0; x < map.w; ++x) {
      const double t = hi > lo ? (map.at(y, x) - lo) / (hi - lo) : 0.0;
      gray.at<uint8_t>(y, x) = static_cast<uint8_t>(std::lround(255.0 * t));
    }
  }
  cv::Mat colour;
  cv::applyColorMap(gray, colour, cv::COLORMAP_INFERNO);
  const int factor = std::max(1, (256 + std::min(map.h, map.w) - 1) / std::min(map.h, map.w));
  if (factor > 1) {
    cv::resize(colour, colour, cv::Size(), factor, factor, cv::INTER_NEAREST);
  }
  if (!cv::imwrite(path, colour)) throw std::runtime_error("cannot write " + path);
}

nlohmann::json RunProbeBench(const BenchOptions& options) {
  if (options.max_depth < 1) throw UsageError("--max-depth must be >= 1");
  if (options.size < 3) throw UsageError("--size must be >= 3");
  Config config;
  config.Set("net.arch", YAML::Node("fcn"), "bench");
  config.Set("net.skip", YAML::Node("none"), "bench");
  config.Set("init.scheme", YAML::Node("constant"), "bench");
  config.Set("train.device", YAML::Node(options.device), "--device");
  config.Set("train.threads", YAML::Node(options.threads), "--threads");
  ForwardOptions f;
  f.size = options.size;
  for (int d = 1; d <= options.max_depth; ++d) f.depths.push_back(d);
  // CPU seconds of the whole process (all intra-op threads): less sensitive than wall time to
  // other jobs on a shared machine.
  auto cpu_s = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  f.incremental = true;
  double c0 = cpu_s();
  const ForwardResult inc = RunForward(config, f);
  const double inc_cpu = cpu_s() - c0;
  f.incremental = false;
  c0 = cpu_s();
  const ForwardResult fresh = RunForward(config, f);
  const double fresh_cpu = cpu_s() - c0;
  bool match = inc.depths.size() == fresh.depths.size();
  for (size_t i = 0; match && i < inc.depths.size(); ++i) {
    match = inc.depths[i].radius == fresh.depths[i].radius;
  }
  nlohmann::json j;
  j["benchmark"] = "probe forward depth scan 1.." + std::to_string(options.max_depth) + " at " +
                   std::to_string(options.size) +
                   "^2, fcn (skip none, width 16, kernel 3), "
                   "constant init";
  j["size"] = options.size;
  j["max_depth"] = options.max_depth;
  j["threads"] = at::get_num_threads();
  j["device"] = inc.device;
  j["incremental_method"] = inc.method;
  j["incremental_s"] = inc.wall_s;
  j["fresh_s"] = fresh.wall_s;
  j["speedup"] = inc.wall_s > 0 ? fresh.wall_s / inc.wall_s : 0.0;
  j["incremental_cpu_s"] = inc_cpu;
  j["fresh_cpu_s"] = fresh_cpu;
  j["speedup_cpu"] = inc_cpu > 0 ? fresh_cpu / inc_cpu : 0.0;
  j["radii_match"] = match;
  j["radius_at_max_depth"] = inc.depths.back().radius;
  return j;
}

}  // namespace rfx::probe
