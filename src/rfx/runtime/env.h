// What this process runs on (`rfx env`): versions, CUDA devices, the CPUs it may use, LibTorch's
// thread pools and the host allocator. The first thing to look at on a new (GPU) box.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rfx {

// Which allocator LibTorch's CPU tensors come from (see host_allocator.h).
enum class HostAllocatorMode {
  kCaching,  // rfx's caching allocator (the rfx programs install it at start-up)
  kDefault,  // LibTorch's own (RFX_HOST_ALLOCATOR=system, or a program that never installed it)
};
const char* HostAllocatorModeName(HostAllocatorMode mode);  // "caching" | "default"

struct CudaDeviceInfo {
  int index = 0;
  std::string name;            // e.g. "NVIDIA A100-SXM4-40GB"; empty when not reachable
  int64_t total_memory = -1;   // bytes; -1 when not reachable
  int major = -1, minor = -1;  // compute capability; -1 when not reachable
};

struct EnvReport {
  std::string rfx_version;    // RFX_VERSION
  std::string torch_version;  // TORCH_VERSION, e.g. "1.13.0"

  // The CUDA runtime and cuDNN this LibTorch was built with ("13.0", "9.19.0"), read without a
  // GPU; empty for a CPU-only LibTorch.
  std::string cuda_built_with;
  std::string cudnn_built_with;

  bool cuda_available = false;   // torch::cuda::is_available()
  bool cudnn_available = false;  // torch::cuda::cudnn_is_available()
  int cuda_device_count = 0;     // torch::cuda::device_count() when available, else 0
  // Whether this build can read device names and memory (needs LibTorch's CUDA headers and the
  // CUDA runtime's at compile time); when false, `devices` has only indices.
  bool device_details = false;
  std::vector<CudaDeviceInfo> devices;  // one per CUDA device

  int cpus_usable = 0;            // HardwareThreads(): the affinity mask (Slurm, taskset, cpuset)
  std::vector<int> cpu_affinity;  // the CPU ids in that mask, ascending
  int cpus_online = 0;            // the machine's online CPUs (sysconf)

  int torch_intra_op_threads = 0;  // at::get_num_threads()
  int torch_inter_op_threads = 0;  // at::get_num_interop_threads()

  HostAllocatorMode host_allocator = HostAllocatorMode::kDefault;

  // Stable keys: rfx_version, torch_version, cuda {built_with, cudnn_built_with, available,
  // cudnn, device_count, device_details, devices [{index, name, total_memory_bytes,
  // capability}]}, cpu {usable,
  // affinity, online}, torch_threads {intra_op, inter_op}, host_allocator. Unknown device
  // fields are null.
  nlohmann::json ToJson() const;
  // A few aligned "name: value" lines for people.
  std::string ToText() const;
};

// Reads the report. Never throws for a missing GPU; with CUDA it initialises the CUDA runtime.
EnvReport CollectEnv();

// CUDART_VERSION as "major.minor" (13000 -> "13.0"); cuDNN's version number as "a.b.c" (9.x:
// 91900 -> "9.19.0"; 8.x and older: 8907 -> "8.9.7").
std::string CudaVersionText(long cudart);
std::string CudnnVersionText(long cudnn);

// CPU ids as ranges: {0,1,2,5} -> "0-2,5".
std::string FormatCpuList(const std::vector<int>& cpus);

}  // namespace rfx
