#include "rfx/runtime/host_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/util/Exception.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace rfx {

namespace {

constexpr size_t kLarge = size_t{256} << 10;  // smaller requests go to malloc
constexpr size_t kHuge = size_t{2} << 20;     // transparent huge page size on x86-64
constexpr size_t kAlignment = 64;             // what LibTorch's CPU kernels expect

size_t RoundUp(size_t n) {
  const size_t grain = n >= kHuge ? kHuge : size_t{64} << 10;
  return (n + grain - 1) / grain * grain;
}

// A fresh block of `size` bytes from the kernel, 2 MiB aligned when it is that large, so the
// kernel can back it with huge pages (fewer faults and TLB misses).
void* MapBlock(size_t size) {
  const size_t align = size >= kHuge ? kHuge : static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t span = size + align;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (begin + align - 1) / align * align;
  if (aligned > begin) munmap(raw, aligned - begin);
  const uintptr_t end = begin + span, used_end = aligned + size;
  if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  if (size >= kHuge) madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

struct FreeBlock {
  void* ptr;
  size_t size;
};

class HostCache {
 public:
  HostCache() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    limit_ = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page / 4 : int64_t{1} << 32;
  }

  void* Allocate(size_t n) {
    if (n == 0) return nullptr;
    // Small blocks, and every block while caching is off (the baseline): plain malloc, exactly
    // as LibTorch's default allocator does.
    if (n < kLarge || !caching_.load(std::memory_order_relaxed)) {
      void* p = nullptr;
      if (posix_memalign(&p, kAlignment, n) != 0) p = nullptr;
      TORCH_CHECK(p != nullptr, "rfx host allocator: out of memory allocating ", n, " bytes");
      return p;
    }
    const size_t size = RoundUp(n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++large_allocations_;
      auto it = by_size_.find(size);
      if (it != by_size_.end() && !it->second.empty()) {
        const auto node = it->second.back();
        it->second.pop_back();
        void* p = node->ptr;
        free_list_.erase(node);
        cached_ -= static_cast<int64_t>(size);
        in_use_ += static_cast<int64_t>(size);
        peak_in_use_ = std::max(peak_in_use_, in_use_);
        live_[p] = size;
        ++reused_;
        return p;
      }
    }
    void* p = MapBlock(size);
    if (p == nullptr) {
      // Out of address space or memory: give the cache back and try once more.
      ReleaseAll();
      p = MapBlock(size);
    }
    TORCH_CHECK(p != nullptr, "rfx host allocator: out of memory allocating ", n, " bytes");
    std::lock_guard<std::mutex> lock(mu_);
    live_[p] = size;
    in_use_ += static_cast<int64_t>(size);
    peak_in_use_ = std::max(peak_in_use_, in_use_);
    return p;
  }

  void Free(void* p) {
    if (p == nullptr) return;
    std::vector<FreeBlock> unmap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto it = live_.find(p);
      if (it == live_.end()) {
        std::free(p);  // a block from posix_memalign
        return;
      }
      const size_t size = it->second;
      live_.erase(it);
      in_use_ -= static_cast<int64_t>(size);
      const int64_t limit = EffectiveLimit();
      if (!caching_.load(std::memory_order_relaxed) || static_cast<int64_t>(size) > limit) {
        unmap.push_back({p, size});
      } else {
        TrimLocked(limit - static_cast<int64_t>(size), &unmap);  // room for this one
        free_list_.push_back({p, size});
        by_size_[size].push_back(std::prev(free_list_.end()));
        cached_ += static_cast<int64_t>(size);
      }
    }
    for (const FreeBlock& b : unmap) munmap(b.ptr, b.size);
  }

  void ReleaseAll() {
    std::vector<FreeBlock> unmap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      TrimLocked(0, &unmap);
    }
    for (const FreeBlock& b : unmap) munmap(b.ptr, b.size);
  }

  void SetCaching(bool on) {
    caching_.store(on, std::memory_order_relaxed);
    if (!on) ReleaseAll();
  }

  void SetLimit(int64_t bytes) {
    std::vector<FreeBlock> unmap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      limit_ = std::max<int64_t>(0, bytes);
      TrimLocked(EffectiveLimit(), &unmap);
    }
    for (const FreeBlock& b : unmap) munmap(b.ptr, b.size);
  }

  HostAllocatorStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    HostAllocatorStats s;
    s.large_allocations = large_allocations_;
    s.reused = reused_;
    s.cached_bytes = cached_;
    s.in_use_bytes = in_use_;
    s.peak_in_use_bytes = peak_in_use_;
    return s;
  }

 private:
  // Caller holds mu_. The cache never holds more than the most the process has had in use
  // at once (at least kFloor): a training step's blocks all fit, and a workload whose sizes keep
  // changing (a probe scan) cannot more than double its footprint.
  int64_t EffectiveLimit() const { return std::min(limit_, std::max(peak_in_use_, kFloor)); }

  // Caller holds mu_. Takes the oldest free blocks out of the cache until at most `bytes` are
  // cached; the caller unmaps them after unlocking.
  void TrimLocked(int64_t bytes, std::vector<FreeBlock>* unmap) {
    while (cached_ > bytes && !free_list_.empty()) {
      const FreeBlock b = free_list_.front();
      auto& same = by_size_[b.size];
      same.erase(std::find(same.begin(), same.end(), free_list_.begin()));
      free_list_.pop_front();
      cached_ -= static_cast<int64_t>(b.size);
      unmap->push_back(b);
    }
  }

  std::mutex mu_;
  std::atomic<bool> caching_{true};
  std::unordered_map<void*, size_t> live_;  // large blocks handed out
  std::list<FreeBlock> free_list_;          // cached blocks, oldest first
  std::unordered_map<size_t, std::vector<std::list<FreeBlock>::iterator>> by_size_;
  static constexpr int64_t kFloor = int64_t{256} << 20;
  int64_t limit_ = 0, cached_ = 0, in_use_ = 0, peak_in_use_ = 0, large_allocations_ = 0,
          reused_ = 0;
};

// Never destroyed: tensors may be freed during static destruction.
HostCache& Cache() {
  static HostCache* cache = new HostCache();
  return *cache;
}

void FreeHostBlock(void* p) { Cache().Free(p); }

// The LibTorch interface. LibTorch 2.3 made allocate() non-const and added copy_data(); both
// signatures are declared (without `override`) so the class compiles against 1.13 and 2.x.
class CachingHostAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const { return Make(n); }
  c10::DataPtr allocate(size_t n) { return Make(n); }
  c10::DeleterFnPtr raw_deleter() const { return &FreeHostBlock; }
  void copy_data(void* dest, const void* src, std::size_t count) const {
    if (count > 0) std::memcpy(dest, src, count);
  }

 private:
  static c10::DataPtr Make(size_t n) {
    void* p = Cache().Allocate(n);
    return {p, p, &FreeHostBlock, c10::Device(c10::DeviceType::CPU)};
  }
};

bool g_installed = false;

}  // namespace

bool InstallHostAllocator() {
  if (g_installed) return true;
  const char* env = std::getenv("RFX_HOST_ALLOCATOR");
  if (env != nullptr && std::string(env) == "system") return false;
  static CachingHostAllocator* allocator = new CachingHostAllocator();
  c10::SetAllocator(c10::DeviceType::CPU, allocator, /*priority=*/1);
  g_installed = c10::GetAllocator(c10::DeviceType::CPU) == allocator;
  return g_installed;
}

bool HostAllocatorInstalled() { return g_installed; }

void SetHostCaching(bool on) { Cache().SetCaching(on); }

HostAllocatorStats GetHostAllocatorStats() { return Cache().Stats(); }

void ReleaseCachedHostMemory() { Cache().ReleaseAll(); }

void SetHostCacheLimit(int64_t bytes) { Cache().SetLimit(bytes); }

}  // namespace rfx
