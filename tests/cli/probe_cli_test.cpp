// End-to-end: `rfx probe forward|gradient` and `rfx bench probe` through the real executable.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

const std::string kRfx = rfx::test::RfxExe();

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
const std::string kSmall =
    " --set train.device=cpu --set train.threads=1 --set net.skip=none --set net.width=4";

// --position: the output pixel read by both probes; bad values exit 2 naming the flag, the value
// and the range.
TEST(ProbeCliTest, PositionFlag) {
  test::TempDir dir;
  auto r = test::RunCommand(kRfx + " probe forward" + kSmall +
                            " --set init.scheme=constant --set net.depth=4 --size 33"
                            " --position 2,20 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["position"], nlohmann::json::array({2, 20}));
  EXPECT_EQ(j["input_position"], nlohmann::json::array({2, 20}));
  EXPECT_EQ(j["radii"][0]["radius"].get<int>(), 5);  // the trinomial of 4: 19 16 10 4 1, then 0
  EXPECT_EQ(j["radii"][0]["extent"]["up"]["radius"].get<int>(), 3);  // rows 2, 1, 0
  EXPECT_EQ(j["radii"][0]["extent"]["up"]["clipped"], true);
  r = test::RunCommand(kRfx + " probe forward" + kSmall +
                       " --set init.scheme=constant --set net.depth=4 --size 33 --position 2,20");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("output pixel 2,20 of 33×33, input pixel 2,20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("up 3+"), std::string::npos) << r.out;
  r = test::RunCommand(kRfx + " probe gradient" + kSmall +
                       " --set init.scheme=constant --set net.depth=3 --size 33 --samples 2"
                       " --bootstrap 0 --position 10,12 --json --out " +
                       dir / "g");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input_position"], nlohmann::json::array({10, 12}));
  EXPECT_EQ(j["radius"].get<int>(), 4);
  EXPECT_NEAR(j["centre"]["x"].get<double>(), 12, 1e-4);
  r = test::RunCommand(kRfx + " probe forward" + kSmall + " --size 33 --position 40,1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--position 40,1 is outside the 33×33 output map; allowed: ROW 0 … 32"),
            std::string::npos)
      << r.err;
  r = test::RunCommand(kRfx + " probe forward" + kSmall + " --size 33 --position 4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--position '4'"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe gradient" + kSmall +
                       " --size 33 --position 4,4 --replknet"
                       " --out " +
                       dir / "x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--position cannot be combined with --replknet"), std::string::npos)
      << r.err;
}

TEST(ProbeCliTest, ForwardScanJsonAndCsv) {
  test::TempDir dir;
  const auto r = test::RunCommand(kRfx + " probe forward" + kSmall +
                                  " --set init.scheme=constant --size 31 --depths 1:4 --level 0.2"
                                  " --json --out " +
                                  dir / "f");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "incremental");
  ASSERT_EQ(j["radii"].size(), 4u);
  // Constant init: the centre row is the trinomial row (depth 3: 7 6 3 1 → radius 3 at 0.2).
  EXPECT_EQ(j["radii"][0]["radius"].get<int>(), 2);
  EXPECT_EQ(j["radii"][2]["depth"].get<int>(), 3);
  EXPECT_EQ(j["radii"][2]["radius"].get<int>(), 3);
  const auto lines = ReadCompleteLines(dir / "f/profiles.csv");
  ASSERT_EQ(lines.size(), 1u + 16u);  // header + distances 0..15
  EXPECT_EQ(lines[0], "distance,depth_1,depth_2,depth_3,depth_4");
  EXPECT_EQ(lines[1], "0,1,1,1,1");
  EXPECT_TRUE(FileExists(dir / "f/radii.csv"));
  EXPECT_TRUE(FileExists(dir / "f/config.yaml"));
}

TEST(ProbeCliTest, GradientWritesMapAndStatesItsChoices) {
  test::TempDir dir;
  const auto r = test::RunCommand(kRfx + " probe gradient" + kSmall +
                                  " --set net.depth=3 --size 24 --samples 2 --agg relu"
                                  " --scale log --json --out " +
                                  dir / "g");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["agg"], "relu");
  EXPECT_EQ(j["scale"], "log");
  EXPECT_EQ(j["samples"].get<int>(), 2);
  ASSERT_EQ(j["area_ratio"].size(), 4u);
  EXPECT_LE(j["area_ratio"][3]["ratio"].get<double>(), 49.0 / 576 + 1e-9);  // 7×7 field
  EXPECT_EQ(ReadCompleteLines(dir / "g/erf_map.csv").size(), 24u);
  EXPECT_TRUE(FileExists(dir / "g/erf_map.png"));
  EXPECT_TRUE(FileExists(dir / "g/erf.json"));
}

TEST(ProbeCliTest, BadFlagsExit2) {
  test::TempDir dir;
  auto r = test::RunCommand(kRfx + " probe forward --depths 0:3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--depths"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe forward --dtype half");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("float64"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe gradient --agg sq --out " + dir / "x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--agg 'sq'"), std::string::npos) << r.err;
  r = test::RunCommand(kRfx + " probe forward --set train.device=cuda:7 --size 9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("train.device"), std::string::npos) << r.err;
}

TEST(ProbeCliTest, GradientFlagErrorsNameTheFlag) {
  test::TempDir dir;
  MakeDirs(dir / "empty");
  struct Case {
    std::string args, flag;
  };
  for (const Case& c : std::vector<Case>{
           {"--inputs " + dir / "empty", "--inputs"},
           {"--inputs " + dir / "none", "--inputs"},
           {"--inputs " + dir / "empty" + " --input noise", "--input noise"},
           {"--replknet --agg relu", "--agg"},
           {"--replknet --scale log", "--scale"},
           {"--replknet --channel 1", "--channel"},
           {"--bootstrap -1", "--bootstrap"},
           {"--mean 0.5", "--mean"},
           {"--inputs " + dir / "empty" + " --std 0", "--std"},
           {"--inputs " + dir / "empty" + " --mean 0.1,0.2", "--mean"},
       }) {
    const auto r =
        test::RunCommand(kRfx + " probe gradient" + kSmall + " " + c.args + " --out " + dir / "o");
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << c.args << "\n" << r.err;
  }
  // An unreadable image: exit 2 naming --inputs and the file.
  MakeDirs(dir / "bad");
  WriteFileAtomic(dir / "bad/x.png", "not a png");
  const auto r = test::RunCommand(kRfx + " probe gradient" + kSmall + " --inputs " + dir / "bad" +
                                  " --size 8 --out " + dir / "o");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--inputs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("x.png"), std::string::npos) << r.err;
}

// Regression: `probe gradient --size 16384 --samples 1` under ulimit -v 4000000 died out
// of memory with a ~40-line c10 stack trace. Its memory is estimated first, as train's is, and a
// probe's train.threads is bounded as train's is.
TEST(ProbeCliTest, AGradientThatCannotFitIsRefusedBeforeAllocating) {
  test::TempDir dir;
  const auto r = test::RunCommand("ulimit -v 4000000; " + kRfx + " probe gradient" + kSmall +
                                  " --size 16384 --samples 1 --out " + dir / "o");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--size 16384 with --batch 1 needs about"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("allowed: a smaller --size or --batch"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "o"));
  const auto threads = test::RunCommand(kRfx + " probe gradient" + kSmall +
                                        " --set train.threads=100000 --out " + dir / "t");
  EXPECT_EQ(threads.exit_code, 2) << threads.err;
  EXPECT_NE(threads.err.find("allowed 0 (all CPUs) to"), std::string::npos) << threads.err;
}

TEST(ProbeCliTest, GradientReplknetWithIntervals) {
  test::TempDir dir;
  const auto r = test::RunCommand(kRfx + " probe gradient" + kSmall +
                                  " --set net.depth=3 --size 24 --samples 6 --replknet"
                                  " --bootstrap 50 --json --out " +
                                  dir / "g");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["replknet"].get<bool>());
  EXPECT_EQ(j["agg"], "relu");
  EXPECT_EQ(j["bootstrap"]["replicates"].get<int>(), 50);
  EXPECT_EQ(j["bootstrap"]["units"].get<int>(), 6);
  const double radius = j["radius"].get<double>();
  EXPECT_LE(j["radius_ci"][0].get<double>(), j["radius_ci"][1].get<double>());
  EXPECT_LE(radius, 4.0);  // depth 3: nothing beyond distance 3
  for (const auto& a : j["area_ratio"]) {
    const int side = a["side"].get<int>();
    EXPECT_TRUE(side == 0 || side % 2 == 1) << a;
    EXPECT_LE(a["ci"][0].get<double>(), a["ci"][1].get<double>());
  }
  for (const char* axis : {"x", "y"}) {
    const double s = j["sigma"][axis].get<double>();
    EXPECT_LE(j["sigma_ci"][axis][0].get<double>(), s);
    EXPECT_GE(j["sigma_ci"][axis][1].get<double>(), s);
  }
}

// The whole --replknet pipeline against an independent PyTorch reference of RepLKNet's steps
// (tests/cli/replknet_reference.py) on a constant-weight fcn: the same map and area ratios.
TEST(ProbeCliTest, GradientReplknetMatchesAPyTorchReference) {
  test::TempDir dir;
  auto r = test::RunCommand(kRfx + " probe gradient" + kSmall +
                            " --set net.depth=4 --set init.scheme=constant --replknet --size 24"
                            " --samples 3 --bootstrap 0 --dtype float64 --json --out " +
                            dir / "rk.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteFileAtomic(dir / "rk.json", r.out);
  r = test::RunCommand(std::string(rfx::test::Python()) + " " + rfx::test::SourceDir() +
                       "/tests/cli/replknet_reference.py --map " + dir / "rk.csv" + " --json " +
                       dir / "rk.json" + " --depth 4 --width 4 --size 24 --samples 3");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// A tiny fcn, depths 1–3: analytic 2N+1, impulse radius within the analytic edge + 1, every
// JSON number finite, CI lo <= estimate <= hi; table, csv and the plot.
TEST(ProbeCliTest, CompareTinyFcn) {
  test::TempDir dir;
  const std::string base = kRfx + " probe compare" + kSmall + " --depths 1:3 --size 21 --samples 4";
  auto r = test::RunCommand(base + " --bootstrap 40 --format json --plot " + dir / "c.png");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["rows"].size(), 3u);
  for (int n = 1; n <= 3; ++n) {
    const auto& row = j["rows"][n - 1];
    SCOPED_TRACE(row.dump());
    EXPECT_EQ(row["depth"].get<int>(), n);
    EXPECT_EQ(row["analytic_rf"].get<double>(), 2 * n + 1);
    EXPECT_EQ(row["analytic_radius"].get<double>(), n);
    EXPECT_LE(row["impulse_radius"].get<int>(), n + 1);
    EXPECT_GE(row["impulse_radius"].get<int>(), 1);
    auto check_ci = [&](const nlohmann::json& est, const nlohmann::json& ci) {
      ASSERT_TRUE(est.is_number() && ci.is_array() && ci.size() == 2u);
      const double e = est.get<double>(), lo = ci[0].get<double>(), hi = ci[1].get<double>();
      EXPECT_TRUE(std::isfinite(e) && std::isfinite(lo) && std::isfinite(hi));
      EXPECT_LE(lo, e);
      EXPECT_LE(e, hi);
    };
    check_ci(row["erf_radius"], row["erf_radius_ci"]);
    check_ci(row["sigma"]["x"], row["sigma_ci"]["x"]);
    check_ci(row["sigma"]["y"], row["sigma_ci"]["y"]);
    ASSERT_EQ(row["area_ratio"].size(), 4u);
    for (const auto& a : row["area_ratio"]) check_ci(a["ratio"], a["ci"]);
    EXPECT_LE(row["erf_radius"].get<int>(), n + 1);
  }
  EXPECT_TRUE(FileExists(dir / "c.png"));
  EXPECT_GT(ReadFile(dir / "c.png").size(), 10000u);
  r = test::RunCommand(base + " --format csv --bootstrap 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("label,depth,analytic_rf,analytic_radius,impulse_radius", 0), 0u);
  EXPECT_EQ(lines[2].rfind("depth 2,2,5,2,", 0), 0u) << lines[2];
  r = test::RunCommand(base + " --bootstrap 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("depth 3"), std::string::npos) << r.out;
}

TEST(ProbeCliTest, CompareFlagErrorsNameTheFlag) {
  struct Case {
    std::string args, flag;
  };
  for (const Case& c : std::vector<Case>{
           {"--format xml", "--format"},
           {"--plot out.pdf", "--plot"},
           {"--depths 0:2", "--depths"},
           {"--set net.arch=fcn_resnet50 --depths 1:2", "--depths"},
           {"--size 2", "--size"},
           {"--replknet --agg relu", "--agg"},
           {"--bootstrap -3", "--bootstrap"},
           {"--input pictures", "--input"},
       }) {
    const auto r = test::RunCommand(kRfx + " probe compare" + kSmall + " " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << c.args << "\n" << r.err;
  }
}

TEST(ProbeCliTest, BenchProbeReportsSpeedup) {
  const auto r = test::RunCommand(kRfx +
                                  " bench probe --max-depth 6 --size 24 --threads 1 "
                                  "--device cpu --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["radii_match"].get<bool>());
  EXPECT_EQ(j["incremental_method"], "incremental");
  EXPECT_GT(j["incremental_s"].get<double>(), 0.0);
  EXPECT_GT(j["fresh_s"].get<double>(), 0.0);
  EXPECT_GT(j["speedup"].get<double>(), 0.0);
  // Regression: --threads was unbounded (100000 started ~1000 threads and kept going).
  const auto many = test::RunCommand(
      kRfx + " bench probe --max-depth 6 --size 24 --threads 100000 --device cpu --json");
  EXPECT_EQ(many.exit_code, 2) << many.err;
  EXPECT_NE(many.err.find("--threads value 100000 is out of range; allowed 0 (all CPUs) to "),
            std::string::npos)
      << many.err;
}

}  // namespace
}  // namespace rfx
