// rfx's caching host allocator, installed by the tests' main as by the rfx programs.
#include "rfx/runtime/host_allocator.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

namespace rfx {
namespace {

class HostAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HostAllocatorInstalled()) GTEST_SKIP() << "RFX_HOST_ALLOCATOR=system";
    SetHostCaching(true);
  }
  void TearDown() override {
    SetHostCaching(true);
    SetHostCacheLimit(int64_t{1} << 32);
  }
};

int64_t MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

TEST_F(HostAllocatorTest, ReusesAFreedBlockOfTheSameSize) {
  const HostAllocatorStats before = GetHostAllocatorStats();
  const void* first = nullptr;
  {
    at::Tensor t = at::full({3, 1000, 1000}, 2.5f);  // 12 MB
    first = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  const HostAllocatorStats freed = GetHostAllocatorStats();
  EXPECT_GE(freed.cached_bytes, 12'000'000);
  at::Tensor again = at::empty({3, 1000, 1000});
  EXPECT_EQ(again.data_ptr(), first);
  again.fill_(-1.0f);
  EXPECT_EQ(again.sum().item<double>(), -3e6);
  const HostAllocatorStats after = GetHostAllocatorStats();
  EXPECT_EQ(after.large_allocations - before.large_allocations, 2);
  EXPECT_EQ(after.reused - before.reused, 1);
  EXPECT_GE(after.in_use_bytes - before.in_use_bytes, 12'000'000);
}

TEST_F(HostAllocatorTest, SmallTensorsBypassTheCache) {
  const HostAllocatorStats before = GetHostAllocatorStats();
  for (int i = 0; i < 100; ++i) {
    at::Tensor t = at::arange(1000, at::kFloat);  // 4 KB
    ASSERT_EQ(t.sum().item<double>(), 499500.0);
  }
  EXPECT_EQ(GetHostAllocatorStats().large_allocations, before.large_allocations);
}

// The point of it: a re-allocated, re-written block costs no page faults; without the cache
// every allocation of 64 MB faults its pages in again (at least one per 2 MB huge page).
TEST_F(HostAllocatorTest, ReusedBlocksDoNotFaultAgain) {
  auto faults_per_round = [](int rounds) {
    { at::empty({16 << 20}).fill_(1.0f); }  // warm
    const int64_t f0 = MinorFaults();
    for (int i = 0; i < rounds; ++i) at::empty({16 << 20}).fill_(static_cast<float>(i));
    return static_cast<double>(MinorFaults() - f0) / rounds;
  };
  const double cached = faults_per_round(10);
  SetHostCaching(false);
  const double plain = faults_per_round(10);
  SetHostCaching(true);
  EXPECT_LT(cached, 4.0);
  EXPECT_GE(plain, 32.0);
}

TEST_F(HostAllocatorTest, CachingOffEmptiesTheCacheAndServesFromMalloc) {
  { at::Tensor t = at::empty({1 << 20}); }
  EXPECT_GT(GetHostAllocatorStats().cached_bytes, 0);
  SetHostCaching(false);
  EXPECT_EQ(GetHostAllocatorStats().cached_bytes, 0);
  const int64_t n = GetHostAllocatorStats().large_allocations;
  {
    at::Tensor t = at::full({1 << 20}, 3.0f);
    EXPECT_EQ(t.sum().item<double>(), 3.0 * (1 << 20));
  }
  EXPECT_EQ(GetHostAllocatorStats().large_allocations, n);
  EXPECT_EQ(GetHostAllocatorStats().cached_bytes, 0);
}

TEST_F(HostAllocatorTest, TheLimitEvictsTheOldestBlocks) {
  ReleaseCachedHostMemory();
  SetHostCacheLimit(20 << 20);
  {
    at::Tensor a = at::empty({2 << 20});  // 8 MiB
    at::Tensor b = at::empty({3 << 20});  // 12 MiB
    at::Tensor c = at::empty({4 << 20});  // 16 MiB
  }
  // Freed in reverse order (c, b, a): c is the oldest and goes first; b + a fit.
  EXPECT_EQ(GetHostAllocatorStats().cached_bytes, 20 << 20);
  SetHostCacheLimit(10 << 20);
  EXPECT_LE(GetHostAllocatorStats().cached_bytes, 10 << 20);
  SetHostCacheLimit(0);
  EXPECT_EQ(GetHostAllocatorStats().cached_bytes, 0);
}

// Sizes that never repeat (a probe scan): the cache stays within the process's peak use (or
// 256 MiB) however much passes through it.
TEST_F(HostAllocatorTest, EverChangingSizesDoNotGrowTheCacheBeyondThePeak) {
  for (int i = 0; i < 40; ++i) {
    at::Tensor t = at::empty({(4 + i) << 20});  // 16 MiB, 20 MiB, ... 172 MiB: 3.6 GiB in all
    t.fill_(1.0f);
  }
  const HostAllocatorStats s = GetHostAllocatorStats();
  EXPECT_GE(s.peak_in_use_bytes, int64_t{172} << 20);
  EXPECT_LE(s.cached_bytes, std::max(s.peak_in_use_bytes, int64_t{256} << 20));
  EXPECT_GT(s.cached_bytes, 0);
}

TEST_F(HostAllocatorTest, ThreadsAllocatingAndFreeingKeepTheBooksAndTheData) {
  const int64_t in_use = GetHostAllocatorStats().in_use_bytes;
  std::vector<std::thread> threads;
  std::vector<int> errors(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &errors] {
      std::mt19937 rng(t);
      std::vector<at::Tensor> held;
      for (int i = 0; i < 300; ++i) {
        const int64_t n = (64 << 10) + static_cast<int64_t>(rng() % (1 << 20));
        const float value = static_cast<float>(t * 1000 + i);
        held.push_back(at::full({n}, value));
        if (held.size() > 3) {
          const at::Tensor& old = held.front();
          const float v = old.data_ptr<float>()[0];
          if (old.min().item<float>() != v || old.max().item<float>() != v) ++errors[t];
          held.erase(held.begin());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
  EXPECT_EQ(GetHostAllocatorStats().in_use_bytes, in_use);
}

}  // namespace
}  // namespace rfx
