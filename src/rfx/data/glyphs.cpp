#include "rfx/data/glyphs.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "rfx/util/hash.h"

namespace rfx::data::detail {
namespace {

// ---------------------------------------------------------------------------------------------
// study: the study's bitmaps, ink = 255 − grey, rows top to bottom (vedenev/
// receptive_field_research, images_symbols/, MIT licence; numbers as in rfx issue 13).

struct Bitmap {
  int rows, cols;
  const uint8_t* ink;
  // The pixel whose centre is the glyph's reference point, in bitmap px from the top-left edge
  // (pixel centres at .5): it stays on the same canvas pixel at every glyph_scale.
  double ref_row, ref_col;
};

constexpr uint8_t kLetterInk[10 * 9] = {
    2,  5,   73,  185, 217, 220, 166, 51,  2,    //
    4,  71,  230, 95,  16,  26,  148, 185, 40,   //
    21, 151, 170, 30,  5,   5,   75,  246, 82,   //
    43, 199, 136, 20,  1,   4,   60,  229, 107,  //
    54, 217, 232, 209, 208, 208, 212, 229, 108,  //
    55, 217, 132, 17,  4,   8,   2,   6,   3,    //
    42, 199, 150, 24,  4,   2,   3,   1,   2,    //
    24, 154, 210, 53,  6,   1,   1,   1,   1,    //
    5,  78,  237, 179, 70,  34,  40,  59,  30,   //
    2,  11,  78,  185, 239, 238, 203, 126, 30,   //
};
constexpr uint8_t kDiaeresisInk[3 * 9] = {
    3, 6,  107, 190, 45, 33, 167, 129, 20,  //
    3, 12, 116, 206, 49, 38, 180, 140, 22,  //
    3, 2,  10,  19,  3,  1,  16,  14,  1,   //
};
constexpr uint8_t kDotInk[3 * 4] = {
    33, 167, 129, 20,  //
    38, 180, 140, 22,  //
    1,  16,  14,  1,   //
};

// The е's top-left is (centre − 5, centre − 4) (row, column): pixel (5, 4) is on the centre.
constexpr Bitmap kLetter{10, 9, kLetterInk, 5.5, 4.5};
// The diaeresis: top row at centre − 1 − distance (no row reference), left column centre − 4.
constexpr Bitmap kDiaeresis{3, 9, kDiaeresisInk, 0.5, 4.5};
// The dot: top-left one row up and two columns left of its centre pixel: pixel (1, 2).
constexpr Bitmap kDot{3, 4, kDotInk, 1.5, 2.5};

// The bitmap as CV_32F ink/255, resized with area averaging to round(size·scale) px (at least 1)
// when scale != 1 (in float, so no 8-bit rounding).
cv::Mat Scaled(const Bitmap& b, double scale) {
  cv::Mat u8(b.rows, b.cols, CV_8U, const_cast<uint8_t*>(b.ink));
  cv::Mat f;
  u8.convertTo(f, CV_32F, 1.0 / 255.0);
  if (scale == 1.0) return f;
  const int rows = std::max(1, static_cast<int>(std::lround(b.rows * scale)));
  const int cols = std::max(1, static_cast<int>(std::lround(b.cols * scale)));
  cv::Mat out;
  cv::resize(f, out, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  return out;
}

// Offset of the top-left pixel from the pixel that the reference point sits on: the scaled
// reference point (ref·scale from the top-left edge) lands on that pixel's centre, the edge
// rounded half up to the pixel grid. scale 1: −floor(ref) (−5, −4 for the е; −1, −2 for the dot).
int Offset(double ref, double scale) { return static_cast<int>(std::floor(1.0 - ref * scale)); }

// Copies `glyph` into `canvas` with its top-left at (row, col), overwriting (no max), clipped.
void Paste(const cv::Mat& glyph, int row, int col, cv::Mat& canvas) {
  const cv::Rect dst =
      cv::Rect(col, row, glyph.cols, glyph.rows) & cv::Rect(0, 0, canvas.cols, canvas.rows);
  if (dst.empty()) return;
  glyph(cv::Rect(dst.x - col, dst.y - row, dst.width, dst.height)).copyTo(canvas(dst));
}

// ---------------------------------------------------------------------------------------------
// drawn: OpenCV anti-aliased shapes.

constexpr int kShift = 4;  // OpenCV drawing: 4 fractional bits (sub-pixel coordinates)
constexpr double kOne = 1 << kShift;

int Fixed(double v) { return static_cast<int>(std::lround(v * kOne)); }

// Glyph geometry at a scale (px at glyph_scale 1 in comments).
struct Geometry {
  double s;
  double letter_ax() const { return 4.0 * s; }  // е: ellipse half-width 4 (9 px wide)
  double letter_ay() const { return 4.5 * s; }  // half-height 4.5 (10 px high)
  double dot_r() const { return 1.0 * s; }      // diaeresis dots: radius 1 (3×3), 3 px off-axis
  double dot_dx() const { return 3.0 * s; }
  double single_ax() const { return 1.5 * s; }  // single dot: 4×3
  double single_ay() const { return 1.0 * s; }
  int thickness() const { return std::max(1, static_cast<int>(std::lround(s))); }
};

void DrawLetter(cv::Mat& img, double cx, double cy, const Geometry& g) {
  const cv::Point c(Fixed(cx), Fixed(cy));
  // The bowl: open on the lower right, below the bar (angles clockwise from +x, y down).
  cv::ellipse(img, c, cv::Size(Fixed(g.letter_ax()), Fixed(g.letter_ay())), 0, 40, 360,
              cv::Scalar(255), g.thickness(), cv::LINE_AA, kShift);
  cv::line(img, cv::Point(Fixed(cx - g.letter_ax()), Fixed(cy)),
           cv::Point(Fixed(cx + g.letter_ax()), Fixed(cy)), cv::Scalar(255), g.thickness(),
           cv::LINE_AA, kShift);
}

cv::Mat ToFloat(const cv::Mat& u8) {
  cv::Mat f;
  u8.convertTo(f, CV_32F, 1.0 / 255.0);
  return f;
}

}  // namespace

int Margin(const DatasetOptions& options) {
  return static_cast<int>(std::ceil(options.amplitude - 1e-12));
}

int MinDistance(const DatasetOptions& options) {
  const double s = options.glyph_scale;
  if (options.glyphs == GlyphSet::kStudy) {
    // The diaeresis's bottom row (centre − 1 − distance + rows − 1) above the е's top row
    // (centre + Offset): 3 − 1 + 5 = 7 at scale 1, the study's smallest distance.
    const int rows = Scaled(kDiaeresis, s).rows;
    return std::max(1, rows - 1 - Offset(kLetter.ref_row, s));
  }
  const Geometry g{s};
  // Diaeresis bottom row above the letter's top anti-aliased row: 4.5 + 2·1 + 0.5 = 7 at scale 1.
  return static_cast<int>(std::ceil(g.letter_ay() + 2 * g.dot_r() + 0.5 - 1e-9));
}

int MaxDistance(const DatasetOptions& options) {
  const int size = options.image_size, c = size / 2;
  if (options.kind == DatasetKind::kDot) {
    if (options.glyphs == GlyphSet::kStudy) {
      // The dot's rectangle inside the image at any angle: its centre pixel is within
      // [c − distance, c + distance] on each axis (rounding an integer ± at most distance).
      const cv::Mat dot = Scaled(kDot, options.glyph_scale);
      const int t = Offset(kDot.ref_row, options.glyph_scale);
      const int l = Offset(kDot.ref_col, options.glyph_scale);
      return std::min({c + t, size - c - t - dot.rows, c + l, size - c - l - dot.cols});
    }
    const Geometry g{options.glyph_scale};
    // The dot (plus its anti-aliased fringe) inside the canvas at any angle.
    const int ext = static_cast<int>(std::ceil(std::max(g.single_ax(), g.single_ay()) + 1.0));
    return std::min(c, size - 1 - c) - ext;
  }
  // Diaeresis top row (centre - 1 - distance) at row 0 or below.
  return c - 1;
}

cv::Mat RenderCanvas(const DatasetOptions& options, int label) {
  const int m = Margin(options);
  const int n = options.image_size + 2 * m;
  if (options.glyphs == GlyphSet::kStudy) {
    const double s = options.glyph_scale;
    const int c = options.image_size / 2 + m;
    cv::Mat img(n, n, CV_32F, cv::Scalar(0));
    Paste(Scaled(kLetter, s), c + Offset(kLetter.ref_row, s), c + Offset(kLetter.ref_col, s), img);
    if (options.kind == DatasetKind::kE && label == 1) {
      Paste(Scaled(kDiaeresis, s), c - 1 - options.distance, c + Offset(kDiaeresis.ref_col, s),
            img);
    }
    return img;
  }
  const double c = options.image_size / 2 + m;
  const Geometry g{options.glyph_scale};
  cv::Mat img(n, n, CV_8U, cv::Scalar(0));
  DrawLetter(img, c, c, g);
  if (options.kind == DatasetKind::kE && label == 1) {
    // Two dots, top row at centre - 1 - distance.
    const double cy = c - 1 - options.distance + g.dot_r();
    for (double sx : {-1.0, 1.0}) {
      cv::circle(img, cv::Point(Fixed(c + sx * g.dot_dx()), Fixed(cy)), Fixed(g.dot_r()),
                 cv::Scalar(255), cv::FILLED, cv::LINE_AA, kShift);
    }
  }
  return ToFloat(img);
}

DotPatch RenderDot(const DatasetOptions& options) {
  DotPatch out;
  if (options.glyphs == GlyphSet::kStudy) {
    // The bitmap itself; its anchor is the centre pixel (1, 2) at scale 1.
    out.image = Scaled(kDot, options.glyph_scale);
    out.ax = -Offset(kDot.ref_col, options.glyph_scale);
    out.ay = -Offset(kDot.ref_row, options.glyph_scale);
    return out;
  }
  const Geometry g{options.glyph_scale};
  const int half = static_cast<int>(std::ceil(g.single_ax() + 2));
  const int p = 2 * half + 2;
  cv::Mat img(p, p, CV_8U, cv::Scalar(0));
  // Centred half a pixel right of a pixel centre, so the core is 4×3 px of ink.
  cv::ellipse(img, cv::Point(Fixed(half + 0.5), Fixed(half)),
              cv::Size(Fixed(g.single_ax()), Fixed(g.single_ay())), 0, 0, 360, cv::Scalar(255),
              cv::FILLED, cv::LINE_AA, kShift);
  out.image = ToFloat(img);
  out.ax = p / 2 - 0.5;
  out.ay = p / 2 - 1;
  return out;
}

void DotOffset(const DatasetOptions& options, const DotPatch& dot, double tx, double ty, int* ox,
               int* oy) {
  if (options.glyphs == GlyphSet::kStudy) {
    // The study: centre pixel (round(ty), round(tx)). std::round breaks exact .5 ties away from
    // zero where Python's round goes to even; a random angle hits a tie with probability 0.
    *ox = static_cast<int>(dot.ax - std::round(tx));
    *oy = static_cast<int>(dot.ay - std::round(ty));
    return;
  }
  *ox = static_cast<int>(std::round(dot.ax - tx));
  *oy = static_cast<int>(std::round(dot.ay - ty));
}

uint64_t SampleKey(const DatasetOptions& options, uint64_t stream, uint64_t index) {
  return DeriveSeed(options.seed, stream, index);
}

int LabelOf(uint64_t key) { return static_cast<int>(Mix64(key ^ 0x6C6162656CULL) >> 63); }

double DotUOf(uint64_t key) {
  return static_cast<double>(Mix64(key ^ 0x616E676C65ULL) >> 11) * 0x1.0p-53;
}

}  // namespace rfx::data::detail
