// The layer list as a theory graph (theory/layers.cpp): the same specs as nn::LayersNet.
#include <gtest/gtest.h>

#include "rfx/theory/theory.h"

namespace rfx::theory {
namespace {

// The fcn with net.skip none as a layer list (as tests/nn/layers_net_test.cpp builds it).
std::string FcnList(int depth, int width, int kernel) {
  std::string s = "[";
  for (int i = 0; i < depth; ++i) {
    s += "{conv: {";
    if (i + 1 < depth) s += "out: " + std::to_string(width) + ", ";
    s += "k: " + std::to_string(kernel) + ", p: same}}";
    if (i + 1 < depth) s += ", relu, ";
  }
  return s + "]";
}

nlohmann::json Json(const Config& config, int input) {
  TheoryOptions o;
  o.input = input;
  o.format = TheoryFormat::kJson;
  return nlohmann::json::parse(RunTheory(o, config));
}

// Every row's geometry (not its name).
void ExpectSameGeometry(const nlohmann::json& a, const nlohmann::json& b) {
  ASSERT_EQ(a["layers"].size(), b["layers"].size());
  for (size_t i = 0; i < a["layers"].size(); ++i) {
    for (const char* f : {"op", "params", "inputs", "n", "r", "r_min", "j", "start"}) {
      EXPECT_EQ(a["layers"][i][f], b["layers"][i][f]) << "row " << i << " " << f;
    }
  }
  EXPECT_EQ(a["rf"], b["rf"]);
  EXPECT_EQ(a["stride"], b["stride"]);
  EXPECT_EQ(a["border"].is_null(), b["border"].is_null());
}

TEST(TheoryLayersTest, TheFcnAsALayerListHasTheFcnsTable) {
  for (int kernel : {3, 5}) {
    const Config fcn = Config::Load("", {"net.depth=6", "net.width=8", "net.skip=none",
                                         "net.kernel=" + std::to_string(kernel)});
    const Config layers =
        Config::Load("", {"net.arch=layers", "net.layers=" + FcnList(6, 8, kernel)});
    const nlohmann::json a = Json(fcn, 20), b = Json(layers, 20);
    ExpectSameGeometry(a, b);
    EXPECT_EQ(b["rf"].get<int>(), 6 * (kernel - 1) + 1);
    EXPECT_EQ(b["net"], "layers");
  }
  // The residual fcn (blocks of 2 between the first and the last layer) as residual items.
  const Config fcn = Config::Load("", {"net.depth=6", "net.skip=residual", "net.skip_step=2"});
  const Config layers = Config::Load(
      "", {"net.arch=layers",
           "net.layers=[{conv: {out: 4, k: 3, p: same}}, relu,"
           " {residual: [{conv: {out: 4, k: 3, p: same}}, relu, {conv: {out: 4, k: 3, p: same}}]},"
           " relu,"
           " {residual: [{conv: {out: 4, k: 3, p: same}}, relu, {conv: {out: 4, k: 3, p: same}}]},"
           " relu, {conv: {k: 3, p: same}}]"});
  ExpectSameGeometry(Json(fcn, 9), Json(layers, 9));
}

TEST(TheoryLayersTest, ASmallUNetByHand) {
  Config c;
  c.MergeYaml(
      "net:\n  arch: layers\n  layers:\n"
      "    - {conv: {out: 8, k: 3, p: same}}\n    - relu\n"
      "    - {concat: [{maxpool: {k: 2}}, {conv: {out: 8, k: 3, p: same}}, relu,"
      " {upsample: {factor: 2}}]}\n"
      "    - {conv: {k: 3, p: same}}\n",
      "u.yaml");
  const nlohmann::json j = Json(c, 32);
  const auto& l = j["layers"];
  ASSERT_EQ(l.size(), 7u);  // input, conv1, maxpool4, conv5, upsample7, concat3, conv8
  auto row = [&](size_t i, const char* name, int n, double r, double r_min, double jump,
                 double start) {
    EXPECT_EQ(l[i]["name"], name) << i;
    EXPECT_EQ(l[i]["n"].get<int>(), n) << name;
    EXPECT_DOUBLE_EQ(l[i]["r"].get<double>(), r) << name;
    EXPECT_DOUBLE_EQ(l[i]["r_min"].get<double>(), r_min) << name;
    EXPECT_DOUBLE_EQ(l[i]["j"].get<double>(), jump) << name;
    EXPECT_DOUBLE_EQ(l[i]["start"].get<double>(), start) << name;
  };
  row(1, "conv1", 32, 3, 3, 1, 0.5);
  row(2, "maxpool4", 16, 4, 4, 2, 1.0);   // start 0.5 + (1/2 − 0)·1
  row(3, "conv5", 16, 8, 8, 2, 1.0);      // r 4 + 2·2
  row(4, "upsample7", 32, 8, 8, 1, 0.5);  // start 1 + (0.5·0.5 − 0.5)·2
  row(5, "concat3", 32, 8, 3, 1, 0.5);    // the skip (r 3) and the pooled branch (r 8)
  row(6, "conv8", 32, 10, 5, 1, 0.5);
  EXPECT_EQ(l[5]["op"], "concat");
  EXPECT_EQ(l[5]["inputs"], nlohmann::json({1, 4}));  // skip first, as the net concatenates
  EXPECT_TRUE(j["warnings"].empty()) << j["warnings"].dump();
}

TEST(TheoryLayersTest, EveryKindBecomesItsNode) {
  const auto specs = nn::ParseLayerList(
      YAML::Load("[{conv: {out: 4, k: [3, 5], p: same}}, batchnorm, relu,"
                 " {conv_transpose: {out: 4, k: 4, s: 2, p: 1}}, {maxpool: {k: 3, p: 1, d: 2}},"
                 " {avgpool: {k: 2, ceil: true}}, {adaptive_avgpool: {size: [4, 6]}},"
                 " {upsample: {to: input, mode: bilinear}},"
                 " {residual: {body: [identity], shortcut: [{conv: {out: 4, k: 1}}]}}]"),
      "theory.layers");
  const Graph g = FromLayerSpecs(specs, "theory.layers");
  const auto& n = g.layers();
  ASSERT_EQ(n.size(), 9u);
  EXPECT_EQ(n[1].op, Op::kConv);
  EXPECT_EQ(n[1].k, Axes(3, 5));
  EXPECT_EQ(n[1].p, Axes(1, 2));
  EXPECT_EQ(n[2].op, Op::kConvTranspose);  // batchnorm and relu add no node
  EXPECT_EQ(n[2].name, "conv_transpose4");
  EXPECT_EQ(n[2].s, Axes(2));
  EXPECT_EQ(n[3].op, Op::kMaxPool);
  EXPECT_EQ(n[3].d, Axes(2));
  EXPECT_EQ(n[3].s, Axes(3));
  EXPECT_EQ(n[4].op, Op::kAvgPool);
  EXPECT_TRUE(n[4].ceil_mode);
  EXPECT_EQ(n[5].op, Op::kAdaptiveAvgPool);
  EXPECT_EQ(n[5].size, Axes(4, 6));
  EXPECT_EQ(n[6].op, Op::kUpsample);
  EXPECT_EQ(n[6].size_of, 0);
  EXPECT_TRUE(n[6].bilinear);
  EXPECT_EQ(n[7].op, Op::kConv);  // the shortcut, from the upsample
  EXPECT_EQ(n[7].inputs, std::vector<int>{6});
  EXPECT_EQ(n[8].op, Op::kAdd);  // body (the identity: the upsample itself) + shortcut
  EXPECT_EQ(n[8].inputs, (std::vector<int>{6, 7}));
  // A 20×30 input: the per-axis kernel gives 3 × 5.
  const Table t = Analyze(g, Axes(20, 30));
  EXPECT_EQ(t.rows[1].h.r, 3);
  EXPECT_EQ(t.rows[1].w.r, 5);
  EXPECT_EQ(t.rows[6].h.n, 20);
  EXPECT_EQ(t.rows[6].w.n, 30);
}

TEST(TheoryLayersTest, ErrorsNameTheListThePathAndTheOrigin) {
  Config c;
  c.MergeYaml(
      "theory:\n  layers:\n    - {conv: {k: 3, p: same}}\n    - {conv: {k: 3, s: 2, p: same}}\n",
      "t.yaml");
  TheoryOptions o;
  o.input = 32;
  try {
    RunTheory(o, c);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "theory.layers");
    EXPECT_EQ(e.where().rfind("t.yaml", 0), 0u) << e.where();
    EXPECT_NE(std::string(e.what()).find("theory.layers[1].conv.p: 'same' needs stride 1"),
              std::string::npos)
        << e.what();
  }
  try {
    RunTheory(o, Config::Load("", {"net.arch=layers"}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "net.layers");
    EXPECT_NE(std::string(e.what()).find("non-empty"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rfx::theory
