// The table / JSON / Graphviz outputs of per-axis tables, and per-axis layer lists.
#include <gtest/gtest.h>

#include "rfx/theory/theory.h"

namespace rfx::theory {
namespace {

// 12×20, k3×5 s1×2 p1×2 then a global layer: height 12 → 12 (r 3, j 1), width 20 → 10
// (r 5, j 2).
Graph PerAxis() {
  Graph g;
  g.Conv("c", Axes(3, 5), Axes(1, 2), Axes(1, 2));
  g.Global("fc");
  return g;
}

TEST(FormatsTest, TablePrintsHxWWhereTheAxesDiffer) {
  const std::string s = FormatTable(Analyze(PerAxis(), Axes(12, 20), "x"));
  EXPECT_NE(s.find("net x, input 12x20: RF 12x20 px, stride 12x20, output 1x1"), std::string::npos)
      << s;
  EXPECT_NE(s.find("k3x5 s1x2 p1x2"), std::string::npos) << s;
  // Row c: n 12x10, r 3x5, r_min 3x5, j 1x2, start 0.5 (both axes agree: one number).
  EXPECT_NE(s.find("12x10        3x5        3x5        1x2        0.5"), std::string::npos) << s;
  EXPECT_NE(s.find("sees everything"), std::string::npos) << s;
  // A square table keeps single numbers.
  const std::string sq = FormatTable(Analyze(Vgg16(), 224, "vgg16"));
  EXPECT_NE(sq.find("RF 212 px, stride 32, output 7x7"), std::string::npos) << sq;
  EXPECT_EQ(sq.find("224x224  "), std::string::npos) << sq;
}

TEST(FormatsTest, JsonGivesPairsOnlyWhereTheAxesDiffer) {
  const nlohmann::json j = ToJson(Analyze(PerAxis(), Axes(12, 20)));
  EXPECT_EQ(j["input"], nlohmann::json::array({12, 20}));
  EXPECT_EQ(j["layers"][1]["n"], nlohmann::json::array({12, 10}));
  EXPECT_EQ(j["layers"][1]["r"], nlohmann::json::array({3, 5}));
  EXPECT_EQ(j["layers"][1]["start"].get<double>(), 0.5);
  EXPECT_EQ(j["layers"][2]["sees_everything"], true);
  EXPECT_EQ(j["rf"], nlohmann::json::array({12, 20}));
  EXPECT_FALSE(j.contains("resolution_range"));
  const ResolutionRange range = FindResolutionRange(Vgg16());
  const nlohmann::json v = ToJson(Analyze(Vgg16(), 224), &range);
  EXPECT_EQ(v["rf"].get<int>(), 212);
  EXPECT_EQ(v["resolution_range"]["min"].get<int>(), 212);
  EXPECT_EQ(v["resolution_range"]["max"].get<int>(), 212);
}

TEST(FormatsTest, DotColoursTheBorderUnproductiveAndGlobalRowsWithALegend) {
  Graph g;
  g.Conv("small", 3, 1, 1);
  g.Conv("big", 9, 1, 4);  // r 11 > 8: the border
  g.Conv("bigger", 3, 1, 1);
  g.Global("fc");
  const std::string dot = FormatDot(Analyze(g, 8));
  EXPECT_EQ(dot.rfind("digraph rfx {", 0), 0u);
  EXPECT_NE(dot.find("subgraph cluster_legend"), std::string::npos);
  EXPECT_NE(dot.find("border layer at input 8: 'big'"), std::string::npos) << dot;
  // Node 1 plain, 2 the border, 3 unproductive, 4 global.
  EXPECT_NE(dot.find("n1 [label=\"small\\nconv k3 s1 p1\\nn=8 r=3 j=1\"];"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n2 [label=\"big\\nconv k9 s1 p4\\nn=8 r=11 j=1\\nBORDER LAYER\", "
                     "fillcolor=\"#ff8080\", penwidth=3, color=\"#b00000\", "
                     "shape=doubleoctagon];"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n3 [label=\"bigger\\nconv k3 s1 p1\\nn=8 r=13 j=1\", "
                     "fillcolor=\"#ff8080\"];"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n4 [label=\"fc\\nglobal\\nn=1 r=8 j=8\\nsees everything\", "
                     "fillcolor=\"#a0c8ff\"];"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n3 -> n4;"), std::string::npos);
  // Every quote is closed: an even number of unescaped quotes.
  int quotes = 0;
  for (size_t i = 0; i < dot.size(); ++i) quotes += dot[i] == '"' && (i == 0 || dot[i - 1] != '\\');
  EXPECT_EQ(quotes % 2, 0);
}

TEST(FormatsTest, LayerListTakesPerAxisValues) {
  Config c;
  c.MergeYaml(
      "theory:\n  layers:\n    - {conv: {k: [3, 5], s: [1, 2], p: [1, 2]}}\n"
      "    - {maxpool: {k: [2, 1]}}\n",
      "t.yaml");
  TheoryOptions o;
  o.input = Axes(12, 20);
  o.format = TheoryFormat::kJson;
  const nlohmann::json j = nlohmann::json::parse(RunTheory(o, c));
  // h: conv n 12 r 3 j 1, pool k2 s2: n 6 r 4 j 2; w: conv n 10 r 5 j 2, pool k1 s1: same.
  EXPECT_EQ(j["layers"][2]["n"], nlohmann::json::array({6, 10}));
  EXPECT_EQ(j["rf"], nlohmann::json::array({4, 5}));
  EXPECT_EQ(j["stride"].get<int>(), 2);
  c.MergeYaml("theory:\n  layers:\n    - {conv: {k: [3, 5, 7]}}\n", "u.yaml");
  try {
    RunTheory(o, c);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "theory.layers[0].conv.k: value [3, 5, 7] is not an integer or [h, w]"),
              std::string::npos)
        << e.what();
  }
}

TEST(FormatsTest, OptionsRejectAZeroSide) {
  TheoryOptions o;
  o.input = Axes(96, 0);
  try {
    o.validate();
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--input"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("96x0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rfx::theory
