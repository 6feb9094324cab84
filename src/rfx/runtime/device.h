// Device selection, done once from config: "auto" | "cpu" | "cuda" | "cuda:N".
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

namespace rfx {

// Resolves a device spec. "auto" picks CUDA when available, else CPU. Asking for CUDA (or a
// CUDA index) that is not there throws ConfigError for `key`, never falls back silently.
c10::Device ResolveDevice(const std::string& spec, const std::string& key = "train.device");

// CPUs this process may run on (its affinity mask: a Slurm allocation, taskset, a cpuset), at
// least 1.
int HardwareThreads();

// Whether `threads` intra-op threads (0 = all CPUs) may be asked for: at most 4x
// HardwareThreads() (more only oversubscribes; 100000 started ~1000 threads and kept going).
// "" when allowed, else "value N is out of range; allowed 0 (all CPUs) to M (...)"; train.threads
// and every --threads flag check through this.
std::string ThreadsProblem(int64_t threads);

// Sets LibTorch's intra-op threads; 0 means all cores. Returns the count set.
int SetTorchThreads(int threads);

}  // namespace rfx
