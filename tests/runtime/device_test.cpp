#include "rfx/runtime/device.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace rfx {
namespace {

// Under a Slurm allocation or taskset only some CPUs are ours: "all cores" means those.
TEST(DeviceTest, HardwareThreadsCountsTheCpusWeMayRunOn) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(HardwareThreads(), CPU_COUNT(&saved));
  EXPECT_LE(HardwareThreads(), static_cast<int>(std::thread::hardware_concurrency()));
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int n = HardwareThreads();
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace rfx
