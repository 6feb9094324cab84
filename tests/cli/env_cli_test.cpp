// End-to-end: `rfx env` through the real executable.
#include <gtest/gtest.h>
#include <sched.h>

#include <nlohmann/json.hpp>

#include "rfx/version.h"
#include "test_util.h"

namespace rfx {
namespace {

const std::string kRfx = rfx::test::RfxExe();

TEST(EnvCliTest, JsonParsesWithTheStableKeys) {
  const auto r = test::RunCommand(kRfx + " env --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rfx_version"], RFX_VERSION);
  EXPECT_TRUE(j["torch_version"].is_string());
  EXPECT_TRUE(j["cuda"]["available"].is_boolean());
  EXPECT_EQ(j["cuda"]["devices"].size(), j["cuda"]["device_count"].get<size_t>());
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(j["cpu"]["usable"].get<int>(), CPU_COUNT(&set)) << "the child inherits our mask";
  EXPECT_GE(j["torch_threads"]["intra_op"].get<int>(), 1);
  EXPECT_GE(j["torch_threads"]["inter_op"].get<int>(), 1);
  EXPECT_EQ(j["host_allocator"], "caching");
}

TEST(EnvCliTest, TextAndTheAllocatorOptOut) {
  const auto r = test::RunCommand("RFX_HOST_ALLOCATOR=system " + kRfx + " env");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* k : {"rfx", "libtorch", "cuda", "cudnn", "cpus usable", "torch threads"}) {
    EXPECT_NE(r.out.find(k), std::string::npos) << k << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("host allocator  default"), std::string::npos) << r.out;
  EXPECT_EQ(test::RunCommand(kRfx + " env --bogus").exit_code, 2);
}

}  // namespace
}  // namespace rfx
