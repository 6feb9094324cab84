// The е/ё and dot recipes (docs/design.md#data-sets): glyph placement, labels, targets,
// determinism, validation and config errors (the augmentation: elastic_test.cpp).
#include "rfx/data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "dataset_fixture.h"
#include "rfx/config/config.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx::data {
namespace {

using testing::Draw;
using testing::Drawn;
using testing::Find;
using testing::NoAugment;

// Ink bounding box (pixels > threshold) within rows [y0, y1).
struct Extent {
  int x0 = 1 << 20, y0 = 1 << 20, x1 = -1, y1 = -1;
};
Extent InkExtent(const std::vector<float>& img, int s, int y0, int y1, float threshold = 0) {
  Extent e;
  for (int y = y0; y < y1; ++y) {
    for (int x = 0; x < s; ++x) {
      if (img[y * s + x] > threshold) {
        e.x0 = std::min(e.x0, x), e.x1 = std::max(e.x1, x);
        e.y0 = std::min(e.y0, y), e.y1 = std::max(e.y1, y);
      }
    }
  }
  return e;
}

TEST(DatasetOptionsTest, DefaultsAreValidAndArePapersValues) {
  DatasetOptions o;
  EXPECT_NO_THROW(o.validate());
  const DatasetOptions c = DatasetOptions::FromConfig(Config());
  EXPECT_EQ(c.kind, DatasetKind::kE);
  EXPECT_EQ(c.image_size, 128);
  EXPECT_EQ(c.distance, 12);
  EXPECT_DOUBLE_EQ(c.spot, 1.8);
  EXPECT_DOUBLE_EQ(c.amplitude, 1.2);
  EXPECT_EQ(c.kernel, 5);
  EXPECT_DOUBLE_EQ(c.dot_angle_range_deg, 360);
  EXPECT_EQ(c.seed, 0u);
  EXPECT_EQ(c.glyphs, GlyphSet::kStudy);
  for (GlyphSet set : {GlyphSet::kStudy, GlyphSet::kDrawn}) {
    DatasetOptions d;
    d.glyphs = set;
    EXPECT_EQ(d.min_distance(), 7);  // the paper's sweep starts at 7
    EXPECT_EQ(d.max_distance(), 63);
    d.kind = DatasetKind::kDot;
    EXPECT_EQ(d.min_distance(), 7);
    // The study's 3×4 dot rectangle spans centre row ±1, columns −2..+1: 64 − 2 = 62.
    EXPECT_EQ(d.max_distance(), set == GlyphSet::kStudy ? 62 : 60);
  }
}

TEST(GlyphTest, LetterIsAbout9By10AtTheCentre) {
  for (double scale : {1.0, 2.0}) {
    DatasetOptions o = NoAugment(DatasetKind::kE, 30, GlyphSet::kDrawn);
    o.glyph_scale = scale;
    Generator g(o);
    const Drawn d = Draw(g, Find(g, 0));
    const Extent e = InkExtent(d.image, 128, 0, 128, 0.25f);
    const int w = e.x1 - e.x0 + 1, h = e.y1 - e.y0 + 1;
    EXPECT_NEAR(w, 9 * scale, 1.6 * scale) << "scale " << scale;
    EXPECT_NEAR(h, 10 * scale, 1.6 * scale) << "scale " << scale;
    EXPECT_NEAR((e.x0 + e.x1) / 2.0, 64, 0.5);
    EXPECT_NEAR((e.y0 + e.y1) / 2.0, 64, 0.5);
    // Ink on a background of 0: the bar's anti-aliased 1-px core reaches 0.94 (240/255).
    EXPECT_GT(*std::max_element(d.image.begin(), d.image.end()), 0.9f);
    EXPECT_GE(*std::min_element(d.image.begin(), d.image.end()), 0.0f);
  }
}

TEST(GlyphTest, DiaeresisTopRowIsCentreMinusOneMinusDistance) {
  for (int distance : {7, 8, 12, 30, 63}) {
    Generator g(NoAugment(DatasetKind::kE, distance, GlyphSet::kDrawn));
    const Drawn yo = Draw(g, Find(g, 1));
    const Drawn e = Draw(g, Find(g, 0));
    ASSERT_EQ(yo.label, 1);
    const Extent all = InkExtent(yo.image, 128, 0, 128);
    EXPECT_EQ(all.y0, 64 - 1 - distance) << "distance " << distance;
    // The diaeresis alone: ink of ё minus ink of е, two dots about 9×3 px centred on the letter.
    std::vector<float> marks(yo.image.size());
    for (size_t i = 0; i < marks.size(); ++i) marks[i] = yo.image[i] - e.image[i];
    const Extent m = InkExtent(marks, 128, 0, 128, 0.4f);
    EXPECT_EQ(m.y0, 64 - 1 - distance);
    EXPECT_EQ(m.y1 - m.y0 + 1, 3);
    EXPECT_NEAR(m.x1 - m.x0 + 1, 9, 1);
    EXPECT_EQ(m.x0 + m.x1, 2 * 64);
    // е has nothing above its letter.
    EXPECT_GT(InkExtent(e.image, 128, 0, 128).y0, 64 - 1 - 7);
  }
}

// Centre of the ink farther than `r_min` from the canvas centre (the dot, not the letter).
bool DotCentre(const std::vector<float>& img, int s, double r_min, double* cx, double* cy) {
  double sw = 0, sx = 0, sy = 0;
  for (int y = 0; y < s; ++y) {
    for (int x = 0; x < s; ++x) {
      const double dx = x - s / 2, dy = y - s / 2, v = img[y * s + x];
      if (v > 0 && std::hypot(dx, dy) > r_min) sw += v, sx += v * dx, sy += v * dy;
    }
  }
  if (sw == 0) return false;
  *cx = sx / sw, *cy = sy / sw;
  return true;
}

TEST(GlyphTest, DotSitsAtTheRadiusWithinTheAngleRange) {
  for (double range : {360.0, 180.0, 40.0}) {
    DatasetOptions o = NoAugment(DatasetKind::kDot, 12, GlyphSet::kDrawn);
    o.dot_angle_range_deg = range;
    Generator g(o);
    double lo = 1e9, hi = -1e9;
    int dots = 0;
    for (uint64_t i = 0; i < 400; ++i) {
      const Drawn d = Draw(g, i);
      double cx = 0, cy = 0;
      const bool found = DotCentre(d.image, 128, 8.5, &cx, &cy);
      ASSERT_EQ(found, d.label == 1) << "sample " << i;
      if (!found) continue;
      ++dots;
      // Pasted on the pixel grid: centre within half a pixel per axis.
      EXPECT_NEAR(std::hypot(cx, cy), 12.0, 0.71) << "sample " << i;
      // Angle from straight up (3π/2 in image coordinates, y down), in degrees.
      double a = (std::atan2(cy, cx) - 1.5 * M_PI) * 180 / M_PI;
      while (a < -180) a += 360;
      while (a >= 180) a -= 360;
      lo = std::min(lo, a), hi = std::max(hi, a);
      EXPECT_LE(std::abs(a), range / 2 + 3.5) << "sample " << i << " range " << range;
    }
    EXPECT_GT(dots, 150);
    // The draws fill the range.
    EXPECT_LT(lo, -range / 2 * 0.85) << range;
    EXPECT_GT(hi, range / 2 * 0.85) << range;
  }
  // A dot is about 4×3 px: straight up with range tiny.
  DatasetOptions o = NoAugment(DatasetKind::kDot, 20, GlyphSet::kDrawn);
  o.dot_angle_range_deg = 1e-6;
  Generator g(o);
  const Drawn d = Draw(g, Find(g, 1));
  const Extent e = InkExtent(d.image, 128, 0, 64 - 8, 0.4f);
  EXPECT_EQ(e.x1 - e.x0 + 1, 4);
  EXPECT_EQ(e.y1 - e.y0 + 1, 3);
  EXPECT_EQ(e.y0, 64 - 20 - 1);
}

TEST(LabelTest, ClassesAreBalancedOver10kSamples) {
  for (uint64_t seed : {0ull, 7ull}) {
    for (uint64_t stream : {kTrainStream, kEvalStream}) {
      DatasetOptions o;
      o.seed = seed;
      Generator g(o);
      int ones = 0;
      for (uint64_t i = 0; i < 10000; ++i) ones += g.Label(stream, i);
      EXPECT_NEAR(ones / 10000.0, 0.5, 0.02) << "seed " << seed << " stream " << stream;
    }
  }
}

TEST(TargetTest, PeakIsOneAtTheCentreOfTheTrueChannelOnly) {
  for (DatasetKind kind : {DatasetKind::kE, DatasetKind::kDot}) {
    DatasetOptions o;
    o.kind = kind;
    o.image_size = 64;
    o.distance = 20;
    Generator g(o);
    int seen[2] = {0, 0};
    for (uint64_t i = 0; i < 16; ++i) {
      const Drawn d = Draw(g, i);
      ++seen[d.label];
      const float* on = d.target.data() + (d.label == 1 ? 64 * 64 : 0);
      const float* off = d.target.data() + (d.label == 1 ? 0 : 64 * 64);
      EXPECT_EQ(on[32 * 64 + 32], 1.0f);
      EXPECT_EQ(*std::max_element(on, on + 64 * 64), 1.0f);
      EXPECT_NEAR(on[32 * 64 + 33], std::exp(-1 / (1.8 * 1.8)), 1e-6);
      EXPECT_NEAR(on[30 * 64 + 31], std::exp(-5 / (1.8 * 1.8)), 1e-6);
      EXPECT_NEAR(on[0], 0.0f, 1e-30);
      for (int k = 0; k < 64 * 64; ++k) ASSERT_EQ(off[k], 0.0f) << k;
    }
    EXPECT_GT(seen[0], 0);
    EXPECT_GT(seen[1], 0);
  }
}

TEST(DeterminismTest, SampleIsAPureFunctionOfSeedStreamIndex) {
  DatasetOptions o;
  o.image_size = 64;
  o.distance = 10;
  Generator a(o), b(o);
  // Same (seed, stream, index): same sample, in any order.
  const Drawn x5 = Draw(a, 5);
  Draw(a, 9);
  EXPECT_EQ(Draw(b, 5).image, x5.image);
  EXPECT_EQ(Draw(a, 5).target, x5.target);
  // Another index, stream or seed: another sample.
  EXPECT_NE(Draw(a, 6).image, x5.image);
  EXPECT_NE(Draw(a, 5, kEvalStream).image, x5.image);
  o.seed = 1;
  EXPECT_NE(Draw(Generator(o), 5).image, x5.image);
  // Make() wraps Fill().
  const Sample s = a.Make(kTrainStream, 5);
  EXPECT_EQ(s.label, x5.label);
  EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{1, 64, 64}));
  EXPECT_EQ(s.target.sizes(), (std::vector<int64_t>{2, 64, 64}));
  EXPECT_EQ(std::vector<float>(s.image.data_ptr<float>(), s.image.data_ptr<float>() + 64 * 64),
            x5.image);
}

// Expects `fn` to throw ConfigError for `key` whose message names `value` and "allowed".
void ExpectConfigError(const std::function<void()>& fn, const std::string& key,
                       const std::string& value) {
  try {
    fn();
    ADD_FAILURE() << "no error for " << key << " = " << value;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_NE(std::string(e.what()).find(value), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("allowed"), std::string::npos) << e.what();
  }
}

TEST(DatasetOptionsTest, EveryInvalidValueNamesKeyValueAndRange) {
  struct Case {
    std::function<void(DatasetOptions&)> set;
    std::string key, value;
  };
  const std::vector<Case> cases = {
      {[](DatasetOptions& o) { o.image_size = 0; }, "dataset.image_size", "0"},
      {[](DatasetOptions& o) { o.image_size = -8; }, "dataset.image_size", "-8"},
      {[](DatasetOptions& o) { o.glyph_scale = 0; }, "dataset.glyph_scale", "0"},
      {[](DatasetOptions& o) { o.glyph_scale = -1; }, "dataset.glyph_scale", "-1"},
      {[](DatasetOptions& o) { o.spot = 0; }, "dataset.spot", "0"},
      {[](DatasetOptions& o) { o.spot = -1.5; }, "dataset.spot", "-1.5"},
      {[](DatasetOptions& o) { o.dot_angle_range_deg = 0; }, "dataset.dot_angle_range_deg", "0"},
      {[](DatasetOptions& o) { o.dot_angle_range_deg = 361; }, "dataset.dot_angle_range_deg",
       "361"},
      {[](DatasetOptions& o) { o.amplitude = -0.5; }, "dataset.augment.amplitude", "-0.5"},
      {[](DatasetOptions& o) { o.kernel = 4; }, "dataset.augment.kernel", "4"},
      {[](DatasetOptions& o) { o.kernel = 0; }, "dataset.augment.kernel", "0"},
      {[](DatasetOptions& o) { o.kernel = -3; }, "dataset.augment.kernel", "-3"},
      {[](DatasetOptions& o) { o.kernel = 17; }, "dataset.augment.kernel", "17"},
      // The diaeresis would leave a 128² canvas (top row centre - 1 - 64 = -1).
      {[](DatasetOptions& o) { o.distance = 64; }, "dataset.distance", "64"},
      // ... or touch the letter.
      {[](DatasetOptions& o) { o.distance = 6; }, "dataset.distance", "6"},
      {[](DatasetOptions& o) { o.distance = -3; }, "dataset.distance", "-3"},
      // The dot would leave the canvas at some angle.
      {[](DatasetOptions& o) { o.kind = DatasetKind::kDot, o.distance = 63; }, "dataset.distance",
       "63"},
      {[](DatasetOptions& o) {
         o.kind = DatasetKind::kDot, o.glyphs = GlyphSet::kDrawn, o.distance = 61;
       },
       "dataset.distance", "61"},
      {[](DatasetOptions& o) { o.image_size = 32, o.distance = 16; }, "dataset.distance", "16"},
      // A glyph too big for the canvas.
      {[](DatasetOptions& o) { o.glyph_scale = 12; }, "dataset.glyph_scale", "12"},
  };
  for (const auto& c : cases) {
    DatasetOptions o;
    c.set(o);
    ExpectConfigError([&] { o.validate(); }, c.key, c.value);
    ExpectConfigError([&] { Generator g(o); }, c.key, c.value);
  }
  // The edges of the ranges are fine.
  DatasetOptions o;
  o.distance = 63;
  EXPECT_NO_THROW(Generator{o});
  o.distance = 7, o.amplitude = 0, o.kernel = 1, o.dot_angle_range_deg = 360;
  EXPECT_NO_THROW(Generator{o});
  o.kind = DatasetKind::kDot, o.distance = 62;
  EXPECT_NO_THROW(Generator{o});
  o.glyphs = GlyphSet::kDrawn, o.distance = 60;
  EXPECT_NO_THROW(Generator{o});
}

TEST(DatasetOptionsTest, ConfigErrorsCarryTheFileLine) {
  test::TempDir dir;
  const std::string file = dir / "exp.yaml";
  auto load = [&](const std::string& yaml, std::vector<std::string> sets = {}) {
    WriteFileAtomic(file, yaml);
    return DatasetOptions::FromConfig(Config::Load(file, sets));
  };
  // A valid file is read.
  const DatasetOptions ok =
      load("dataset:\n  kind: dot\n  distance: 20\n  augment:\n    amplitude: 0.5\n");
  EXPECT_EQ(ok.kind, DatasetKind::kDot);
  EXPECT_EQ(ok.distance, 20);
  EXPECT_DOUBLE_EQ(ok.amplitude, 0.5);
  // Unknown key, wrong type, bad value: key, value and line named.
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> cases = {
      {"dataset:\n  kind: e\n  distnce: 5\n", "dataset.distnce", "line 3", "distance"},
      {"dataset:\n  image_size: big\n", "dataset.image_size", "line 2", "'big'"},
      {"dataset:\n  kind: e\n  distance: 99\n", "dataset.distance", "line 3", "99"},
      {"train:\n  steps: 5\ndataset:\n  kind: q\n", "dataset.kind", "line 4", "'q'"},
      {"dataset:\n  augment:\n    kernel: 6\n", "dataset.augment.kernel", "line 3", "6"},
      {"dataset:\n  augment:\n    amplitude: -1\n", "dataset.augment.amplitude", "line 3", "-1"},
      {"dataset:\n  seed: -4\n", "dataset.seed", "line 2", "-4"},
      {"dataset:\n  glyphs: font\n", "dataset.glyphs", "line 2", "'font'"},
  };
  for (const auto& [yaml, key, line, value] : cases) {
    try {
      load(yaml);
      ADD_FAILURE() << "no error for " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), key) << e.what();
      EXPECT_EQ(e.where(), file + " " + line) << e.what();
      EXPECT_NE(std::string(e.what()).find(value), std::string::npos) << e.what();
    }
  }
  // A --set value is named as such.
  try {
    load("dataset:\n  kind: e\n", {"dataset.distance=0"});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "dataset.distance");
    EXPECT_EQ(e.where(), "--set");
  }
}

}  // namespace
}  // namespace rfx::data
