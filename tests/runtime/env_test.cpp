// CollectEnv: the report agrees with the OS and LibTorch, and its JSON keys are stable.
#include "rfx/runtime/env.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <torch/cuda.h>

#include "rfx/runtime/host_allocator.h"

namespace rfx {
namespace {

TEST(EnvTest, CpuCountsMatchTheAffinityMask) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const EnvReport r = CollectEnv();
  EXPECT_EQ(r.cpus_usable, CPU_COUNT(&set));
  ASSERT_EQ(static_cast<int>(r.cpu_affinity.size()), CPU_COUNT(&set));
  for (int c : r.cpu_affinity) EXPECT_TRUE(CPU_ISSET(c, &set)) << c;
  EXPECT_GE(r.cpus_online, r.cpus_usable);
}

TEST(EnvTest, ARestrictedMaskIsReported) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const EnvReport r = CollectEnv();
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(r.cpus_usable, 1);
  EXPECT_EQ(r.cpu_affinity, std::vector<int>{first});
  EXPECT_EQ(r.cpus_online, CollectEnv().cpus_online) << "the machine's count does not change";
}

TEST(EnvTest, TorchAndCudaFieldsAgreeWithLibTorch) {
  const EnvReport r = CollectEnv();
  EXPECT_EQ(r.torch_intra_op_threads, at::get_num_threads());
  EXPECT_EQ(r.torch_inter_op_threads, at::get_num_interop_threads());
  EXPECT_EQ(r.cuda_available, torch::cuda::is_available());
  EXPECT_EQ(r.host_allocator == HostAllocatorMode::kCaching, HostAllocatorInstalled());
  EXPECT_FALSE(r.torch_version.empty());
  EXPECT_FALSE(r.rfx_version.empty());
  if (!r.cuda_available) {  // this project's machines: no GPU
    EXPECT_FALSE(r.cudnn_available);
    EXPECT_EQ(r.cuda_device_count, 0);
    EXPECT_TRUE(r.devices.empty());
  } else {
    EXPECT_EQ(r.cuda_device_count, static_cast<int>(torch::cuda::device_count()));
    ASSERT_EQ(static_cast<int>(r.devices.size()), r.cuda_device_count);
    for (const CudaDeviceInfo& d : r.devices) {
      if (r.device_details) {
        EXPECT_FALSE(d.name.empty());
        EXPECT_GT(d.total_memory, 0);
        EXPECT_GE(d.major, 1);
      }
    }
  }
}

TEST(EnvTest, JsonHasTheStableKeys) {
  const nlohmann::json j = CollectEnv().ToJson();
  for (const char* k :
       {"rfx_version", "torch_version", "cuda", "cpu", "torch_threads", "host_allocator"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  for (const char* k : {"built_with", "cudnn_built_with", "available", "cudnn", "device_count",
                        "device_details", "devices"}) {
    EXPECT_TRUE(j["cuda"].contains(k)) << k;
  }
  EXPECT_TRUE(j["cuda"]["available"].is_boolean());
  EXPECT_TRUE(j["cuda"]["devices"].is_array());
  for (const char* k : {"usable", "affinity", "online"}) EXPECT_TRUE(j["cpu"].contains(k)) << k;
  EXPECT_TRUE(j["cpu"]["usable"].is_number_integer());
  EXPECT_TRUE(j["cpu"]["affinity"].is_array());
  EXPECT_TRUE(j["torch_threads"]["intra_op"].is_number_integer());
  EXPECT_TRUE(j["torch_threads"]["inter_op"].is_number_integer());
  const std::string mode = j["host_allocator"].get<std::string>();
  EXPECT_TRUE(mode == "caching" || mode == "default") << mode;
}

TEST(EnvTest, DevicesWithoutDetailsAreNullInJson) {
  EnvReport r;
  r.cuda_available = true;
  r.cuda_device_count = 2;
  CudaDeviceInfo a, b;
  a.name = "GPU A";
  a.total_memory = int64_t{16} << 30;
  a.major = 8;
  a.minor = 6;
  b.index = 1;  // name and memory not reachable
  r.devices = {a, b};
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["cuda"]["devices"][0]["name"], "GPU A");
  EXPECT_EQ(j["cuda"]["devices"][0]["total_memory_bytes"], int64_t{16} << 30);
  EXPECT_EQ(j["cuda"]["devices"][0]["capability"], "8.6");
  EXPECT_TRUE(j["cuda"]["devices"][1]["name"].is_null());
  EXPECT_TRUE(j["cuda"]["devices"][1]["total_memory_bytes"].is_null());
  const std::string text = r.ToText();
  EXPECT_NE(text.find("cuda:0"), std::string::npos) << text;
  EXPECT_NE(text.find("GPU A, 16.0 GiB, compute 8.6"), std::string::npos) << text;
  EXPECT_NE(text.find("not reachable"), std::string::npos) << text;
}

TEST(EnvTest, VersionNumbersReadAsText) {
  EXPECT_EQ(CudaVersionText(13000), "13.0");
  EXPECT_EQ(CudaVersionText(12080), "12.8");
  EXPECT_EQ(CudaVersionText(11070), "11.7");
  EXPECT_EQ(CudnnVersionText(91900), "9.19.0");
  EXPECT_EQ(CudnnVersionText(90100), "9.1.0");
  EXPECT_EQ(CudnnVersionText(8907), "8.9.7");
}

// The CUDA and cuDNN versions compiled in agree with LibTorch's own build summary
// (at::show_config: "CUDA_VERSION=13.0, CUDNN_VERSION=9.19.0" in a CUDA build), GPU or not; a
// CPU-only LibTorch (Debian's 1.13) reports none.
TEST(EnvTest, TheCudaItWasBuiltWithMatchesLibTorchsBuildSummary) {
  const EnvReport r = CollectEnv();
  const std::string config = at::show_config();
  const bool cuda_build = config.find("USE_CUDA=ON") != std::string::npos;
  if (!cuda_build) {
    EXPECT_TRUE(r.cuda_built_with.empty()) << r.cuda_built_with;
    EXPECT_TRUE(r.cudnn_built_with.empty()) << r.cudnn_built_with;
    EXPECT_TRUE(r.ToJson()["cuda"]["built_with"].is_null());
    EXPECT_NE(r.ToText().find("a CPU-only LibTorch"), std::string::npos) << r.ToText();
    return;
  }
  ASSERT_FALSE(r.cuda_built_with.empty());
  EXPECT_NE(config.find("CUDA_VERSION=" + r.cuda_built_with), std::string::npos) << config;
  if (config.find("USE_CUDNN=ON") != std::string::npos) {
    EXPECT_NE(config.find("CUDNN_VERSION=" + r.cudnn_built_with), std::string::npos) << config;
  }
  EXPECT_EQ(r.ToJson()["cuda"]["built_with"], r.cuda_built_with);
  EXPECT_NE(r.ToText().find("built with CUDA " + r.cuda_built_with), std::string::npos);
}

TEST(EnvTest, CpuListsAreRanges) {
  EXPECT_EQ(FormatCpuList({}), "");
  EXPECT_EQ(FormatCpuList({3}), "3");
  EXPECT_EQ(FormatCpuList({0, 1, 2, 5}), "0-2,5");
  EXPECT_EQ(FormatCpuList({0, 2, 4, 5, 6, 7}), "0,2,4-7");
}

}  // namespace
}  // namespace rfx
