// Samples per second of the data pipeline as training sees it: a BatchSource with T producer
// threads, batches taken by the calling thread (`rfx bench dataset`).
#pragma once
#include <cstdint>
#include <string>

#include "rfx/data/dataset.h"

namespace rfx::data {

struct ThroughputOptions {
  int threads = 1;        // producer threads (>= 1)
  double seconds = 2.0;   // measuring time after one warm-up batch (> 0)
  int batch_size = 8;     // samples per batch (the paper's)
  void validate() const;  // throws UsageError naming --threads / --seconds
};

struct ThroughputResult {
  double samples_per_s = 0;
  int threads = 0;
  int64_t samples = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // CPU time of the whole process (producers + consumer) meanwhile
  int batch_size = 0;
  int image_size = 0;
  DatasetKind kind = DatasetKind::kE;
};

ThroughputResult MeasureThroughput(const DatasetOptions& dataset, const ThroughputOptions& options);

}  // namespace rfx::data
