// What a training needs in memory, estimated before anything is allocated, so an impossible
// config (train.batch_size=100000000, net.depth=4096 at 1024²) is a ConfigError naming the key
// instead of std::bad_alloc, a CUDA out-of-memory error or a machine swapping to death.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "rfx/config/config.h"
#include "rfx/data/dataset.h"
#include "rfx/nn/net.h"

namespace rfx::train {

// Peak bytes of one training, by part (see memory.cpp for the model and its measurements).
struct MemoryEstimate {
  int64_t bytes = 0;             // the total: the parts below (saturates at INT64_MAX)
  int64_t activation_bytes = 0;  // tensors kept for backward, plus the transient ones
  int64_t parameter_bytes = 0;   // weights, gradients and Adam's two moments
  int64_t data_bytes = 0;        // batches queued by the batch source and in flight
  int64_t runtime_bytes = 0;     // LibTorch and the process itself
  // The key whose value, set back to its default, would save the most memory (among
  // train.batch_size, dataset.image_size, net.depth, net.width; train.batch_size when none is
  // above its default), and its value.
  std::string dominant_key = "train.batch_size";
  int64_t dominant_value = 0;
};

// Estimates one training's peak memory: `batch_size` samples of `data`'s image size through
// `net`, with `prefetch` batches queued (dataset.prefetch).
MemoryEstimate EstimateTrainingBytes(const nn::NetOptions& net, const data::DatasetOptions& data,
                                     int batch_size, int prefetch = 4);

// Memory a training on `device` may use, and where the number comes from.
struct AvailableMemory {
  int64_t bytes = 0;
  std::string source;  // "available RAM (/proc/meminfo MemAvailable)", "cuda:0 total memory", ...
};
// CPU: the smaller of MemAvailable and the room left under this process's cgroup memory limits
// (a Slurm job's allocation). CUDA: the device's total memory (from the CUDA runtime LibTorch
// loaded; RAM when it cannot be asked).
AvailableMemory AvailableBytes(c10::Device device);

// Throws ConfigError naming EstimateTrainingBytes' dominant key, its value, the estimate and
// the memory available when the training of `config` on `device` cannot fit. Reads net.*,
// dataset.*, train.batch_size and dataset.prefetch (each validated as FromConfig does).
void CheckFitsInMemory(const Config& config, c10::Device device);

// "1.5 GiB", "640 MiB", "12 KiB", "512 B".
std::string FormatBytes(double bytes);

}  // namespace rfx::train
