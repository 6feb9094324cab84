// End-to-end: `rfx probe forward|gradient --model F.pt` through the real executable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rfx/util/files.h"
#include "test_util.h"
#include "traced_models.h"

namespace rfx {
namespace {

const std::string kRfx = rfx::test::RfxExe();

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
  // The traced stack of 8 convs (weights 0.01), one row per layer by default (its one child
  // `convs` is a Sequential: its children convs.0 … convs.7), against rfx's fcn of depths 1 … 8
  // with the same init: the analytic RF (2N+1, as `rfx theory --model` gives per row), the
  // impulse radius and the gradient-ERF radius agree, row for row.
  test::TempDir dir;
  const std::string png = dir / "compare.png";
  auto r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                            " --size 41 --samples 4 --bootstrap 50 --set train.device=cpu "
                            "--format json --plot " +
                            png);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = nlohmann::json::parse(r.out)["rows"];
  EXPECT_GT(ReadFile(png).size(), 10000u);  // scripts/plot_compare.py drew the layer rows
  r = test::RunCommand(kRfx +
                       " probe compare --set init.scheme=constant --set net.skip=none "
                       "--depths 1:8 --size 41 --samples 4 --bootstrap 50 --set train.device=cpu "
                       "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto f = nlohmann::json::parse(r.out)["rows"];
  r = test::RunCommand(kRfx + " theory --model " + models / "convs8" + " --input 41 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto theory = nlohmann::json::parse(r.out)["layers"];
  ASSERT_EQ(m.size(), 8u);
  ASSERT_EQ(f.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    const std::string name = "convs." + std::to_string(i);
    EXPECT_EQ(m[i]["label"], name);
    EXPECT_EQ(m[i]["analytic_rf"].get<double>(), 2.0 * (i + 1) + 1);
    for (const auto& row : theory) {
      if (row["name"] == name) {
        EXPECT_EQ(m[i]["analytic_rf"].get<double>(), row["r"].get<double>());
      }
    }
    EXPECT_EQ(m[i]["analytic_rf"], f[i]["analytic_rf"]);
    EXPECT_EQ(m[i]["impulse_radius"], f[i]["impulse_radius"]);
    EXPECT_EQ(m[i]["impulse_jump"].get<double>(), 1);
    EXPECT_EQ(m[i]["erf_radius"], f[i]["erf_radius"]);
    EXPECT_EQ(m[i]["erf_radius"].get<int>(), std::min<int>(i + 2, 8));  // clipped by level
    ASSERT_EQ(m[i]["erf_radius_ci"].size(), 2u);
    EXPECT_LE(m[i]["erf_radius_ci"][0].get<double>(), m[i]["erf_radius"].get<double>());
    EXPECT_GE(m[i]["erf_radius_ci"][1].get<double>(), m[i]["erf_radius"].get<double>());
  }
  // --nodes picks rows; --node one (the analytic row of the third conv: RF 7).
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --nodes convs.1,convs.5 --size 41 --samples 2 --bootstrap 0 "
                       "--set train.device=cpu --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nconvs.1,,5,2,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nconvs.5,,13,6,"), std::string::npos) << r.out;
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --node convs.2 --size 41 --samples 2 --set train.device=cpu "
                       "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["rows"].size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(r.out)["rows"][0]["analytic_rf"].get<double>(), 7);
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --depths 1:3 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--depths"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --nodes convs.1,nope --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--nodes: 'nope'"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe compare --model " + models / "convs8" +
                       " --nodes convs.1 --node convs.2 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--nodes and --node"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe compare --nodes convs.1 --set train.device=cpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--nodes applies to --model"), std::string::npos) << r.err;
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

// Regression: rfx's own model.pt (weights, no TorchScript code) given to --model exited 1
// with "Method 'forward' is not defined." and a 14-line c10 backtrace. Exit 2 saying what the
// file is and what to pass instead.
TEST(ProbeModelCliTest, ARunsModelPtSaysToPassTheRun) {
  test::TempDir dir;
  const std::string run = dir / "run";
  const auto t = test::RunCommand(kRfx + " train" + test::kTinyTrain + " --out " + run);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string model = run + "/model.pt";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" theory --model " + model + " --input 32", "pass --config " + run + "/config.yaml"},
      {" probe forward --model " + model + " --size 33 --position 16,16 --set train.device=cpu",
       "pass --config " + run +
           "/config.yaml (its architecture; rfx probe gradient also takes "
           "--checkpoint " +
           run},
      {" probe compare --model " + model + " --size 33 --set train.device=cpu",
       "pass --config " + run + "/config.yaml"}};
  for (const auto& [args, instead] : cases) {
    const auto r = test::RunCommand(kRfx + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("has no forward method"), std::string::npos) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("it is the weights of the rfx run " + run + ": " + instead),
              std::string::npos)
        << args << "\n"
        << r.err;
    EXPECT_EQ(r.err.find("frame #"), std::string::npos) << "a C++ backtrace:\n" << r.err;
  }
}

}  // namespace
}  // namespace rfx
