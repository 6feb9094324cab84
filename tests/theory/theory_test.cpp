#include "rfx/theory/theory.h"

#include <gtest/gtest.h>

#include "rfx/util/error.h"

namespace rfx::theory {
namespace {

const Row& Find(const Table& t, const std::string& name) {
  for (const Row& r : t.rows) {
    if (r.name == name) {
      EXPECT_TRUE(r.square()) << name;  // square nets on square inputs: both axes agree
      return r;
    }
  }
  throw std::runtime_error("no row " + name);
}

TEST(TheoryTest, Vgg16Is212AtPool5) {
  const Table t = Analyze(Vgg16(), 224, "vgg16");
  EXPECT_EQ(t.rows.back().name, "pool5");
  EXPECT_DOUBLE_EQ(t.rf(), 212);
  EXPECT_DOUBLE_EQ(t.stride(), 32);
  EXPECT_EQ(t.rows.back().h.n, 7);
  for (const Row& r : t.rows) EXPECT_TRUE(r.square()) << r.name;
  // Intermediate values of the classic table.
  EXPECT_DOUBLE_EQ(Find(t, "pool1").h.r, 6);
  EXPECT_DOUBLE_EQ(Find(t, "pool2").h.r, 16);
  EXPECT_DOUBLE_EQ(Find(t, "pool3").h.r, 44);
  EXPECT_DOUBLE_EQ(Find(t, "pool4").h.r, 100);
  EXPECT_DOUBLE_EQ(Find(t, "conv5_3").h.r, 196);
}

TEST(TheoryTest, DesignTableRowByRow) {
  Graph g;
  g.Conv("a", 3, 1, 1);
  g.Conv("b", 3, 2, 0);
  g.Conv("c", 3, 1, 0);
  g.Conv("d", 3, 2, 1);
  g.Conv("e", 3, 1, 1);
  g.Conv("f", 3, 2, 0);
  g.Conv("g", 3, 1, 0);
  const Table t = Analyze(g, 32);
  const int64_t n[] = {32, 32, 15, 13, 7, 7, 3, 1};
  const double r[] = {1, 3, 5, 9, 13, 21, 29, 45};
  const double j[] = {1, 1, 2, 2, 4, 4, 8, 8};
  ASSERT_EQ(t.rows.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(t.rows[i].h.n, n[i]);
    EXPECT_DOUBLE_EQ(t.rows[i].h.r, r[i]);
    EXPECT_DOUBLE_EQ(t.rows[i].h.j, j[i]);
  }
  // start: 0.5, then +((k−1)/2 − p)·j_in per layer.
  EXPECT_DOUBLE_EQ(t.rows[1].h.start, 0.5);
  EXPECT_DOUBLE_EQ(t.rows[2].h.start, 1.5);
  EXPECT_DOUBLE_EQ(t.rows[3].h.start, 3.5);
  EXPECT_DOUBLE_EQ(t.rows[4].h.start, 3.5);
}

TEST(TheoryTest, DilationWidensTheKernel) {
  Graph g;
  g.Conv("dil", 3, 1, 2, 2);
  Table t = Analyze(g, 16);
  EXPECT_DOUBLE_EQ(t.rf(), 5);
  EXPECT_EQ(t.rows.back().h.n, 16);  // padding d keeps the size
  EXPECT_DOUBLE_EQ(t.rows.back().h.start, 0.5);
  g.Conv("dil4", 3, 1, 0, 4);
  t = Analyze(g, 16);
  EXPECT_DOUBLE_EQ(t.rf(), 13);
  EXPECT_EQ(t.rows.back().h.n, 8);
}

TEST(TheoryTest, FcnDepthNIs2NPlus1) {
  for (int depth : {1, 2, 7, 16, 48}) {
    for (nn::SkipKind skip : {nn::SkipKind::kNone, nn::SkipKind::kInput, nn::SkipKind::kResidual}) {
      SCOPED_TRACE(std::to_string(depth) + " " + nn::SkipKindText(skip));
      const Table t = Analyze(Fcn(depth, 3, skip, 4), 128);
      EXPECT_DOUBLE_EQ(t.rf(), 2 * depth + 1);
      EXPECT_DOUBLE_EQ(t.stride(), 1);
      EXPECT_EQ(t.rows.back().h.n, 128);
      EXPECT_TRUE(t.warnings.empty());
    }
  }
  // Kernel 5: 4N + 1.
  EXPECT_DOUBLE_EQ(Analyze(Fcn(10, 5, nn::SkipKind::kNone, 4), 64).rf(), 41);
  // The input skip keeps a 1-px path, so its smallest RF stays 1; the plain stack's is 2N+1.
  EXPECT_DOUBLE_EQ(Analyze(Fcn(10, 3, nn::SkipKind::kInput, 4), 64).rows.back().h.r_min, 1);
  EXPECT_DOUBLE_EQ(Analyze(Fcn(10, 3, nn::SkipKind::kNone, 4), 64).rows.back().h.r_min, 21);
}

TEST(TheoryTest, ClassicNets) {
  EXPECT_DOUBLE_EQ(Analyze(AlexNet(), 224).rf(), 195);
  EXPECT_EQ(Analyze(AlexNet(), 224).rows.back().h.n, 6);
  const Table r18 = Analyze(ResNet(18), 224);
  EXPECT_DOUBLE_EQ(r18.rf(), 435);
  EXPECT_DOUBLE_EQ(r18.stride(), 32);
  EXPECT_EQ(r18.rows.back().h.n, 7);
  EXPECT_TRUE(r18.warnings.empty()) << r18.warnings[0];
  EXPECT_DOUBLE_EQ(Analyze(ResNet(34), 224).rf(), 899);
  const Table r50 = Analyze(ResNet(50), 224);
  EXPECT_DOUBLE_EQ(r50.rf(), 427);
  EXPECT_TRUE(r50.warnings.empty());
  // Smallest RF of ResNet-18: every block skipped, only the stem and the strided shortcuts.
  EXPECT_DOUBLE_EQ(r18.rows.back().h.r_min, 1 + 6 + 2 * 2);
}

TEST(TheoryTest, FcnResNet50DilatesAndUpsamples) {
  const Table t = Analyze(FcnResNet50(), 512);
  EXPECT_DOUBLE_EQ(Find(t, "layer4.2.add").h.j, 8);  // output stride 8
  EXPECT_EQ(Find(t, "layer4.2.add").h.n, 64);
  EXPECT_EQ(t.rows.back().h.n, 512);
  EXPECT_DOUBLE_EQ(t.stride(), 1);
  EXPECT_TRUE(t.warnings.empty());
  // layer3: 5 dilated 3×3 (d2) at jump 8 after one plain block; layer4: d2 then d4 twice.
  // Stem 7 → pool 11 (jump 4); layer1 3×(+2·4) = 35; layer2 +2·4 then 3×(+2·8) = 91 (jump 8);
  // layer3 +2·8 + 5·(2·2·8), layer4 +2·2·8 + 2·(2·4·8), head +2·8, bilinear upsampling +8.
  EXPECT_DOUBLE_EQ(Find(t, "layer1.2.add").h.r, 35);
  EXPECT_DOUBLE_EQ(Find(t, "layer2.3.add").h.r, 91);
  const double layer4 = 91 + 16 + 5 * 32 + 32 + 2 * 64;
  EXPECT_DOUBLE_EQ(Find(t, "layer4.2.add").h.r, layer4);
  EXPECT_DOUBLE_EQ(t.rf(), layer4 + 16 + 8);
}

TEST(TheoryTest, MisalignedMergeIsReportedNotFatal) {
  Graph g;
  const int x = g.last();
  const int a = g.Conv("strided", 3, 2, 1, 1, x);
  const int b = g.Conv("plain", 5, 1, 0, 1, x);
  g.Add("merge", {a, b});
  const Table t = Analyze(g, 32);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_NE(t.warnings[0].find("jumps 2 vs 1"), std::string::npos) << t.warnings[0];
  EXPECT_NE(t.warnings[0].find("sizes 16 vs 28"), std::string::npos) << t.warnings[0];
  EXPECT_DOUBLE_EQ(t.rf(), 5);  // the largest input RF
  EXPECT_DOUBLE_EQ(t.rows.back().h.r_min, 3);
}

TEST(TheoryTest, UpsamplingDividesTheJump) {
  Graph g;
  g.Conv("down", 2, 2, 0);
  g.Conv("down2", 2, 2, 0);
  g.Upsample("up", 2, false);
  Table t = Analyze(g, 16);
  EXPECT_DOUBLE_EQ(t.stride(), 2);
  EXPECT_EQ(t.rows.back().h.n, 8);
  EXPECT_DOUBLE_EQ(t.rf(), 4);
  g.Upsample("up2", 2, true);
  t = Analyze(g, 16);
  EXPECT_DOUBLE_EQ(t.stride(), 1);
  EXPECT_DOUBLE_EQ(t.rf(), 6);  // bilinear reads two units 2 px apart
}

TEST(TheoryTest, UnproductiveLayersAndBorder) {
  // VGG16 on 100 px: smallest RF first exceeds 100 at pool4 (r 100 is not > 100; conv5_1 132).
  const Table t = Analyze(Vgg16(), 100);
  ASSERT_GE(t.border, 0);
  EXPECT_EQ(t.rows[t.border].name, "conv5_1");
  EXPECT_FALSE(Find(t, "pool4").unproductive);
  EXPECT_TRUE(Find(t, "pool5").unproductive);
  EXPECT_FALSE(Find(t, "pool5").border);
  const std::string dot = FormatDot(t);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("BORDER LAYER"), std::string::npos);
  EXPECT_NE(dot.find("#ff8080"), std::string::npos);
  EXPECT_EQ(Analyze(Vgg16(), 224).border, -1);
}

TEST(TheoryTest, JsonHasTheContractKeys) {
  const nlohmann::json j = ToJson(Analyze(Vgg16(), 224, "vgg16"));
  EXPECT_EQ(j["rf"].get<int>(), 212);
  EXPECT_EQ(j["stride"].get<int>(), 32);
  ASSERT_EQ(j["layers"].size(), 19u);  // input + 13 convs + 5 pools
  EXPECT_EQ(j["layers"][1]["name"], "conv1_1");
  EXPECT_EQ(j["layers"][1]["n"].get<int>(), 224);
  EXPECT_EQ(j["layers"][1]["r"].get<int>(), 3);
  EXPECT_EQ(j["layers"][1]["j"].get<int>(), 1);
  EXPECT_DOUBLE_EQ(j["layers"][1]["start"].get<double>(), 0.5);
}

TEST(TheoryTest, LayerListFromConfig) {
  Config c;
  c.MergeYaml(
      "theory:\n  layers:\n    - {conv: {k: 3, s: 1, p: 1}}\n    - {maxpool: {k: 2}}\n"
      "    - {residual: [{conv: {k: 3, p: 1}}, {conv: {k: 3, p: 1}}]}\n"
      "    - {residual: {body: [{conv: {k: 3, s: 2, p: 1}}], shortcut: [{conv: {k: 1, s: 2}}]}}\n"
      "    - {upsample: {factor: 2, mode: nearest}}\n",
      "t.yaml");
  TheoryOptions o;
  o.input = 32;
  o.format = TheoryFormat::kJson;
  const nlohmann::json j = nlohmann::json::parse(RunTheory(o, c));
  // 3 → (pool ×2) 4 → +2·2·2 = 12 → +2·2 = 16 → up (jump 4 → 2).
  EXPECT_EQ(j["rf"].get<int>(), 16);
  EXPECT_EQ(j["stride"].get<int>(), 2);
  EXPECT_TRUE(j["warnings"].empty()) << j["warnings"].dump();
  EXPECT_EQ(j["layers"].back()["n"].get<int>(), 16);
}

TEST(TheoryTest, BadLayerListNamesTheItem) {
  Config c;
  c.MergeYaml("theory:\n  layers:\n    - {conv: {k: 3}}\n    - {convv: {k: 3}}\n", "t.yaml");
  TheoryOptions o;
  o.input = 32;
  try {
    RunTheory(o, c);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "theory.layers");
    EXPECT_NE(std::string(e.what()).find("theory.layers[1]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("maxpool"), std::string::npos) << e.what();
  }
}

TEST(TheoryTest, OptionsValidateNamesTheFlag) {
  TheoryOptions o;
  o.input = 0;
  EXPECT_THROW(o.validate(), UsageError);
  o.input = 10;
  try {
    ParseNamedNet("vgg19");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--net 'vgg19'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("resnet50"), std::string::npos);
  }
  // Every net's text reads back to it.
  for (NamedNet net : kNamedNets) EXPECT_EQ(ParseNamedNet(NamedNetText(net)), net);
  o.net = ParseNamedNet("vgg16");
  o.model = "m.pt";
  EXPECT_THROW(o.validate(), UsageError);  // --net and --model are exclusive
  o.model.clear();
  EXPECT_THROW(ParseTheoryFormat("svg"), UsageError);
  EXPECT_EQ(ParseTheoryFormat("dot"), TheoryFormat::kDot);
  o.format = TheoryFormat::kDot;
  EXPECT_NO_THROW(o.validate());
}

TEST(TheoryTest, TooSmallInputGivesEmptyLayersNotACrash) {
  const Table t = Analyze(AlexNet(), 40);
  EXPECT_EQ(t.rows.back().h.n, 0);
  EXPECT_FALSE(t.warnings.empty());
}

}  // namespace
}  // namespace rfx::theory
