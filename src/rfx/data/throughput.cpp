#include "rfx/data/throughput.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>

#include "rfx/data/batch_source.h"
#include "rfx/util/error.h"

namespace rfx::data {
namespace {

// User + system CPU seconds of the whole process so far.
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

void ThroughputOptions::validate() const {
  if (threads < 1 || threads > 256) {
    throw UsageError("--threads " + std::to_string(threads) + " is out of range; allowed 1..256");
  }
  if (!(seconds > 0) || !(seconds <= 3600)) {
    throw UsageError("--seconds " + std::to_string(seconds) +
                     " is out of range; allowed more than 0, at most 3600");
  }
  if (batch_size < 1) {
    throw UsageError("batch size " + std::to_string(batch_size) + " is out of range; allowed >= 1");
  }
}

ThroughputResult MeasureThroughput(const DatasetOptions& dataset,
                                   const ThroughputOptions& options) {
  options.validate();
  BatchSourceOptions bo;
  bo.threads = options.threads;
  bo.batch_size = options.batch_size;
  bo.prefetch = 2 * options.threads + 2;
  BatchSource source(dataset, bo);
  source.Next();  // warm-up: threads started, buffers and caches touched
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  int64_t samples = 0;
  double elapsed = 0;
  do {
    const Batch b = source.Next();
    samples += b.label.size(0);
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < options.seconds);
  const double cpu = ProcessCpuSeconds() - cpu_start;
  ThroughputResult r;
  r.cpu_seconds = cpu;
  r.samples_per_s = samples / elapsed;
  r.threads = source.threads();
  r.samples = samples;
  r.seconds = elapsed;
  r.batch_size = options.batch_size;
  r.image_size = dataset.image_size;
  r.kind = dataset.kind;
  return r;
}

}  // namespace rfx::data
