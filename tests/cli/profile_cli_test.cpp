// End-to-end: `rfx profile` prints its table and JSON; bad flags and bad train.freeze entries
// (in rfx profile and rfx train) exit 2 naming the flag or the key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace rfx {
namespace {

const std::string kExe = rfx::test::RfxExe();
const std::string kSmall =
    " --set dataset.image_size=32 --set net.depth=3 --set train.device=cpu --set train.threads=1";

TEST(ProfileCli, PrintsATableAndJson) {
  auto r = test::RunCommand(kExe + " profile" + kSmall + " --steps 2 --warmup 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("convs.2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step measured separately"), std::string::npos) << r.out;
  r = test::RunCommand(kExe + " profile" + kSmall +
                       " --set train.freeze=[0] --steps 2 --warmup 0 --input-shape 12,20 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 3u);
  EXPECT_EQ(j["layers"][0]["frozen"], true);
  EXPECT_EQ(j["layers"][0]["backward_ms"], 0.0);
  EXPECT_EQ(j["input"], nlohmann::json({1, 12, 20}));
  for (const char* key : {"step_ms", "sum_ms", "layers_ms", "gap"}) {
    EXPECT_TRUE(j[key].is_number()) << key;
  }
}

TEST(ProfileCli, BadFlagsAndFreezeEntriesExitTwo) {
  for (const auto& [args, name] : std::vector<std::pair<std::string, std::string>>{
           {"--steps 0", "--steps"},
           {"--warmup -1", "--warmup"},
           {"--input-shape 12", "--input-shape"},
           {"--input-shape 0,5", "--input-shape"},
           {"--set train.freeze=[7]", "train.freeze"},
           {"--set train.freeze=[nosuch]", "train.freeze"},
       }) {
    const auto r = test::RunCommand(kExe + " profile" + kSmall + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << args << ": " << r.err;
  }
  test::TempDir dir;
  for (const std::string set : {"train.freeze=[4]", "train.freeze=[conv9]", "train.freeze=[-2]"}) {
    const auto r = test::RunCommand(kExe + " train" + test::kTinyTrain + " --set " + set +
                                    " --out " + dir / "run");
    EXPECT_EQ(r.exit_code, 2) << set << ": " << r.err;
    EXPECT_NE(r.err.find("train.freeze"), std::string::npos) << set << ": " << r.err;
  }
  EXPECT_FALSE(test::RunCommand("test -e " + dir / "run").exit_code == 0)
      << "a refused freeze left a run directory";
}

}  // namespace
}  // namespace rfx
