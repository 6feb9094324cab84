#include "rfx/train/profile.h"

#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "rfx/data/dataset.h"
#include "rfx/nn/freeze.h"
#include "rfx/runtime/device.h"
#include "rfx/train/memory.h"
#include "rfx/train/model.h"
#include "rfx/util/error.h"

namespace rfx::train {

namespace {

using Clock = std::chrono::steady_clock;
using Adam = torch::optim::Adam;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The faster half of the steps (by their total): on a loaded machine other work only adds
// time, so the slower steps hold the interference. Means over this half add up exactly.
std::vector<size_t> FasterHalf(const std::vector<double>& totals) {
  std::vector<size_t> order(totals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return totals[a] < totals[b]; });
  order.resize((order.size() + 1) / 2);
  return order;
}

double Mean(const std::vector<double>& v, const std::vector<size_t>& at) {
  double s = 0;
  for (size_t i : at) s += v[i];
  return at.empty() ? 0 : s / static_cast<double>(at.size());
}

// The time once everything queued on `device` is done (CUDA runs asynchronously).
Clock::time_point Now(c10::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
  return Clock::now();
}

bool Under(const std::string& parameter, const std::string& module) {
  return !module.empty() && parameter.size() > module.size() &&
         parameter.compare(0, module.size(), module) == 0 && parameter[module.size()] == '.';
}

// Samples of one row over the timed steps.
struct Samples {
  std::vector<double> forward, backward, optimizer;
  void To(const std::vector<size_t>& at, ProfileRow* row) const {
    row->forward_ms = Mean(forward, at);
    row->backward_ms = Mean(backward, at);
    row->optimizer_ms = Mean(optimizer, at);
  }
};

nlohmann::json RowJson(const ProfileRow& row, double step_ms) {
  return {{"name", row.name},
          {"parameters", row.parameters},
          {"frozen", row.frozen},
          {"forward_ms", row.forward_ms},
          {"backward_ms", row.backward_ms},
          {"optimizer_ms", row.optimizer_ms},
          {"total_ms", row.total_ms()},
          {"share", step_ms > 0 ? row.total_ms() / step_ms : 0}};
}

}  // namespace

double ProfileResult::layers_ms() const {
  double s = 0;
  for (const ProfileRow& row : layers) s += row.total_ms();
  return s;
}

double ProfileResult::sum_ms() const { return layers_ms() + loss.total_ms() + other.total_ms(); }

nlohmann::json ProfileResult::ToJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const ProfileRow& row : layers) rows.push_back(RowJson(row, step_ms));
  return {{"arch", arch},
          {"device", device},
          {"threads", threads},
          {"batch", batch},
          {"input", {1, height, width}},
          {"steps", steps},
          {"warmup", warmup},
          {"layers", rows},
          {"loss", RowJson(loss, step_ms)},
          {"other", RowJson(other, step_ms)},
          {"layers_ms", layers_ms()},
          {"sum_ms", sum_ms()},
          {"step_ms", step_ms},
          {"gap", gap()}};
}

ProfileResult RunProfile(const Config& config, const ProfileOptions& o) {
  const TrainOptions opt = TrainOptions::FromConfig(config);
  const nn::NetOptions net_opt = nn::NetOptions::FromConfig(config);
  const nn::InitOptions init_opt = nn::InitOptions::FromConfig(config);
  const data::DatasetOptions data_opt = RunDatasetOptions(config);
  c10::Device device(c10::kCPU);
  try {
    device = ResolveDevice(opt.device, "train.device");
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  CheckFitsInMemory(config, device);  // at dataset.image_size, before anything is allocated
  ProfileResult r;
  r.arch = nn::NetArchText(net_opt.arch);
  r.device = device.str();
  r.threads = SetTorchThreads(opt.threads);
  r.batch = opt.batch_size;
  r.steps = o.steps;
  r.warmup = o.warmup;
  const nn::NetPtr net = PrepareNet(config, opt, net_opt, init_opt, device);
  const std::vector<nn::NetLayer> layers = net->layers();
  const size_t n = layers.size();

  // One fixed batch: real е/ё samples, or (another input size) uniform noise and a zero target.
  const int64_t b = opt.batch_size;
  at::Tensor x, y;
  if (o.input_hw.empty()) {
    r.height = r.width = data_opt.image_size;
    x = at::empty({b, 1, r.height, r.width}, at::kFloat);
    y = at::empty({b, 2, r.height, r.width}, at::kFloat);
    const data::Generator gen(data_opt);
    for (int64_t i = 0; i < b; ++i) {
      gen.Fill(data::kTrainStream, i, x[i].data_ptr<float>(), y[i].data_ptr<float>());
    }
  } else {
    r.height = o.input_hw.at(0);
    r.width = o.input_hw.at(1);
    x = at::rand({b, 1, r.height, r.width}, at::kFloat);
  }
  x = x.to(device).contiguous(at::MemoryFormat::ChannelsLast);
  if (!y.defined()) {  // a zero target of the output's shape (a net may not keep the size)
    torch::NoGradGuard no_grad;
    y = at::zeros_like(net->forward(x));
  }
  y = y.to(device).contiguous(at::MemoryFormat::ChannelsLast);

  // Each layer's parameters, and an Adam per layer over the trainable ones.
  r.layers.resize(n);
  std::vector<std::vector<at::Tensor>> owned(n);
  std::vector<at::Tensor> rest;
  std::vector<int64_t> trainable(n, 0);
  for (const auto& p : net->named_parameters()) {
    size_t i = 0;
    while (i < n && !Under(p.key(), layers[i].module)) ++i;
    if (i == n) {
      if (p.value().requires_grad()) rest.push_back(p.value());
      continue;
    }
    r.layers[i].parameters += p.value().numel();
    if (p.value().requires_grad()) {
      owned[i].push_back(p.value());
      ++trainable[i];
    }
  }
  std::vector<std::unique_ptr<Adam>> adams(n);
  for (size_t i = 0; i < n; ++i) {
    r.layers[i].name = layers[i].name;
    r.layers[i].frozen = r.layers[i].parameters > 0 && trainable[i] == 0;
    if (!owned[i].empty()) {
      adams[i] = std::make_unique<Adam>(owned[i], torch::optim::AdamOptions(opt.lr));
    }
  }
  std::unique_ptr<Adam> rest_adam;
  if (!rest.empty()) rest_adam = std::make_unique<Adam>(rest, torch::optim::AdamOptions(opt.lr));
  r.loss.name = "loss";
  r.other.name = "other";
  // The trainer's step with these Adams (one Adam over all parameters does the same per-parameter
  // work; separate ones for this step would double the optimizer state in memory).
  auto zero_grad = [&] {
    for (auto& a : adams) {
      if (a) a->zero_grad();
    }
    if (rest_adam) rest_adam->zero_grad();
  };
  auto update = [&] {
    for (auto& a : adams) {
      if (a) a->step();
    }
    if (rest_adam) rest_adam->step();
  };
  namespace F = torch::nn::functional;

  std::vector<Samples> rows(n);
  Samples loss_row, other_row;
  std::vector<double> steps, totals;  // the trainer's steps; the sums of the rows per step
  std::vector<Clock::time_point> tf(n), tb(n);
  std::vector<char> fired(n);
  for (int it = 0; it < o.warmup + o.steps; ++it) {
    const bool keep = it >= o.warmup;
    // The trainer's step, timed whole.
    auto t0 = Now(device);
    zero_grad();
    F::mse_loss(net->forward(x), y).backward();
    update();
    auto t1 = Now(device);
    if (keep) steps.push_back(Ms(t0, t1));

    // The same step, layer by layer.
    t0 = Now(device);
    zero_grad();
    const auto t_zero = Now(device);
    std::fill(fired.begin(), fired.end(), 0);
    const auto t_forward = Now(device);
    const at::Tensor out = net->forward_observed(x, [&](int i, const at::Tensor& h) {
      tf[i] = Now(device);
      if (h.requires_grad()) {
        h.register_hook([&, i](const at::Tensor&) {
          tb[i] = Now(device);
          fired[i] = 1;
        });
      }
    });
    const at::Tensor loss = F::mse_loss(out, y);
    const auto t_loss = Now(device);
    loss.backward();
    const auto t_end = Now(device);
    std::vector<double> opt_ms(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!adams[i]) continue;
      const auto a = Now(device);
      adams[i]->step();
      opt_ms[i] = Ms(a, Now(device));
    }
    double rest_ms = 0;
    if (rest_adam) {
      const auto a = Now(device);
      rest_adam->step();
      rest_ms = Ms(a, Now(device));
    }
    if (!keep) continue;
    for (size_t i = 0; i < n; ++i) {
      rows[i].forward.push_back(Ms(i ? tf[i - 1] : t_forward, tf[i]));
      double back = 0;
      if (fired[i]) back = Ms(tb[i], i > 0 && fired[i - 1] ? tb[i - 1] : t_end);
      rows[i].backward.push_back(back);
      rows[i].optimizer.push_back(opt_ms[i]);
    }
    loss_row.forward.push_back(Ms(tf[n - 1], t_loss));
    loss_row.backward.push_back(Ms(t_loss, fired[n - 1] ? tb[n - 1] : t_end));
    loss_row.optimizer.push_back(0);
    other_row.forward.push_back(0);
    other_row.backward.push_back(0);
    other_row.optimizer.push_back(Ms(t0, t_zero) + rest_ms);
    double total = Ms(t0, t_zero) + rest_ms + Ms(tf[n - 1], t_end);
    for (size_t i = 0; i < n; ++i) total += rows[i].forward.back() + opt_ms[i];
    totals.push_back(total);
  }
  const std::vector<size_t> fast = FasterHalf(totals);
  for (size_t i = 0; i < n; ++i) rows[i].To(fast, &r.layers[i]);
  loss_row.To(fast, &r.loss);
  other_row.To(fast, &r.other);
  r.step_ms = Mean(steps, FasterHalf(steps));
  return r;
}

}  // namespace rfx::train
