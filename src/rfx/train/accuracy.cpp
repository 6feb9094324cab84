#include "rfx/train/accuracy.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "rfx/data/batch_source.h"

namespace rfx::train {

namespace {
constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;
}  // namespace

at::Tensor PredictYo(const at::Tensor& output, int radius) {
  const int64_t h = output.size(2), w = output.size(3);
  const int64_t cy = h / 2, cx = w / 2;
  // The disc's bounding box, then a mask inside it (13 px for radius 2).
  const int64_t y0 = std::max<int64_t>(0, cy - radius), y1 = std::min<int64_t>(h, cy + radius + 1);
  const int64_t x0 = std::max<int64_t>(0, cx - radius), x1 = std::min<int64_t>(w, cx + radius + 1);
  const at::TensorOptions opt = at::TensorOptions().dtype(output.scalar_type());
  at::Tensor yy = (at::arange(y0, y1, opt) - cy).view({-1, 1});
  at::Tensor xx = (at::arange(x0, x1, opt) - cx).view({1, -1});
  at::Tensor mask = ((yy * yy + xx * xx) <= radius * radius).to(output.scalar_type());
  mask = mask.to(output.device());
  const at::Tensor patch = output.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0);
  const at::Tensor means = (patch * mask).sum({2, 3});  // [B, 2]; the same count per channel
  return means.select(1, 1) >= means.select(1, 0);
}

double Evaluate(nn::Net& net, const data::DatasetOptions& dataset, int samples, c10::Device device,
                uint64_t stream, int batch_size, int threads, const std::atomic<bool>* stop) {
  const bool was_training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  const int bs = std::max(1, std::min(batch_size, samples));
  data::BatchSourceOptions so;
  so.batch_size = bs;
  so.threads = threads;
  so.stream = stream;
  so.device = device;
  data::BatchSource source(dataset, so);
  at::Tensor correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(device));
  bool stopped = false;
  for (int done = 0; done < samples; done += bs) {
    if (stop != nullptr && stop->load()) {
      stopped = true;
      break;
    }
    data::Batch b = source.Next();
    const int n = std::min(bs, samples - done);
    const at::Tensor x = b.image.to(device).narrow(0, 0, n).contiguous(kChannelsLast);
    const at::Tensor yo = PredictYo(net.forward(x));
    correct += (yo == (b.label.to(device).narrow(0, 0, n) > 0.5)).sum();
  }
  source.Stop();
  net.train(was_training);
  if (stopped) return NAN;
  return static_cast<double>(correct.item<int64_t>()) / samples;
}

}  // namespace rfx::train
