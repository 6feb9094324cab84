// A gtest fixture that re-seeds LibTorch before every test.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_util.h"

namespace rfx::test {

class SeededTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

}  // namespace rfx::test
