// train.freeze: frozen layers get no gradient and no Adam state and come out of a training
// bit-identical (also across an interrupted and resumed run); entries resolve per arch; bad
// entries are ConfigErrors naming train.freeze.
#include "rfx/nn/freeze.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "rfx/nn/layers_net.h"
#include "rfx/train/model.h"
#include "rfx/train/train.h"
#include "seeded_test.h"
#include "train_fixture.h"

namespace rfx::train {
namespace {

class FreezeTest : public test::SeededTest {};

Config Small(std::vector<std::string> sets) {
  sets.insert(sets.begin(), {"net.skip=none", "train.checkpoint_every=8"});
  return test::SmallTraining(sets);
}

RunOptions Quiet(const std::string& dir) { return test::QuietRun(dir); }

using Params = std::map<std::string, at::Tensor>;

Params Snapshot(nn::Net& net) {
  Params out;
  for (const auto& p : net.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

// The weights a run starts from (PrepareNet with the run's config, as the trainer makes them).
Params Initial(const Config& config) {
  const nn::NetPtr net =
      PrepareNet(config, TrainOptions::FromConfig(config), nn::NetOptions::FromConfig(config),
                 nn::InitOptions::FromConfig(config), c10::Device(c10::kCPU));
  return Snapshot(*net);
}

Params Trained(const std::string& dir) { return Snapshot(*nn::LoadRun(dir).net); }

std::vector<std::string> Frozen(const std::string& arch_sets, const std::string& freeze) {
  std::vector<std::string> sets = {"train.freeze=" + freeze};
  if (!arch_sets.empty()) sets.push_back(arch_sets);
  const Config config = Small(sets);
  const nn::NetPtr net = nn::BuildNet(nn::NetOptions::FromConfig(config));
  return nn::FrozenParameterNames(*net, TrainOptions::FromConfig(config).freeze);
}

std::string FreezeError(const std::vector<std::string>& sets) {
  try {
    const Config config = Small(sets);
    CheckFreeze(config, TrainOptions::FromConfig(config), nn::NetOptions::FromConfig(config));
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "train.freeze") << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST_F(FreezeTest, AFrozenLayerIsBitIdenticalAfterTrainingWhileTheOthersChange) {
  test::TempDir dir;
  const Config config = Small({"train.freeze=[0, convs.2]"});
  const Params before = Initial(config);
  ASSERT_EQ(RunTraining(config, Quiet(dir.path())).status, TrainStatus::kOk);
  const Params after = Trained(dir.path());
  ASSERT_EQ(before.size(), 8u);  // 4 convs, weight and bias
  for (const auto& [name, value] : before) {
    const bool frozen = name.rfind("convs.0.", 0) == 0 || name.rfind("convs.2.", 0) == 0;
    EXPECT_EQ(torch::equal(value, after.at(name)), frozen) << name;
  }
  // Without the key, layer 0 trains.
  test::TempDir plain;
  RunTraining(Small({}), Quiet(plain.path()));
  EXPECT_FALSE(
      torch::equal(before.at("convs.0.weight"), Trained(plain.path()).at("convs.0.weight")));
}

TEST_F(FreezeTest, TheOptimizerHoldsNoStateForFrozenLayers) {
  const Config config = Small({"train.freeze=[1]"});
  const TrainOptions opt = TrainOptions::FromConfig(config);
  const nn::NetPtr net = PrepareNet(config, opt, nn::NetOptions::FromConfig(config),
                                    nn::InitOptions::FromConfig(config), c10::Device(c10::kCPU));
  const auto adam = MakeOptimizer(*net, opt);
  ASSERT_EQ(adam->param_groups().size(), 1u);
  const auto& held = adam->param_groups()[0].params();
  EXPECT_EQ(held.size(), 6u);  // 8 parameters, convs.1.weight and convs.1.bias left out
  for (const auto& p : net->named_parameters()) {
    const bool in_adam = std::any_of(held.begin(), held.end(), [&](const at::Tensor& t) {
      return t.unsafeGetTensorImpl() == p.value().unsafeGetTensorImpl();
    });
    EXPECT_EQ(in_adam, p.key().rfind("convs.1.", 0) != 0) << p.key();
    EXPECT_EQ(p.value().requires_grad(), in_adam) << p.key();
  }
  // One step: state for the 6 trained parameters only; the frozen ones get no gradient.
  const at::Tensor x = torch::rand({2, 1, 32, 32});
  adam->zero_grad();
  net->forward(x).square().mean().backward();
  adam->step();
  EXPECT_EQ(adam->state().size(), 6u);
  EXPECT_FALSE(net->named_parameters()["convs.1.weight"].grad().defined());
  EXPECT_TRUE(net->named_parameters()["convs.0.weight"].grad().defined());
}

TEST_F(FreezeTest, AResumedRunKeepsItsLayersFrozenAndEqualsAnUninterruptedOne) {
  test::TempDir whole, parts;
  const Config config = Small({"train.freeze=[conv1]", "net.arch=layers",
                               "net.layers=[{conv: {out: 8, k: 3, p: same}}, relu, "
                               "{maxpool: {k: 2}}, {conv: {k: 3, p: same}}, "
                               "{upsample: {to: input}}]"});
  const Params before = Initial(config);
  ASSERT_EQ(RunTraining(config, Quiet(whole.path())).status, TrainStatus::kOk);
  RunOptions stop = Quiet(parts.path());
  stop.stop_at_step = 11;  // after the checkpoint of step 8
  ASSERT_EQ(RunTraining(config, stop).status, TrainStatus::kFailed);
  RunOptions resume = Quiet(parts.path());
  resume.resume = true;
  ASSERT_EQ(RunTraining(config, resume).status, TrainStatus::kOk);
  const Params a = Trained(whole.path()), b = Trained(parts.path());
  for (const auto& [name, value] : before) {
    EXPECT_TRUE(torch::equal(a.at(name), b.at(name))) << name;
    EXPECT_EQ(torch::equal(value, b.at(name)), name.rfind("layers.conv1.", 0) == 0) << name;
  }
}

TEST_F(FreezeTest, EntriesResolvePerArch) {
  using V = std::vector<std::string>;
  // fcn: index i and its names; a parameter name; the skip chain by module path.
  EXPECT_EQ(Frozen("", "[3]"), (V{"convs.3.weight", "convs.3.bias"}));
  EXPECT_EQ(Frozen("", "[convs.1, 0]"),
            (V{"convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias"}));
  EXPECT_EQ(Frozen("", "[convs.2.bias]"), (V{"convs.2.bias"}));
  EXPECT_EQ(Frozen("net.skip=input", "[skips.0]"), (V{"skips.0.weight"}));
  // net.arch layers: the item's index or name, nested items by their own name.
  const std::string layers =
      "net.layers=[{conv: {out: 4, k: 3, p: same}}, relu, {residual: [{conv: {out: 4, k: 3, p: "
      "same}}]}, {conv: {k: 1}}]";
  const auto with_layers = [&](const std::string& freeze) {
    const Config config = Small({"net.arch=layers", layers, "train.freeze=" + freeze});
    const nn::NetPtr net = nn::BuildNet(nn::NetOptions::FromConfig(config));
    return nn::FrozenParameterNames(*net, TrainOptions::FromConfig(config).freeze);
  };
  EXPECT_EQ(with_layers("[0]"), (V{"layers.conv1.weight", "layers.conv1.bias"}));
  EXPECT_EQ(with_layers("[2]"),
            (V{"layers.residual3.body.conv4.weight", "layers.residual3.body.conv4.bias"}));
  EXPECT_EQ(with_layers("[conv4]"), with_layers("[2]"));
  EXPECT_EQ(with_layers("[conv5]"), (V{"layers.conv5.weight", "layers.conv5.bias"}));
  EXPECT_EQ(with_layers("[layers.conv1]"), with_layers("[conv1]"));
}

TEST_F(FreezeTest, Resnet50ModuleNames) {
  const nn::NetPtr net = nn::BuildNet(nn::NetOptions::FromConfig(Small({"net.arch=fcn_resnet50"})));
  const auto names = [&](std::vector<nn::LayerRef> refs) {
    return nn::FrozenParameterNames(*net, refs);
  };
  EXPECT_EQ(names({{0, ""}}), std::vector<std::string>{"conv1.weight"});
  EXPECT_EQ(names({{-1, "conv1"}}), std::vector<std::string>{"conv1.weight"});
  EXPECT_EQ(names({{-1, "bn1"}}), (std::vector<std::string>{"bn1.weight", "bn1.bias"}));
  EXPECT_EQ(names({{-1, "layer1.0.conv2"}}), std::vector<std::string>{"layer1.0.conv2.weight"});
  // layer1: 3 bottlenecks of 3 conv weights and 3 BatchNorms (weight, bias), + downsample.
  EXPECT_EQ(names({{3, ""}}).size(), 3u * (3 + 3 * 2) + 1 + 2);
  try {
    names({{-1, "conv2"}});
    FAIL() << "an ambiguous name resolved";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layer1.0.conv2"), std::string::npos) << e.what();
  }
}

TEST_F(FreezeTest, BadEntriesNameTheKeyTheValueAndWhatIsAllowed) {
  std::string e = FreezeError({"train.freeze=[4]"});
  EXPECT_NE(e.find("value 4 is out of range; allowed: 0..3"), std::string::npos) << e;
  EXPECT_NE(e.find("convs.0, convs.1"), std::string::npos) << e;
  e = FreezeError({"train.freeze=[conv9]"});
  EXPECT_NE(e.find("'conv9'"), std::string::npos) << e;
  EXPECT_NE(e.find("convs.0"), std::string::npos) << e;
  e = FreezeError({"train.freeze=[-1]"});
  EXPECT_NE(e.find("-1"), std::string::npos) << e;
  e = FreezeError({"train.freeze=[0, 1, 2, 3]"});
  EXPECT_NE(e.find("nothing would train"), std::string::npos) << e;
  e = FreezeError({"train.freeze=[1]", "net.arch=layers",
                   "net.layers=[{conv: {out: 4, k: 3, p: same}}, relu, {conv: {k: 3, p: same}}]"});
  EXPECT_NE(e.find("relu2"), std::string::npos) << e;
  EXPECT_NE(e.find("no parameters"), std::string::npos) << e;
  e = FreezeError({"train.freeze=[[0]]"});
  EXPECT_NE(e.find("item 0"), std::string::npos) << e;
}

}  // namespace
}  // namespace rfx::train
