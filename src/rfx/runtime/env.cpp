#include "rfx/runtime/env.h"

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <sched.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "rfx/runtime/device.h"
#include "rfx/runtime/host_allocator.h"
#include "rfx/version.h"

// Device names and memory need the CUDA runtime's cudaDeviceProp. LibTorch generates
// ATen/cuda/CUDAConfig.h only in CUDA builds (a CPU build such as Debian's 1.13 ships the other
// ATen/cuda headers without it), and cuda_runtime_api.h is on the include path only where the
// CUDA toolkit is: both present means at::cuda::getDeviceProperties (1.x and 2.x) is usable.
#if __has_include(<ATen/cuda/CUDAConfig.h>) && __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAContext.h>
#define RFX_ENV_CUDA_DETAILS 1
#else
#define RFX_ENV_CUDA_DETAILS 0
#endif

namespace rfx {

const char* HostAllocatorModeName(HostAllocatorMode mode) {
  switch (mode) {
    case HostAllocatorMode::kCaching:
      return "caching";
    case HostAllocatorMode::kDefault:
      return "default";
  }
  return "default";
}

std::string CudaVersionText(long cudart) {
  return std::to_string(cudart / 1000) + "." + std::to_string(cudart % 1000 / 10);
}

std::string CudnnVersionText(long cudnn) {
  const bool v9 = cudnn >= 90000;  // cuDNN 9 counts major·10000 + minor·100 + patch
  const long major = v9 ? cudnn / 10000 : cudnn / 1000;
  const long minor = v9 ? cudnn % 10000 / 100 : cudnn % 1000 / 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(cudnn % 100);
}

std::string FormatCpuList(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

EnvReport CollectEnv() {
  EnvReport r;
  r.rfx_version = RFX_VERSION;
  r.torch_version = TORCH_VERSION;

  // LibTorch's CUDA hooks answer these from compile-time constants, GPU or not; a CPU-only
  // LibTorch has no hooks and throws.
  try {
    r.cuda_built_with = CudaVersionText(at::detail::getCUDAHooks().versionCUDART());
  } catch (const c10::Error&) {
  }
  try {
    r.cudnn_built_with = CudnnVersionText(at::detail::getCUDAHooks().versionCuDNN());
  } catch (const c10::Error&) {
  }
  r.cuda_available = torch::cuda::is_available();
  r.cudnn_available = r.cuda_available && torch::cuda::cudnn_is_available();
  r.cuda_device_count = r.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  r.device_details = RFX_ENV_CUDA_DETAILS != 0;
  for (int i = 0; i < r.cuda_device_count; ++i) {
    CudaDeviceInfo d;
    d.index = i;
#if RFX_ENV_CUDA_DETAILS
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(static_cast<int64_t>(i));
    d.name = p->name;
    d.total_memory = static_cast<int64_t>(p->totalGlobalMem);
    d.major = p->major;
    d.minor = p->minor;
#endif
    r.devices.push_back(d);
  }

  r.cpus_usable = HardwareThreads();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) r.cpu_affinity.push_back(c);
    }
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  r.cpus_online = online > 0 ? static_cast<int>(online) : r.cpus_usable;

  r.torch_intra_op_threads = at::get_num_threads();
  r.torch_inter_op_threads = at::get_num_interop_threads();
  r.host_allocator =
      HostAllocatorInstalled() ? HostAllocatorMode::kCaching : HostAllocatorMode::kDefault;
  return r;
}

nlohmann::json EnvReport::ToJson() const {
  using nlohmann::json;
  json devs = json::array();
  for (const CudaDeviceInfo& d : devices) {
    const bool known = d.total_memory >= 0;
    devs.push_back(
        {{"index", d.index},
         {"name", known ? json(d.name) : json(nullptr)},
         {"total_memory_bytes", known ? json(d.total_memory) : json(nullptr)},
         {"capability",
          known ? json(std::to_string(d.major) + "." + std::to_string(d.minor)) : json(nullptr)}});
  }
  return {{"rfx_version", rfx_version},
          {"torch_version", torch_version},
          {"cuda",
           {{"built_with", cuda_built_with.empty() ? json(nullptr) : json(cuda_built_with)},
            {"cudnn_built_with", cudnn_built_with.empty() ? json(nullptr) : json(cudnn_built_with)},
            {"available", cuda_available},
            {"cudnn", cudnn_available},
            {"device_count", cuda_device_count},
            {"device_details", device_details},
            {"devices", devs}}},
          {"cpu", {{"usable", cpus_usable}, {"affinity", cpu_affinity}, {"online", cpus_online}}},
          {"torch_threads",
           {{"intra_op", torch_intra_op_threads}, {"inter_op", torch_inter_op_threads}}},
          {"host_allocator", HostAllocatorModeName(host_allocator)}};
}

std::string EnvReport::ToText() const {
  std::ostringstream s;
  auto line = [&s](const char* name, const std::string& value) {
    char head[32];
    std::snprintf(head, sizeof head, "%-16s", name);
    s << head << value << "\n";
  };
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  line("rfx", rfx_version);
  line("libtorch", torch_version);
  const std::string built = cuda_built_with.empty() ? " (a CPU-only LibTorch)"
                                                    : " (built with CUDA " + cuda_built_with + ")";
  line("cuda", yes(cuda_available) +
                   (cuda_available ? ", " + std::to_string(cuda_device_count) + " device(s)" : "") +
                   built);
  line("cudnn",
       yes(cudnn_available) +
           (cudnn_built_with.empty() ? "" : " (built with cuDNN " + cudnn_built_with + ")"));
  for (const CudaDeviceInfo& d : devices) {
    std::string v;
    if (d.total_memory >= 0) {
      char mem[64];
      std::snprintf(mem, sizeof mem, ", %.1f GiB, compute %d.%d",
                    static_cast<double>(d.total_memory) / (1024.0 * 1024.0 * 1024.0), d.major,
                    d.minor);
      v = d.name + mem;
    } else {
      v = "name and memory not reachable: this build has no LibTorch CUDA headers";
    }
    line(("  cuda:" + std::to_string(d.index)).c_str(), v);
  }
  if (!cuda_available && !device_details) {
    line("", "(this LibTorch build has no CUDA headers: device names and memory not reachable)");
  }
  line("cpus usable",
       std::to_string(cpus_usable) + " (affinity " + FormatCpuList(cpu_affinity) + ")");
  line("cpus online", std::to_string(cpus_online));
  line("torch threads", std::to_string(torch_intra_op_threads) + " intra-op, " +
                            std::to_string(torch_inter_op_threads) +
                            " inter-op (before train.threads applies)");
  line("host allocator",
       std::string(HostAllocatorModeName(host_allocator)) +
           (host_allocator == HostAllocatorMode::kCaching ? " (rfx's, reuses large blocks)"
                                                          : " (LibTorch's own)"));
  return s.str();
}

}  // namespace rfx
