#include "rfx/train/bench.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "datasets/dataset.h"
#include "rfx/nn/init.h"
#include "rfx/nn/net.h"
#include "rfx/util/device.h"
#include "rfx/util/error.h"

namespace rfx::train {

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double ConvFlops(const torch::nn::Conv2d& conv, int64_t b, int64_t h, int64_t w) {
  const auto& wt = conv->weight;
  return 2.0 * static_cast<double>(wt.size(0) * wt.size(1) * wt.size(2) * wt.size(3)) *
         static_cast<double>(b * h * w);
}

}  // namespace

void StepBenchOptions::validate() const {
  auto check = [](const char* flag, int v, int min) {
    if (v < min) {
      throw UsageError(std::string(flag) + " " + std::to_string(v) +
                       " is out of range; allowed >= " + std::to_string(min));
    }
  };
  check("--depth", depth, 1);
  check("--width", width, 1);
  check("--batch", batch, 1);
  check("--size", size, 16);
  check("--threads", threads, 0);
  check("--reps", reps, 1);
  check("--warmup", warmup, 0);
  if (skip != "none" && skip != "input" && skip != "residual") {
    throw UsageError("--skip '" + skip + "' is not allowed; allowed: none, input, residual");
  }
}

nlohmann::json StepBenchResult::ToJson(const StepBenchOptions& o) const {
  return {{"step_ms", step_ms},
          {"step_ms_min", step_ms_min},
          {"gflops", gflops},
          {"gflop_per_step", gflop_per_step},
          {"conv_roofline_gflops", conv_roofline_gflops},
          {"matmul_gflops", matmul_gflops},
          {"threads", threads},
          {"depth", o.depth},
          {"width", o.width},
          {"batch", o.batch},
          {"size", o.size},
          {"skip", o.skip},
          {"channels_last", o.channels_last},
          {"reps", o.reps}};
}

StepBenchResult RunStepBench(const StepBenchOptions& o) {
  o.validate();
  StepBenchResult r;
  r.threads = SetTorchThreads(o.threads);
  const auto format =
      o.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;

  nn::NetOptions net_opt;
  net_opt.depth = o.depth;
  net_opt.width = o.width;
  net_opt.skip = o.skip;
  auto net = std::dynamic_pointer_cast<nn::FcnImpl>(nn::BuildNet(net_opt));
  nn::InitNet(*net, nn::InitOptions(), 0);
  for (auto& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(format));
  }
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(3e-4));

  // One real batch of the е/ё task.
  data::DatasetOptions d;
  d.image_size = o.size;
  d.distance = std::clamp(12, d.min_distance(), std::max(d.min_distance(), d.max_distance()));
  const data::Generator gen(d);
  at::Tensor x = at::empty({o.batch, 1, o.size, o.size}, at::kFloat);
  at::Tensor y = at::empty({o.batch, 2, o.size, o.size}, at::kFloat);
  for (int i = 0; i < o.batch; ++i) {
    gen.Fill(data::kTrainStream, i, x[i].data_ptr<float>(), y[i].data_ptr<float>());
  }
  x = x.contiguous(format);
  y = y.contiguous(format);

  std::vector<double> times;
  for (int i = 0; i < o.warmup + o.reps; ++i) {
    const auto t = Clock::now();
    optimizer.zero_grad();
    torch::nn::functional::mse_loss(net->forward(x), y).backward();
    optimizer.step();
    if (i >= o.warmup) times.push_back(Ms(t, Clock::now()));
  }
  std::sort(times.begin(), times.end());
  r.step_ms = times[times.size() / 2];
  r.step_ms_min = times.front();

  // Forward F per conv; backward: weight gradient F for every conv, input gradient F for every
  // conv whose input needs one (not layer 0, not the first skip, which read the raw image).
  double flops = 0;
  for (size_t i = 0; i < net->conv.size(); ++i) {
    const double f = ConvFlops(net->conv[i], o.batch, o.size, o.size);
    flops += (i == 0 ? 2 : 3) * f;
  }
  for (size_t j = 0; j < net->skip.size(); ++j) {
    const double f = ConvFlops(net->skip[j], o.batch, o.size, o.size);
    flops += (j == 0 ? 2 : 3) * f;
  }
  r.gflop_per_step = flops / 1e9;
  r.gflops = r.gflop_per_step / (r.step_ms / 1e3);

  // Roofline: the best rate of the step's dominant op (a width→width 3×3 conv forward) and of
  // a square matmul.
  torch::NoGradGuard no_grad;
  {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(o.width, o.width, 3).padding(1));
    conv->weight.set_data(conv->weight.contiguous(format));
    const at::Tensor in = at::rand({o.batch, o.width, o.size, o.size}).contiguous(format);
    double best = 1e30;
    for (int i = 0; i < 3 + std::max(5, o.reps); ++i) {
      const auto t = Clock::now();
      const at::Tensor out = conv->forward(in);
      if (i >= 3) best = std::min(best, Ms(t, Clock::now()));
    }
    r.conv_roofline_gflops = ConvFlops(conv, o.batch, o.size, o.size) / (best / 1e3) / 1e9;
  }
  {
    const at::Tensor a = at::rand({1024, 1024}), b = at::rand({1024, 1024});
    double best = 1e30;
    for (int i = 0; i < 8; ++i) {
      const auto t = Clock::now();
      const at::Tensor c = at::mm(a, b);
      if (i >= 2) best = std::min(best, Ms(t, Clock::now()));
    }
    r.matmul_gflops = 2.0 * 1024 * 1024 * 1024 / (best / 1e3) / 1e9;
  }
  return r;
}

}  // namespace rfx::train
