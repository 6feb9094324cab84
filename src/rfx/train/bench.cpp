#include "rfx/train/bench.h"

#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "rfx/data/dataset.h"
#include "rfx/nn/init.h"
#include "rfx/nn/net.h"
#include "rfx/runtime/device.h"
#include "rfx/runtime/host_allocator.h"
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
  const std::string threads_problem = ThreadsProblem(threads);
  if (!threads_problem.empty()) throw UsageError("--threads " + threads_problem);
  check("--reps", reps, 1);
  check("--warmup", warmup, 0);
  nn::ParseSkipKind(skip, "--skip");
  ResolveDevice(device, "--device");
}

nlohmann::json StepBenchResult::ToJson(const StepBenchOptions& o) const {
  nlohmann::json j = {{"step_ms", step_ms},
                      {"step_ms_min", step_ms_min},
                      {"faults_per_step", faults_per_step},
                      {"host_allocator", host_allocator},
                      {"gflops", gflops},
                      {"gflop_per_step", gflop_per_step},
                      {"conv_roofline_gflops", conv_roofline_gflops},
                      {"matmul_gflops", matmul_gflops},
                      {"threads", threads},
                      {"device", device},
                      {"depth", o.depth},
                      {"width", o.width},
                      {"batch", o.batch},
                      {"size", o.size},
                      {"skip", o.skip},
                      {"channels_last", o.channels_last},
                      {"reps", o.reps}};
  if (o.baseline) {
    j["baseline_step_ms"] = baseline_step_ms;
    j["baseline_faults_per_step"] = baseline_faults_per_step;
    j["speedup"] = speedup;
  }
  return j;
}

namespace {

// The plain way, as `pyref.py step` runs it: pyref's FCN (1×1 conv modules for the input
// skips, out-of-place ReLU) in NCHW. For other skips, rfx's own net in NCHW.
class BaselineFcnImpl : public torch::nn::Module {
 public:
  explicit BaselineFcnImpl(const nn::NetOptions& o) : depth_(o.depth) {
    std::vector<int64_t> chans(o.depth + 1, o.width);
    chans[0] = 1;
    chans[o.depth] = 2;
    for (int i = 0; i < o.depth; ++i) {
      convs_.push_back(register_module(
          "conv" + std::to_string(i),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(chans[i], chans[i + 1], 3).padding(1))));
    }
    for (int i = 0; i < o.depth; i += o.skip_step) at_.push_back(i);
    std::vector<int64_t> ins;
    for (int i : at_) ins.push_back(chans[i]);
    ins.push_back(2);
    for (size_t j = 0; j + 1 < ins.size(); ++j) {
      skips_.push_back(register_module(
          "skip" + std::to_string(j),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(ins[j], ins[j + 1], 1).bias(false))));
      torch::NoGradGuard no_grad;
      skips_.back()->weight.fill_(nn::SkipStartWeight(ins[j]));
    }
  }

  at::Tensor forward(at::Tensor x) {
    at::Tensor skip = x;
    size_t k = 0;
    for (int i = 0; i < depth_; ++i) {
      const bool at = std::find(at_.begin(), at_.end(), i) != at_.end();
      x = at && i > 0 ? convs_[i]->forward(x + skip) : convs_[i]->forward(x);
      if (at && k < skips_.size()) skip = skips_[k++]->forward(skip);
      x = i == depth_ - 1 ? x + skip : at::relu(x);
    }
    return x;
  }

 private:
  int depth_;
  std::vector<int> at_;
  std::vector<torch::nn::Conv2d> convs_, skips_;
};

// Minor page faults of this process so far.
int64_t MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Waits for the device's queued work (CUDA runs asynchronously: a step's time is its kernels').
void Sync(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

struct Variant {
  c10::Device device = c10::kCPU;
  std::function<at::Tensor(const at::Tensor&)> forward;
  std::unique_ptr<torch::optim::Adam> optimizer;
  at::Tensor x, y;
  bool caching = true;
  std::vector<double> times;
  int64_t faults = 0;

  double Step() {
    const auto t = Clock::now();
    optimizer->zero_grad();
    torch::nn::functional::mse_loss(forward(x), y).backward();
    optimizer->step();
    Sync(device);
    return Ms(t, Clock::now());
  }
};

}  // namespace

StepBenchResult RunStepBench(const StepBenchOptions& o) {
  o.validate();
  StepBenchResult r;
  r.threads = SetTorchThreads(o.threads);
  r.host_allocator = HostAllocatorInstalled();
  const c10::Device device = ResolveDevice(o.device, "--device");
  r.device = device.str();
  const auto format =
      o.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;

  nn::NetOptions net_opt;
  net_opt.depth = o.depth;
  net_opt.width = o.width;
  net_opt.skip = nn::ParseSkipKind(o.skip);
  auto net = std::dynamic_pointer_cast<nn::FcnImpl>(nn::BuildNet(net_opt));
  nn::InitNet(*net, nn::InitOptions(), 0);
  net->to(device);
  for (auto& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(format));
  }

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

  std::vector<Variant*> variants;
  Variant rfx_step;
  rfx_step.device = device;
  rfx_step.forward = [&](const at::Tensor& in) { return net->forward(in); };
  rfx_step.optimizer =
      std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(3e-4));
  rfx_step.x = x.to(device).contiguous(format);
  rfx_step.y = y.to(device).contiguous(format);
  variants.push_back(&rfx_step);

  Variant base_step;
  std::shared_ptr<BaselineFcnImpl> pyref_net;
  std::shared_ptr<nn::FcnImpl> plain_net;
  if (o.baseline) {
    if (net_opt.skip == nn::SkipKind::kInput) {
      pyref_net = std::make_shared<BaselineFcnImpl>(net_opt);
      pyref_net->to(device);
      base_step.forward = [&](const at::Tensor& in) { return pyref_net->forward(in); };
      base_step.optimizer = std::make_unique<torch::optim::Adam>(pyref_net->parameters(),
                                                                 torch::optim::AdamOptions(3e-4));
    } else {
      plain_net = std::dynamic_pointer_cast<nn::FcnImpl>(nn::BuildNet(net_opt));
      nn::InitNet(*plain_net, nn::InitOptions(), 0);
      plain_net->to(device);
      base_step.forward = [&](const at::Tensor& in) { return plain_net->forward(in); };
      base_step.optimizer = std::make_unique<torch::optim::Adam>(plain_net->parameters(),
                                                                 torch::optim::AdamOptions(3e-4));
    }
    base_step.device = device;
    base_step.x = x.to(device).contiguous();
    base_step.y = y.to(device).contiguous();
    base_step.caching = false;
    variants.push_back(&base_step);
  }

  // Interleaved blocks (baseline, rfx, baseline, rfx, …) so that the machine's drift hits both
  // alike; each block starts with one untimed step (the allocator mode just changed).
  for (Variant* v : variants) {
    SetHostCaching(v->caching);
    for (int i = 0; i < o.warmup; ++i) v->Step();
  }
  constexpr int kBlock = 3;
  while (rfx_step.times.size() < static_cast<size_t>(o.reps)) {
    for (Variant* v : variants) {
      SetHostCaching(v->caching);
      v->Step();
      const int64_t f0 = MinorFaults();
      for (int i = 0; i < kBlock && v->times.size() < static_cast<size_t>(o.reps); ++i) {
        v->times.push_back(v->Step());
      }
      v->faults += MinorFaults() - f0;
    }
  }
  SetHostCaching(true);
  auto median = [](std::vector<double> t) {
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  r.step_ms = median(rfx_step.times);
  r.step_ms_min = *std::min_element(rfx_step.times.begin(), rfx_step.times.end());
  r.faults_per_step = static_cast<double>(rfx_step.faults) / rfx_step.times.size();
  if (o.baseline) {
    r.baseline_step_ms = median(base_step.times);
    r.baseline_faults_per_step = static_cast<double>(base_step.faults) / base_step.times.size();
    r.speedup = r.baseline_step_ms / r.step_ms;
  }

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
    conv->to(device);
    conv->weight.set_data(conv->weight.contiguous(format));
    const at::Tensor in =
        at::rand({o.batch, o.width, o.size, o.size}, at::device(device)).contiguous(format);
    double best = 1e30;
    for (int i = 0; i < 3 + std::max(5, o.reps); ++i) {
      const auto t = Clock::now();
      const at::Tensor out = conv->forward(in);
      Sync(device);
      if (i >= 3) best = std::min(best, Ms(t, Clock::now()));
    }
    r.conv_roofline_gflops = ConvFlops(conv, o.batch, o.size, o.size) / (best / 1e3) / 1e9;
  }
  {
    const at::Tensor a = at::rand({1024, 1024}, at::device(device));
    const at::Tensor b = at::rand({1024, 1024}, at::device(device));
    double best = 1e30;
    for (int i = 0; i < 8; ++i) {
      const auto t = Clock::now();
      const at::Tensor c = at::mm(a, b);
      Sync(device);
      if (i >= 2) best = std::min(best, Ms(t, Clock::now()));
    }
    r.matmul_gflops = 2.0 * 1024 * 1024 * 1024 / (best / 1e3) / 1e9;
  }
  return r;
}

}  // namespace rfx::train
