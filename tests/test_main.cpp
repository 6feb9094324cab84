#include <gtest/gtest.h>

#include "rfx/util/host_allocator.h"

// Tests run with the allocator the rfx programs use.
int main(int argc, char** argv) {
  rfx::InstallHostAllocator();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
