// The `cuda` suite (ctest -L cuda): real GPU tests. Each skips, saying why, where LibTorch sees
// no CUDA device, so the suite builds and passes on the CPU-only machines too.
#pragma once
#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <string>
#include <vector>

#include "seeded_test.h"

namespace rfx::test {

// Why CUDA cannot be used here, or "" when it can.
inline std::string NoCudaReason() {
  if (!torch::cuda::is_available()) {
    return std::string("no CUDA device: torch::cuda::is_available() is false (LibTorch ") +
           TORCH_VERSION + "; a CPU-only build, or no driver or GPU)";
  }
  if (torch::cuda::device_count() < 1) return "no CUDA device: torch::cuda::device_count() is 0";
  return "";
}

// Skips the test unless a CUDA device is there; re-seeds LibTorch like SeededTest.
class CudaTest : public SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    const std::string why = NoCudaReason();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

// TF32 off for cuDNN while it lives, for tests that compare GPU numbers with CPU ones (Ampere
// and later run float32 convolutions in TF32 by default: ~1e-3 relative error per layer).
class NoTf32 {
 public:
  NoTf32() : was_(at::globalContext().allowTF32CuDNN()) {
    at::globalContext().setAllowTF32CuDNN(false);
  }
  ~NoTf32() { at::globalContext().setAllowTF32CuDNN(was_); }
  NoTf32(const NoTf32&) = delete;
  NoTf32& operator=(const NoTf32&) = delete;

 private:
  bool was_;
};

// A config small enough for a few seconds of training: depth-4 fcn on 32² samples.
inline std::vector<std::string> TinyRunSets(const std::string& device, int steps) {
  return {"net.depth=4",
          "net.width=8",
          "dataset.image_size=32",
          "dataset.glyph_scale=0.5",
          "dataset.distance=4",
          "dataset.threads=2",
          "train.steps=" + std::to_string(steps),
          "train.batch_size=8",
          "train.eval_samples=64",
          "train.log_every=10",
          "train.checkpoint_every=0",
          "train.threads=2",
          "train.device=" + device};
}

}  // namespace rfx::test
