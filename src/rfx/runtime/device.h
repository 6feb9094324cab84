// Device selection, done once from config: "auto" | "cpu" | "cuda" | "cuda:N".
#pragma once
#include <c10/core/Device.h>

#include <string>

namespace rfx {

// Resolves a device spec. "auto" picks CUDA when available, else CPU. Asking for CUDA (or a
// CUDA index) that is not there throws ConfigError for `key`, never falls back silently.
c10::Device ResolveDevice(const std::string& spec, const std::string& key = "train.device");

// CPUs this process may run on (its affinity mask: a Slurm allocation, taskset, a cpuset), at
// least 1.
int HardwareThreads();

// Sets LibTorch's intra-op threads; 0 means all cores. Returns the count set.
int SetTorchThreads(int threads);

}  // namespace rfx
