// End-to-end: `rfx probe forward|gradient --model F.pt` through the real executable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "traced_models.h"

namespace rfx {
namespace {

const std::string kRfx = RFX_EXE;

TEST(ProbeModelCliTest, TracedConvStackGivesTheFcnsRadius) {
  const auto& models = test::TracedCached("convs8");
  RFX_REQUIRE_TRACED(models);
  // 8 traced 3×3 convs, weights 0.01, against rfx's fcn of depth 8 with the same init.
  auto r = test::RunCommand(kRfx + " probe forward --model " + models / "convs8" +
                            " --size 97 --set train.device=cpu --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int model = nlohmann::json::parse(r.out)["radii"][0]["radius"].get<int>();
  r = test::RunCommand(kRfx +
                       " probe forward --set init.scheme=constant --set net.skip=none "
                       "--set net.depth=8 --size 97 --set train.device=cpu --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(model, nlohmann::json::parse(r.out)["radii"][0]["radius"].get<int>());
  EXPECT_GT(model, 4);
  // --node: the output of the third conv, the radius of a depth-3 fcn.
  r = test::RunCommand(kRfx + " probe forward --model " + models / "convs8" +
                       " --node convs.2 --size 97 --set train.device=cpu --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int node = nlohmann::json::parse(r.out)["radii"][0]["radius"].get<int>();
  r = test::RunCommand(kRfx +
                       " probe forward --set init.scheme=constant --set net.skip=none "
                       "--depths 3 --size 97 --set train.device=cpu --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(node, nlohmann::json::parse(r.out)["radii"][0]["radius"].get<int>());
}

TEST(ProbeModelCliTest, CompareAModelWithTheFcnItEquals) {
  const auto& models = test::TracedCached("convs8");
  RFX_REQUIRE_TRACED(models);
  // The traced stack of 8 convs (weights 0.01) against rfx's fcn of depth 8 with the same init:
  // the analytic RF (17), the impulse radius and the gradient-ERF radius agree, row for row.
  auto r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                            " --size 41 --samples 4 --bootstrap 50 --set train.device=cpu "
                            "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = nlohmann::json::parse(r.out)["rows"][0];
  r = test::RunCommand(kRfx +
                       " probe compare --set init.scheme=constant --set net.skip=none "
                       "--depths 8 --size 41 --samples 4 --bootstrap 50 --set train.device=cpu "
                       "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto f = nlohmann::json::parse(r.out)["rows"][0];
  EXPECT_EQ(m["analytic_rf"].get<double>(), 17);
  EXPECT_EQ(m["analytic_rf"], f["analytic_rf"]);
  EXPECT_EQ(m["impulse_radius"], f["impulse_radius"]);
  EXPECT_EQ(m["erf_radius"], f["erf_radius"]);
  ASSERT_EQ(m["erf_radius_ci"].size(), 2u);
  EXPECT_LE(m["erf_radius_ci"][0].get<double>(), m["erf_radius"].get<double>());
  EXPECT_GE(m["erf_radius_ci"][1].get<double>(), m["erf_radius"].get<double>());
  // --node: the analytic row of the third conv (RF 7) and its probes.
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --node convs.2 --size 41 --samples 2 --set train.device=cpu "
                       "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["rows"][0]["analytic_rf"].get<double>(), 7);
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --depths 1:3 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--depths"), std::string::npos) << r.err;
}

TEST(ProbeModelCliTest, GradientAndErrors) {
  const auto& models = test::TracedCached("convs8");
  RFX_REQUIRE_TRACED(models);
  test::TempDir dir;
  auto r = test::RunCommand(kRfx + " probe gradient --model " + models / "convs8" +
                            " --input-shape 1,41,41 --samples 2 --set train.device=cpu --out " +
                            dir.path() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["width"].get<int>(), 41);
  EXPECT_NE(j["source"].get<std::string>().find("convs8.pt"), std::string::npos);
  r = test::RunCommand(kRfx + " probe forward --model " + models / "convs8" +
                       " --input-shape 3,x,9 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--input-shape '3,x,9'"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe forward --model " + models / "convs8" +
                       " --input-shape 3,33,33 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);  // the stack takes 1 channel
  EXPECT_NE(r.err.find("check --input-shape"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe forward --node convs.1 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--node applies to --model"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rfx
