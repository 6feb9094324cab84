// BatchSource for a CUDA device: pinned host batches copied asynchronously give the same samples
// as the CPU path; without CUDA, asking for it is a config error, never a silent pin attempt.
#include <gtest/gtest.h>

#include "cuda_test.h"
#include "rfx/data/batch_source.h"
#include "rfx/util/error.h"

namespace rfx::data {
namespace {

DatasetOptions Small() {
  DatasetOptions o;
  o.image_size = 32;
  o.distance = 10;
  o.seed = 5;
  return o;
}

class BatchSourceCudaTest : public test::CudaTest {};

// Many small batches, more producers than the queue: pinned blocks are freed and reused while
// their copies may still be in flight, so a missing stream-ordering would corrupt samples here.
TEST_F(BatchSourceCudaTest, GpuBatchesEqualTheCpuOnes) {
  BatchSourceOptions o;
  o.batch_size = 4;
  o.threads = 3;
  o.prefetch = 2;
  BatchSource cpu(Small(), o);
  o.device = c10::Device(c10::kCUDA, 0);
  BatchSource gpu(Small(), o);
  for (int k = 0; k < 200; ++k) {
    const Batch a = cpu.Next();
    const Batch b = gpu.Next();
    ASSERT_TRUE(b.image.is_cuda());
    ASSERT_TRUE(b.target.is_cuda());
    ASSERT_TRUE(b.label.is_cuda());
    EXPECT_EQ(b.first_index, a.first_index);
    ASSERT_TRUE(at::equal(b.image.cpu(), a.image)) << "batch " << k;
    ASSERT_TRUE(at::equal(b.target.cpu(), a.target)) << "batch " << k;
    ASSERT_TRUE(at::equal(b.label.cpu(), a.label)) << "batch " << k;
  }
}

// Runs where there is no CUDA (this project's machines): the refusal names the config key.
TEST(BatchSourceNoCudaTest, CudaWithoutADeviceIsAConfigError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  BatchSourceOptions o;
  o.device = c10::Device(c10::kCUDA, 0);
  try {
    BatchSource source(Small(), o);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "train.device");
  }
}

}  // namespace
}  // namespace rfx::data
