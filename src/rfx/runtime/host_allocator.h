// rfx's allocator for CPU tensors: keeps freed large blocks and hands them out again.
//
// Why: a training step frees and re-allocates the same few dozen multi-megabyte activations
// every step. glibc returns such blocks to the kernel (mmap/munmap, heap trimming), so every
// step page-faults each of them in again, zero-filled: on this project's VM 22,000 faults per
// step of the paper's net, and the step 1.3× slower (bench/RESULTS.md). Blocks of 256 KiB or
// more are kept here by rounded size (2 MiB multiples, transparent huge pages advised) and
// reused; smaller ones go to malloc, whose arenas already reuse them.
//
// Process-wide and opt-in: the programs call InstallHostAllocator() once at start-up (before
// any other thread runs); library code never installs it. RFX_HOST_ALLOCATOR=system in the
// environment keeps LibTorch's default allocator.
#pragma once
#include <cstdint>

namespace rfx {

// Makes the caching allocator LibTorch's CPU allocator. Idempotent; not thread-safe (call it
// from main before starting threads). Returns false when RFX_HOST_ALLOCATOR=system or when
// another allocator with a higher priority is installed.
bool InstallHostAllocator();

// Whether InstallHostAllocator() took effect.
bool HostAllocatorInstalled();

// Turns reuse on (default) or off. Off: the cache is emptied and every block comes from malloc
// and goes back to it, exactly as with LibTorch's default allocator; `rfx bench train` uses it
// to measure its baseline in the same process. Safe to flip at any time, from any thread.
void SetHostCaching(bool on);

struct HostAllocatorStats {
  int64_t large_allocations = 0;  // requests served with a large block (>= 256 KiB)
  int64_t reused = 0;             // ... of which came from the cache
  int64_t cached_bytes = 0;       // free blocks held now
  int64_t in_use_bytes = 0;       // large blocks handed out and not yet freed
  int64_t peak_in_use_bytes = 0;  // the most in_use_bytes has been
};
HostAllocatorStats GetHostAllocatorStats();

// Returns every cached free block to the kernel.
void ReleaseCachedHostMemory();

// Largest total of cached free blocks; beyond it the oldest are returned to the kernel.
// Default: a quarter of physical memory. The cache also never holds more than the most large
// memory the process has had in use at once (at least 256 MiB), so it at most doubles a
// footprint and, in a training loop, holds just one step's blocks.
void SetHostCacheLimit(int64_t bytes);

}  // namespace rfx
