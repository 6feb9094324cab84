// rfx profile: one row per layer of the net; the rows add up to the separately timed step
// within the 15%; a frozen first layer on an input that needs no gradient has no
// backward and no optimizer time.
#include "rfx/train/profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "seeded_test.h"

namespace rfx::train {
namespace {

class ProfileTest : public test::SeededTest {};

Config Small(std::vector<std::string> sets) {
  std::vector<std::string> all = {"dataset.image_size=64", "dataset.distance=7", "net.depth=4",
                                  "net.skip=none",         "train.device=cpu",   "train.threads=1"};
  all.insert(all.end(), sets.begin(), sets.end());
  return Config::Load("", all);
}

ProfileOptions Steps(int steps) {
  ProfileOptions o;
  o.steps = steps;
  o.warmup = 2;
  return o;
}

TEST_F(ProfileTest, TheRowsAddUpToTheStepWithin15Percent) {
  // Medians of 15 steps: stable enough on a loaded machine for the 15%.
  const ProfileResult r = RunProfile(Small({}), Steps(15));
  ASSERT_EQ(r.layers.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const ProfileRow& row = r.layers[i];
    EXPECT_EQ(row.name, "convs." + std::to_string(i));
    EXPECT_GT(row.forward_ms, 0) << row.name;
    EXPECT_GT(row.backward_ms, 0) << row.name;
    EXPECT_GT(row.optimizer_ms, 0) << row.name;
    EXPECT_FALSE(row.frozen);
  }
  // 1→16, 16→16, 16→16, 16→2 3×3 convs with bias.
  EXPECT_EQ(r.layers[0].parameters, 16 * 9 + 16);
  EXPECT_EQ(r.layers[1].parameters, 16 * 16 * 9 + 16);
  EXPECT_EQ(r.layers[3].parameters, 2 * 16 * 9 + 2);
  EXPECT_EQ(r.height, 64);
  EXPECT_GT(r.step_ms, 0);
  EXPECT_LT(std::abs(r.gap()), 0.15) << "rows " << r.sum_ms() << " ms, step " << r.step_ms;
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["layers"].size(), 4u);
  EXPECT_DOUBLE_EQ(j["sum_ms"].get<double>(), r.sum_ms());
  EXPECT_EQ(j["input"], nlohmann::json({1, 64, 64}));
}

TEST_F(ProfileTest, AFrozenFirstLayerHasNoBackwardAndNoOptimizerTime) {
  const ProfileResult plain = RunProfile(Small({}), Steps(3));
  const ProfileResult frozen = RunProfile(Small({"train.freeze=[0]"}), Steps(3));
  EXPECT_GT(plain.layers[0].backward_ms, 0);
  EXPECT_TRUE(frozen.layers[0].frozen);
  EXPECT_EQ(frozen.layers[0].backward_ms, 0);  // its output needs no gradient: no backward node
  EXPECT_EQ(frozen.layers[0].optimizer_ms, 0);
  EXPECT_GT(frozen.layers[1].backward_ms, 0);  // layer 1 still computes its weight gradient
  EXPECT_EQ(frozen.layers[0].parameters, plain.layers[0].parameters);
}

TEST_F(ProfileTest, LayerListsAndOtherInputSizes) {
  ProfileOptions o = Steps(2);
  o.input_hw = {24, 40};
  const ProfileResult r =
      RunProfile(Small({"net.arch=layers",
                        "net.layers=[{conv: {out: 8, k: 3, p: same}}, relu, {maxpool: {k: 2}}, "
                        "{conv: {k: 3, p: same}}, {upsample: {to: input}}]"}),
                 o);
  ASSERT_EQ(r.layers.size(), 5u);
  EXPECT_EQ(r.layers[0].name, "conv1");
  EXPECT_EQ(r.layers[2].name, "maxpool3");
  EXPECT_EQ(r.layers[2].parameters, 0);
  EXPECT_EQ(r.layers[2].optimizer_ms, 0);
  EXPECT_GT(r.layers[2].backward_ms, 0);  // the pool's backward is timed like a layer's
  EXPECT_EQ(r.height, 24);
  EXPECT_EQ(r.width, 40);
}

}  // namespace
}  // namespace rfx::train
