// The accuracy of a net on a data set (docs/design.md#training-and-accuracy): the read-out rule
// and the evaluation on fresh samples.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <atomic>
#include <cstdint>

#include "rfx/data/dataset.h"
#include "rfx/nn/net.h"

namespace rfx::train {

// The accuracy rule of docs/design.md#training-and-accuracy. `output` is [B, 2, H, W]; for each
// channel, the mean over the disc of radius `radius` px around (H/2, W/2); returns bool [B]: true
// (ё) where mean_ё ≥ mean_е. On the output's device, no host sync.
at::Tensor PredictYo(const at::Tensor& output, int radius = 2);

// Accuracy of `net` on samples 0 … samples−1 of `stream` of `dataset`, in eval mode, batches of
// `batch_size`, on `device` (the net must already be there). Restores the net's train/eval mode.
// A set `stop` ends it early: returns NaN.
double Evaluate(nn::Net& net, const data::DatasetOptions& dataset, int samples, c10::Device device,
                uint64_t stream = data::kEvalStream, int batch_size = 32, int threads = 0,
                const std::atomic<bool>* stop = nullptr);

// The held-out stream of the periodic checks (train.early_stop), disjoint from data::kTrainStream
// and data::kEvalStream.
constexpr uint64_t kCheckStream = 2;

}  // namespace rfx::train
