// The study's glyphs (dataset.glyphs: study): the study's own bitmaps, pixel for pixel, at the
// study's positions, pasted by overwriting; resized by area averaging at other scales.
#include "rfx/data/glyphs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "remap_reference.h"
#include "rfx/data/dataset.h"
#include "rfx/data/elastic.h"
#include "rfx/util/error.h"

namespace rfx::data {
namespace {

// The numbers of the issue (ink = 255 − grey, rows top to bottom), typed in again here so the
// test does not read the implementation's tables.
const std::vector<std::vector<int>> kE = {{2, 5, 73, 185, 217, 220, 166, 51, 2},
                                          {4, 71, 230, 95, 16, 26, 148, 185, 40},
                                          {21, 151, 170, 30, 5, 5, 75, 246, 82},
                                          {43, 199, 136, 20, 1, 4, 60, 229, 107},
                                          {54, 217, 232, 209, 208, 208, 212, 229, 108},
                                          {55, 217, 132, 17, 4, 8, 2, 6, 3},
                                          {42, 199, 150, 24, 4, 2, 3, 1, 2},
                                          {24, 154, 210, 53, 6, 1, 1, 1, 1},
                                          {5, 78, 237, 179, 70, 34, 40, 59, 30},
                                          {2, 11, 78, 185, 239, 238, 203, 126, 30}};
const std::vector<std::vector<int>> kDiaeresis = {{3, 6, 107, 190, 45, 33, 167, 129, 20},
                                                  {3, 12, 116, 206, 49, 38, 180, 140, 22},
                                                  {3, 2, 10, 19, 3, 1, 16, 14, 1}};
const std::vector<std::vector<int>> kDot = {{33, 167, 129, 20}, {38, 180, 140, 22}, {1, 16, 14, 1}};

using Image = std::vector<float>;  // s×s, row-major

// Overwrites `img` (s×s) with `bitmap`/255 at top-left (row, col).
void Paste(const std::vector<std::vector<int>>& bitmap, int row, int col, int s, Image* img) {
  for (size_t i = 0; i < bitmap.size(); ++i) {
    for (size_t j = 0; j < bitmap[i].size(); ++j) {
      (*img)[(row + i) * s + col + j] = static_cast<float>(bitmap[i][j] / 255.0);
    }
  }
}

Image Draw(const Generator& g, uint64_t index, int* label) {
  const int s = g.options().image_size;
  Image image(static_cast<size_t>(s) * s), target(2 * image.size());
  *label = g.Fill(kTrainStream, index, image.data(), target.data());
  return image;
}

DatasetOptions Study(DatasetKind kind, int distance, int size = 128) {
  DatasetOptions o;
  o.glyphs = GlyphSet::kStudy;
  o.kind = kind;
  o.distance = distance;
  o.image_size = size;
  o.amplitude = 0;
  return o;
}

void ExpectSame(const Image& want, const Image& got, int s, const std::string& what) {
  int bad = 0;
  for (int k = 0; k < s * s && bad < 5; ++k) {
    if (std::abs(want[k] - got[k]) > 1e-6f) {
      ++bad;
      ADD_FAILURE() << what << ": pixel (row " << k / s << ", col " << k % s << ") is " << got[k]
                    << ", want " << want[k];
    }
  }
}

TEST(StudyGlyphTest, DefaultIsStudyAndTheTextRoundTrips) {
  EXPECT_EQ(DatasetOptions().glyphs, GlyphSet::kStudy);
  for (GlyphSet g : {GlyphSet::kStudy, GlyphSet::kDrawn}) {
    EXPECT_EQ(ParseGlyphSet(GlyphSetText(g)), g);
  }
  EXPECT_THROW(ParseGlyphSet("Study"), ConfigError);
}

// е top-left at (centre − 5, centre − 4) = (59, 60) on 128² (centre 64); the diaeresis's top row
// at centre − 1 − distance, left column centre − 4 = 60. Nothing else is inked.
TEST(StudyGlyphTest, LetterAndDiaeresisArePastedPixelForPixelAtTheStudysPositions) {
  for (int distance : {7, 12, 40, 63}) {
    Generator g(Study(DatasetKind::kE, distance));
    for (int want_label : {0, 1}) {
      uint64_t i = 0;
      while (g.Label(kTrainStream, i) != want_label) ++i;
      int label = -1;
      const Image got = Draw(g, i, &label);
      ASSERT_EQ(label, want_label);
      Image want(128 * 128, 0.0f);
      Paste(kE, 59, 60, 128, &want);
      if (label == 1) Paste(kDiaeresis, 64 - 1 - distance, 60, 128, &want);
      ExpectSame(want, got, 128, "distance " + std::to_string(distance));
    }
  }
  // Spot checks straight from the table: the е's bar (row 4) is row 63, its brightest
  // pixel 246 (row 2, column 7) is at (61, 67); the diaeresis's 206 (row 1, column 3) at
  // (64 − 1 − 12 + 1, 63) = (52, 63).
  Generator g(Study(DatasetKind::kE, 12));
  uint64_t i = 0;
  while (g.Label(kTrainStream, i) != 1) ++i;
  int label = 0;
  const Image yo = Draw(g, i, &label);
  EXPECT_FLOAT_EQ(yo[63 * 128 + 61], 217 / 255.0f);
  EXPECT_FLOAT_EQ(yo[61 * 128 + 67], 246 / 255.0f);
  EXPECT_FLOAT_EQ(yo[52 * 128 + 63], 206 / 255.0f);
  EXPECT_FLOAT_EQ(yo[51 * 128 + 59], 0.0f);
  EXPECT_FLOAT_EQ(yo[54 * 128 + 63], 0.0f);  // one empty row between the strip and the е at 12
}

// An odd canvas: centre = image_size / 2 = 16 on 33²; with an augmentation margin the source
// canvas is (33 + 2·2)² and the glyphs sit 2 px further in.
TEST(StudyGlyphTest, CentreIsHalfTheVisibleImageWhateverTheMargin) {
  DatasetOptions o = Study(DatasetKind::kE, 9, 33);
  Generator g(o);
  uint64_t i = 0;
  while (g.Label(kTrainStream, i) != 1) ++i;
  int label = 0;
  Image want(33 * 33, 0.0f);
  Paste(kE, 11, 12, 33, &want);
  Paste(kDiaeresis, 16 - 1 - 9, 12, 33, &want);
  ExpectSame(want, Draw(g, i, &label), 33, "33²");
  o.amplitude = 1.2;  // margin ceil(1.2) = 2
  const cv::Mat canvas = detail::RenderCanvas(o, 1);
  ASSERT_EQ(canvas.rows, 37);
  for (int r = 0; r < 37; ++r) {
    for (int c = 0; c < 37; ++c) {
      ASSERT_FLOAT_EQ(canvas.at<float>(r, c),
                      (r >= 2 && r < 35 && c >= 2 && c < 35) ? want[(r - 2) * 33 + c - 2] : 0.0f)
          << r << "," << c;
    }
  }
}

// The dot: centre pixel (round(c + d·sin a), round(c + d·cos a)) with a = 3π/2 + A·(u − 0.5),
// top-left one row up and two columns left; pasted over the letter where they meet.
TEST(StudyGlyphTest, DotIsPastedAtTheRoundedPolarPosition) {
  for (int distance : {7, 12, 30}) {
    DatasetOptions o = Study(DatasetKind::kDot, distance);
    Generator g(o);
    int dots = 0, overlaps = 0;
    for (uint64_t i = 0; i < 300; ++i) {
      int label = -1;
      const Image got = Draw(g, i, &label);
      Image want(128 * 128, 0.0f);
      Paste(kE, 59, 60, 128, &want);
      if (label == 1) {
        ++dots;
        const double a =
            1.5 * M_PI + 2 * M_PI * (detail::DotUOf(detail::SampleKey(o, kTrainStream, i)) - 0.5);
        const int row = static_cast<int>(std::round(64 + distance * std::sin(a)));
        const int col = static_cast<int>(std::round(64 + distance * std::cos(a)));
        Paste(kDot, row - 1, col - 2, 128, &want);
        // The rectangle rows row−1..row+1, columns col−2..col+1 meets the е's 59..68 × 60..68.
        overlaps += row + 1 >= 59 && row - 1 <= 68 && col + 1 >= 60 && col - 2 <= 68;
      }
      ExpectSame(want, got, 128,
                 "distance " + std::to_string(distance) + " sample " + std::to_string(i));
    }
    EXPECT_GT(dots, 100);
    if (distance == 7) {
      EXPECT_GT(overlaps, 0);  // the diagonals at 7 cut the е's corners
    }
    if (distance == 30) {
      EXPECT_EQ(overlaps, 0);
    }
  }
  // Straight up at 20: centre pixel (44, 64), rows 43..45, columns 62..65.
  DatasetOptions o = Study(DatasetKind::kDot, 20);
  o.dot_angle_range_deg = 1e-6;
  Generator g(o);
  uint64_t i = 0;
  while (g.Label(kTrainStream, i) != 1) ++i;
  int label = 0;
  const Image up = Draw(g, i, &label);
  EXPECT_FLOAT_EQ(up[43 * 128 + 62], 33 / 255.0f);
  EXPECT_FLOAT_EQ(up[44 * 128 + 63], 180 / 255.0f);
  EXPECT_FLOAT_EQ(up[45 * 128 + 65], 1 / 255.0f);
  EXPECT_FLOAT_EQ(up[42 * 128 + 63], 0.0f);
  EXPECT_FLOAT_EQ(up[44 * 128 + 66], 0.0f);
}

// With augmentation, a dot that overwrites the letter equals cv::remap (INTER_CUBIC) of the
// pasted canvas: the generator's linear split (letter + (dot − letter under it)) is exact up to
// OpenCV's 1/32 px position rounding.
TEST(StudyGlyphTest, OverwritingDotUnderAugmentationEqualsRemapOfThePastedCanvas) {
  DatasetOptions o = Study(DatasetKind::kDot, 7);
  o.amplitude = 1.2;
  Generator g(o);
  const int m = detail::Margin(o);
  int overlapping = 0;
  for (uint64_t i = 0; i < 200 && overlapping < 4; ++i) {
    const uint64_t key = detail::SampleKey(o, kTrainStream, i);
    if (detail::LabelOf(key) != 1) continue;
    const double a = 1.5 * M_PI + 2 * M_PI * (detail::DotUOf(key) - 0.5);
    const int row = static_cast<int>(std::round(64 + 7 * std::sin(a)));
    const int col = static_cast<int>(std::round(64 + 7 * std::cos(a)));
    cv::Mat canvas = detail::RenderCanvas(o, 1);
    bool over = false;
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 4; ++c) {
        float& px = canvas.at<float>(m + row - 1 + r, m + col - 2 + c);
        over = over || px > 0;
        px = static_cast<float>(kDot[r][c] / 255.0);
      }
    }
    if (!over) continue;
    ++overlapping;
    const cv::Mat out = CvRemapReference(canvas, key, o);
    int label = 0;
    const Image got = Draw(g, i, &label);
    double worst = 0;
    for (int y = 0; y < 128; ++y) {
      for (int x = 0; x < 128; ++x) {
        const float ref = std::clamp(out.at<float>(y + m, x + m), 0.0f, 1.0f);
        worst = std::max(worst, double(std::abs(ref - got[y * 128 + x])));
      }
    }
    EXPECT_LT(worst, 0.03) << "sample " << i;
  }
  EXPECT_EQ(overlapping, 4);
}

// glyph_scale 2: cv::INTER_AREA doubles every pixel into a 2×2 block; the е's reference pixel
// (5, 4) lands its block's centre on the canvas centre, the edge rounded half up: top-left
// (64 + floor(1 − 11), 64 + floor(1 − 9)) = (54, 56). The diaeresis's top row stays at
// centre − 1 − distance, left column 56; the smallest distance is 6 − 1 + 10 = 15.
TEST(StudyGlyphTest, ScaledGlyphsAreAreaAveragedAndPlacedConsistently) {
  DatasetOptions o = Study(DatasetKind::kE, 15);
  o.glyph_scale = 2;
  EXPECT_EQ(o.min_distance(), 15);
  Generator g(o);
  uint64_t i = 0;
  while (g.Label(kTrainStream, i) != 1) ++i;
  int label = 0;
  const Image got = Draw(g, i, &label);
  Image want(128 * 128, 0.0f);
  auto paste2 = [&](const std::vector<std::vector<int>>& b, int row, int col) {
    std::vector<std::vector<int>> big(2 * b.size(), std::vector<int>(2 * b[0].size()));
    for (size_t r = 0; r < big.size(); ++r) {
      for (size_t c = 0; c < big[r].size(); ++c) big[r][c] = b[r / 2][c / 2];
    }
    Paste(big, row, col, 128, &want);
  };
  paste2(kE, 54, 56);
  paste2(kDiaeresis, 64 - 1 - 15, 56);
  ExpectSame(want, got, 128, "scale 2");
  // Scale 0.5 averages areas: the е becomes 5×5 (lround(4.5) = 5 columns) and keeps its mean
  // ink (total ink × 25/90); its top row is 64 + floor(1 − 2.75) = 62, the 2-row diaeresis's
  // bottom row at the smallest distance 2 − 1 + 2 = 3 is 64 − 1 − 3 + 1 = 61.
  o.glyph_scale = 0.5;
  ASSERT_EQ(o.min_distance(), 3);
  o.distance = 3;
  const Image small = Draw(Generator(o), i, &label);
  double total = 0, want_total = 0;
  auto row_ink = [&](int y) {
    double v = 0;
    for (int x = 0; x < 128; ++x) v += small[y * 128 + x];
    return v;
  };
  EXPECT_GT(row_ink(60), 0);  // the diaeresis: rows 60, 61
  EXPECT_GT(row_ink(62), 0);  // the е: rows 62..66
  EXPECT_GT(row_ink(66), 0);
  EXPECT_EQ(row_ink(59), 0);
  EXPECT_EQ(row_ink(67), 0);
  for (int y = 62; y < 128; ++y) {
    for (int x = 0; x < 128; ++x) total += small[y * 128 + x];
  }
  for (const auto& r : kE) {
    for (int v : r) want_total += v / 255.0;
  }
  EXPECT_NEAR(total, want_total * 25 / 90, 1e-4);
}

}  // namespace
}  // namespace rfx::data
