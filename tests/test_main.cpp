#include <gtest/gtest.h>

#if RFX_TEST_TORCH
#include "rfx/runtime/host_allocator.h"
#endif

int main(int argc, char** argv) {
#if RFX_TEST_TORCH
  // Torch suites run with the allocator the rfx programs use.
  rfx::InstallHostAllocator();
#endif
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
