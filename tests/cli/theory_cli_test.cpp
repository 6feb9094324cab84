// End-to-end: `rfx theory` through the real executable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rfx/util/files.h"
#include "test_util.h"
#include "traced_models.h"

namespace rfx {
namespace {

const std::string kRfx = rfx::test::RfxExe();

TEST(TheoryCliTest, Vgg16Json) {
  const auto r = test::RunCommand(kRfx + " theory --net vgg16 --input 224 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rf"].get<int>(), 212);
  EXPECT_EQ(j["stride"].get<int>(), 32);
  EXPECT_EQ(j["layers"].back()["name"], "pool5");
  EXPECT_EQ(j["layers"].back()["n"].get<int>(), 7);
}

TEST(TheoryCliTest, FcnFromSetAndTable) {
  auto r = test::RunCommand(kRfx +
                            " theory --set net.depth=5 --set net.skip=none --input 64 "
                            "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["rf"].get<int>(), 11);
  r = test::RunCommand(kRfx + " theory --net resnet18 --input 224");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("RF 435 px, stride 32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("layer4.1.add"), std::string::npos);
}

TEST(TheoryCliTest, LayerListConfigAndDot) {
  test::TempDir dir;
  WriteFileAtomic(dir / "l.yaml",
                  "theory:\n  layers:\n    - {conv: {k: 3, s: 2, p: 1}}\n"
                  "    - {conv: {k: 3, d: 2, p: 2}}\n    - {maxpool: {k: 2}}\n");
  auto r =
      test::RunCommand(kRfx + " theory --config " + dir / "l.yaml" + " --input 8 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rf"].get<int>(), 3 + 2 * 2 * 2 + 1 * 2);  // 13
  EXPECT_EQ(j["stride"].get<int>(), 4);
  EXPECT_EQ(j["border"], "conv2");  // 11 > 8 from the second layer on
  r = test::RunCommand(kRfx + " theory --config " + dir / "l.yaml" + " --input 8 --format dot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph", 0), 0u);
  EXPECT_NE(r.out.find("BORDER LAYER"), std::string::npos);
  EXPECT_NE(r.out.find("n2 -> n3"), std::string::npos);
}

// The dot output renders: Graphviz's `dot -Tpng` takes resnet18's graph at input 96 (border
// layer layer4.0.conv2, one more unproductive layer) and writes a PNG.
TEST(TheoryCliTest, DotRendersWithGraphviz) {
  if (test::RunCommand("command -v dot").exit_code != 0) {
    GTEST_SKIP() << "Graphviz's `dot` is not installed (scripts/setup.sh installs graphviz)";
  }
  test::TempDir dir;
  auto r = test::RunCommand(kRfx + " theory --net resnet18 --input 96 --format dot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("layer4.0.conv2\\nconv k3 s1 p1\\nn=3 r=307 r_min=107 j=32\\nBORDER LAYER"),
            std::string::npos);
  WriteFileAtomic(dir / "r18.dot", r.out);
  r = test::RunCommand("dot -Tpng " + dir / "r18.dot" + " -o " + dir / "r18.png");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string png = ReadFile(dir / "r18.png");
  ASSERT_GT(png.size(), 10000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST(TheoryCliTest, BadFlagsExit2NamingTheFlag) {
  auto r = test::RunCommand(kRfx + " theory --net vgg19 --input 224");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--net 'vgg19'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("alexnet"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " theory --net vgg16 --input 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--input"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " theory --net vgg16 --input 224 --format svg");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("table, json, dot"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " theory --input 224");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--net"), std::string::npos) << r.err;
}

TEST(TheoryCliTest, NonSquareInput) {
  const auto r = test::RunCommand(kRfx + " theory --net vgg16 --input 96x128 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input"], nlohmann::json::array({96, 128}));
  EXPECT_EQ(j["rf"].get<int>(), 212);  // the same kernels on both axes
  EXPECT_EQ(j["layers"].back()["n"], nlohmann::json::array({3, 4}));
  // conv5_1's r 132 exceeds 96 and 128: the border on both axes.
  EXPECT_EQ(j["border"], "conv5_1");
}

TEST(TheoryCliTest, BadInputExits2NamingTheFlag) {
  for (const char* bad : {"12y", "0x5", "96x", "1.5", "96x128x3"}) {
    SCOPED_TRACE(bad);
    const auto r = test::RunCommand(kRfx + " theory --net vgg16 --input=" + std::string(bad));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--input '" + std::string(bad) + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("96x128"), std::string::npos) << r.err;  // what is allowed
  }
}

// Regression: six 4096x upsamples of 10^6 printed -9223372036854775808x... and "empty
// output", exit 0. Sizes past 2^46 are refused naming the layer.
TEST(TheoryCliTest, SizesThatWouldOverflowAreRefused) {
  std::string layers = "[";
  for (int i = 0; i < 6; ++i) layers += std::string(i ? ", " : "") + "{upsample: {factor: 4096}}";
  layers += "]";
  const auto r = test::RunCommand(kRfx + " theory --set 'theory.layers=" + layers +
                                  "' --input 1000000 --format json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("makes the height"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("more than rfx follows (2^46 = 70368744177664)"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("-9223372036854775808"), std::string::npos) << r.out;
  // Two of them on 1000 px stay within range: 1000·4096² = 16777216000 units.
  const auto ok = test::RunCommand(
      kRfx +
      " theory --set 'theory.layers=[{upsample: {factor: 4096}}, {upsample: {factor: 4096}}]' "
      "--input 1000 --format json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("16777216000"), std::string::npos) << ok.out;
}

TEST(TheoryCliTest, ResolutionRange) {
  auto r = test::RunCommand(kRfx + " theory --net vgg16 --input 100 --resolution-range");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("border layer at input 100: 'conv5_1'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("every layer productive from 212 px"), std::string::npos) << r.out;
  r = test::RunCommand(kRfx + " theory --net alexnet --input 224 --resolution-range --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["resolution_range"]["min"].get<int>(), 195);
  EXPECT_EQ(j["resolution_range"]["max"].get<int>(), 195);
  EXPECT_TRUE(j["border"].is_null());
}

TEST(TheoryCliTest, TorchScriptModel) {
  const auto& models = test::TracedCached("convs4 roll");
  RFX_REQUIRE_TRACED(models);
  auto r = test::RunCommand(kRfx + " theory --model " + models / "convs4" +
                            " --input 32x24 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rf"].get<int>(), 9);  // 4 × 3×3
  EXPECT_EQ(j["net"], "convs4.pt");
  EXPECT_EQ(j["layers"].back()["name"], "convs.3");
  // An op the theory cannot reason about: exit 2 naming it and the model.
  r = test::RunCommand(kRfx + " theory --model " + models / "roll" + " --input 32");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("aten::roll"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--model " + models / "roll"), std::string::npos) << r.err;
  // --model is the whole description: not with --net or a config.
  r = test::RunCommand(kRfx + " theory --model " + models / "convs4" + " --net vgg16 --input 32");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model is exclusive with --net"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " theory --model " + models / "convs4" +
                       " --set net.depth=3 --input 32");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model is exclusive with --config/--set"), std::string::npos) << r.err;
}

TEST(TheoryCliTest, MissingModelFileExits2NamingTheFlag) {
  test::TempDir dir;
  auto r = test::RunCommand(kRfx + " theory --model " + dir / "nope.pt" + " --input 32");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model " + dir / "nope.pt" + ": cannot open it"), std::string::npos)
      << r.err;
  WriteFileAtomic(dir / "text.pt", "hello\n");
  r = test::RunCommand(kRfx + " theory --model " + dir / "text.pt" + " --input 32");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot load it as a TorchScript file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rfx
