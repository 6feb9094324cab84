// rfx dataset preview and rfx bench dataset, end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace rfx {
namespace {

// Width and height from a PNG's IHDR chunk (0, 0 if not a PNG).
std::pair<int, int> PngSize(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[24] = {};
  f.read(reinterpret_cast<char*>(h), sizeof h);
  if (!f || h[1] != 'P' || h[2] != 'N' || h[3] != 'G') return {0, 0};
  auto be = [&](int o) { return (h[o] << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]; };
  return {be(16), be(20)};
}

TEST(DatasetCliTest, PreviewWritesAGridWithOneColumnPerSample) {
  test::TempDir dir;
  const std::string exe = rfx::test::RfxExe();
  auto r = test::RunCommand(exe + " dataset preview --set dataset.distance=8 --count 3 --out " +
                            (dir / "a.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto [w3, h3] = PngSize(dir / "a.png");
  EXPECT_GT(w3, 3 * 128);
  EXPECT_GT(h3, 3 * 128);  // three rows: input, е target, ё target
  r = test::RunCommand(exe + " dataset preview --set dataset.distance=8 --count 5 --out " +
                       (dir / "b.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto [w5, h5] = PngSize(dir / "b.png");
  EXPECT_EQ(h5, h3);
  EXPECT_GT(w5, w3);
  EXPECT_EQ((w5 - w3) % 2, 0);  // two more columns of equal width
}

TEST(DatasetCliTest, BadValuesExitTwoNamingKeyOrFlag) {
  test::TempDir dir;
  const std::string exe = rfx::test::RfxExe();
  auto r =
      test::RunCommand(exe + " dataset preview --set dataset.distance=99 --out " + (dir / "a.png"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dataset.distance"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("99"), std::string::npos) << r.err;
  r = test::RunCommand(exe + " dataset preview --set dataset.kynd=dot --out " + (dir / "a.png"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dataset.kynd"), std::string::npos) << r.err;
  r = test::RunCommand(exe + " dataset preview --count 0 --out " + (dir / "a.png"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--count"), std::string::npos) << r.err;
  {
    std::ofstream f(dir / "bad.yaml");
    f << "dataset:\n  kind: dot\n  augment:\n    kernel: 4\n";
  }
  r = test::RunCommand(exe + " dataset preview --config " + (dir / "bad.yaml") + " --out " +
                       (dir / "a.png"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dataset.augment.kernel"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 4"), std::string::npos) << r.err;
  r = test::RunCommand(exe + " bench dataset --threads 0 --json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
}

TEST(DatasetCliTest, BenchPrintsSamplesPerSecondAsJson) {
  const std::string exe = rfx::test::RfxExe();
  const auto r = test::RunCommand(exe +
                                  " bench dataset --seconds 0.2 --threads 1 --json "
                                  "--set dataset.image_size=32 --set dataset.distance=10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("samples_per_s").get<double>(), 100.0);
  EXPECT_EQ(j.at("threads").get<int>(), 1);
  EXPECT_EQ(j.at("image_size").get<int>(), 32);
  EXPECT_GT(j.at("samples").get<int64_t>(), 0);
}

}  // namespace
}  // namespace rfx
