// A multi-threaded producer of batches with a bounded prefetch queue.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>

#include "rfx/data/dataset.h"

namespace rfx {
class Config;
}

namespace rfx::data {

struct Batch {
  at::Tensor image;          // float [B, 1, H, W]
  at::Tensor target;         // float [B, 2, H, W]
  at::Tensor label;          // float [B] (0 = е, 1 = ё)
  uint64_t first_index = 0;  // index of the batch's first sample in its stream
};

struct BatchSourceOptions {
  int batch_size = 8;  // samples per batch (>= 1)
  int threads = 0;     // producer threads (0 = all cores)
  int prefetch = 4;    // batches queued ahead (>= 1)
  uint64_t stream = kTrainStream;
  uint64_t first_index = 0;                     // batch k holds samples first_index + k*B ... + B-1
  c10::Device device = c10::Device(c10::kCPU);  // CUDA: pinned host memory, non-blocking copy
  // Throws ConfigError (batch_size: train.batch_size, threads: dataset.threads, prefetch:
  // dataset.prefetch).
  void validate() const;
  // threads and prefetch from `dataset.threads` / `dataset.prefetch`; the rest stays default
  // (the caller sets batch_size, stream, first_index and device).
  static BatchSourceOptions FromConfig(const Config& config);
};

// Batches in order, deterministic; the destructor stops the producers cleanly even if the
// consumer stops early.
class BatchSource {
 public:
  BatchSource(const DatasetOptions& dataset, const BatchSourceOptions& options);
  ~BatchSource();
  BatchSource(const BatchSource&) = delete;
  BatchSource& operator=(const BatchSource&) = delete;

  // The next batch in order (blocks until it is ready); rethrows a producer's exception.
  Batch Next();
  // Producer threads actually running (options.threads, 0 resolved to the core count).
  int threads() const;
  // Stops the producers; Next() must not be called afterwards. Idempotent.
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rfx::data
