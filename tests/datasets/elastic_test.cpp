// The elastic augmentation (docs/design.md#data-sets): displacement bounds, the blurred noise
// field, the local remap against OpenCV's full-canvas remap, and how far it moves ink.
#include "rfx/data/elastic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "dataset_fixture.h"
#include "remap_reference.h"
#include "rfx/data/dataset.h"
#include "rfx/data/glyphs.h"

namespace rfx::data {
namespace {

using testing::Draw;
using testing::Drawn;
using testing::NoAugment;

TEST(ElasticTest, DisplacementNeverExceedsTheAmplitudeAndReachesIt) {
  for (double amplitude : {1.2, 3.0}) {
    for (uint64_t key = 1; key < 40; ++key) {
      const auto d = detail::MakeDisplacement(key * 0x9E3779B97F4A7C15ULL, 70, 5, amplitude);
      float mx = 0, my = 0;
      for (float v : d.dx) mx = std::max(mx, std::abs(v));
      for (float v : d.dy) my = std::max(my, std::abs(v));
      EXPECT_LE(mx, amplitude * (1 + 1e-6));
      EXPECT_LE(my, amplitude * (1 + 1e-6));
      EXPECT_NEAR(mx, amplitude, 1e-5);
      EXPECT_NEAR(my, amplitude, 1e-5);
    }
  }
}

TEST(ElasticTest, FieldIsUniformNoiseBoxBlurredLikeCvBlur) {
  const int n = 41;  // odd: the last noise word of a row is half used
  const uint64_t key = 0x1234567890ABCDEFULL;
  // The noise has 8 bits (7 for large kernels, so k² sums fit int16).
  EXPECT_EQ(detail::NoiseMax(1), 255);
  EXPECT_EQ(detail::NoiseMax(5), 255);
  EXPECT_EQ(detail::NoiseMax(15), 127);
  for (int k : {1, 3, 5, 7, 15}) EXPECT_LE(detail::NoiseMax(k) * k * k, 32767);
  // The noise itself (kernel 1): odd integers in [-M, M], mean 0, variance ~M²/3.
  detail::RawField raw;
  detail::MakeRawField(key, n, 1, &raw);
  const double m = detail::NoiseMax(1);
  for (bool is_x : {true, false}) {
    double sum = 0, sq = 0;
    for (int i = 0; i < n * n; ++i) {
      const int16_t v = is_x ? raw.X(i / n, i % n) : raw.Y(i / n, i % n);
      ASSERT_LE(std::abs(v), m);
      ASSERT_EQ(std::abs(v) % 2, 1);
      sum += v, sq += double(v) * v;
    }
    const double mean = sum / (n * n), var = sq / (n * n) - mean * mean;
    EXPECT_NEAR(mean / m, 0, 0.05);
    EXPECT_NEAR(var / (m * m), 1.0 / 3, 0.03);
  }
  // x and y are different fields.
  EXPECT_NE(raw.x, raw.y);
  // Kernel k: cv::blur (reflect-101 borders) of that kernel's noise, times k². The noise of
  // kernel k is the kernel-1 noise with fewer bits: recover it from the k = 1 field.
  for (int k : {3, 5, 7, 15}) {
    const int drop = 8 - static_cast<int>(std::log2(detail::NoiseMax(k) + 1));
    cv::Mat noise(n, n, CV_64F);
    for (int i = 0; i < n * n; ++i) {
      const int u = (raw.X(i / n, i % n) + 255) / 2;  // the 8-bit draw behind the k = 1 value
      noise.at<double>(i / n, i % n) = 2 * (u >> drop) - detail::NoiseMax(k);
    }
    cv::Mat blurred;
    cv::blur(noise, blurred, cv::Size(k, k));
    detail::RawField f;
    detail::MakeRawField(key, n, k, &f);
    int32_t max_abs = 0;
    for (int i = 0; i < n * n; ++i) {
      ASSERT_NEAR(f.X(i / n, i % n), blurred.at<double>(i / n, i % n) * k * k, 1e-6)
          << "k " << k << " i " << i;
      max_abs = std::max<int32_t>(max_abs, std::abs(f.X(i / n, i % n)));
    }
    EXPECT_EQ(f.max_abs_x, max_abs);
  }
}

// The generator's output equals the plain recipe: cv::remap (INTER_CUBIC) of the whole canvas
// plus margin with the displacement fields, margin cropped, clipped to [0, 1]. (OpenCV rounds
// positions to 1/32 px, hence the tolerance.)
TEST(ElasticTest, LocalRemapEqualsFullCanvasCvRemap) {
  for (GlyphSet set : {GlyphSet::kStudy, GlyphSet::kDrawn}) {
    DatasetOptions o;
    o.glyphs = set;
    o.distance = 9;
    o.amplitude = 2.5;
    Generator g(o);
    const int m = detail::Margin(o);
    for (uint64_t i = 0; i < 6; ++i) {
      const Drawn d = Draw(g, i);
      const uint64_t key = detail::SampleKey(o, kTrainStream, i);
      const cv::Mat out = CvRemapReference(detail::RenderCanvas(o, d.label), key, o);
      double worst = 0;
      int inked = 0;
      for (int y = 0; y < 128; ++y) {
        for (int x = 0; x < 128; ++x) {
          const float ref = std::clamp(out.at<float>(y + m, x + m), 0.0f, 1.0f);
          worst = std::max(worst, double(std::abs(ref - d.image[y * 128 + x])));
          inked += ref > 0.1f;
        }
      }
      EXPECT_LT(worst, 0.05) << "sample " << i;
      EXPECT_GT(inked, 40);
    }
  }
}

TEST(ElasticTest, AugmentationMovesInkByAtMostTheAmplitude) {
  for (DatasetKind kind : {DatasetKind::kE, DatasetKind::kDot}) {
    DatasetOptions plain = NoAugment(kind, 16, GlyphSet::kStudy);
    DatasetOptions aug = plain;
    aug.amplitude = 1.2;
    Generator gp(plain), ga(aug);
    double largest = 0;
    for (uint64_t i = 0; i < 60; ++i) {
      const Drawn p = Draw(gp, i), a = Draw(ga, i);
      ASSERT_EQ(p.label, a.label);  // the label does not depend on the augmentation
      ASSERT_NE(p.image, a.image);
      // Ink centroid of each part (letter: near the centre; mark: farther than 8 px) moves by at
      // most the amplitude per axis.
      for (bool far : {false, true}) {
        double c[2][2] = {{0, 0}, {0, 0}}, w[2] = {0, 0};
        for (int y = 0; y < 128; ++y) {
          for (int x = 0; x < 128; ++x) {
            if ((std::hypot(x - 64, y - 64) > 8.5) != far) continue;
            const float v[2] = {p.image[y * 128 + x], a.image[y * 128 + x]};
            for (int k = 0; k < 2; ++k) w[k] += v[k], c[k][0] += v[k] * x, c[k][1] += v[k] * y;
          }
        }
        if (w[0] == 0) continue;
        for (int axis = 0; axis < 2; ++axis) {
          const double shift = std::abs(c[0][axis] / w[0] - c[1][axis] / w[1]);
          EXPECT_LE(shift, 1.2) << DatasetKindText(kind) << " sample " << i;
          largest = std::max(largest, shift);
        }
      }
    }
    EXPECT_GT(largest, 0.05) << DatasetKindText(kind);  // it does move things
  }
}

}  // namespace
}  // namespace rfx::data
