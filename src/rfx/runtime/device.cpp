#include "rfx/runtime/device.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <torch/cuda.h>

#include <thread>

#include "rfx/util/error.h"

namespace rfx {

c10::Device ResolveDevice(const std::string& spec, const std::string& key) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      const std::string digits = spec.substr(5);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
        throw ConfigError(key, "'" + spec + "' is not a device; use auto, cpu, cuda or cuda:N");
      }
      index = std::stoi(digits);
    }
    const int count = static_cast<int>(torch::cuda::device_count());
    if (!torch::cuda::is_available() || count == 0) {
      throw ConfigError(
          key, "'" + spec + "' asks for CUDA but no CUDA device is available; use cpu or auto");
    }
    if (index >= count) {
      throw ConfigError(key, "'" + spec + "' asks for CUDA device " + std::to_string(index) +
                                 " but only " + std::to_string(count) + " exist (0.." +
                                 std::to_string(count - 1) + ")");
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ConfigError(key, "'" + spec + "' is not a device; use auto, cpu, cuda or cuda:N");
}

int HardwareThreads() {
  // The CPUs this process may run on: under Slurm (task/affinity, cgroups), taskset or a
  // container's cpuset that is the allocation, not the whole node.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string ThreadsProblem(int64_t threads) {
  const int64_t max = 4 * static_cast<int64_t>(HardwareThreads());
  if (threads >= 0 && threads <= max) return "";
  return "value " + std::to_string(threads) + " is out of range; allowed 0 (all CPUs) to " +
         std::to_string(max) + " (4x the CPUs this process may use)";
}

int SetTorchThreads(int threads) {
  const int n = threads > 0 ? threads : HardwareThreads();
  at::set_num_threads(n);
  return n;
}

}  // namespace rfx
