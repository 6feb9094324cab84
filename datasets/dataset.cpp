#include "datasets/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "datasets/elastic.h"
#include "datasets/glyphs.h"
#include "rfx/config/config.h"
#include "rfx/util/error.h"
#include "rfx/util/hash.h"
#include "rfx/util/strings.h"

namespace rfx::data {
namespace {

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

// Bounding box of the non-zero pixels of a CV_32F image (empty box if none).
detail::Box InkBox(const cv::Mat& img) {
  detail::Box b{img.cols, img.rows, 0, 0};
  for (int y = 0; y < img.rows; ++y) {
    const float* r = img.ptr<float>(y);
    for (int x = 0; x < img.cols; ++x) {
      if (r[x] != 0.0f) {
        b.x0 = std::min(b.x0, x), b.y0 = std::min(b.y0, y);
        b.x1 = std::max(b.x1, x + 1), b.y1 = std::max(b.y1, y + 1);
      }
    }
  }
  return b;
}

// Box b (end exclusive) grown by `below` before and `above` after, clipped to [0, size).
detail::Box Grow(detail::Box b, int below, int above, int size) {
  return {std::max(0, b.x0 - below), std::max(0, b.y0 - below), std::min(size, b.x1 + above),
          std::min(size, b.y1 + above)};
}

bool Overlap(const detail::Box& a, const detail::Box& b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

detail::Box Union(const detail::Box& a, const detail::Box& b) {
  return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

void ToPadded(const cv::Mat& img, int pad, detail::PaddedImage* out) {
  out->Reset(img.cols, img.rows, pad);
  for (int y = 0; y < img.rows; ++y) {
    std::memcpy(out->row(y), img.ptr<float>(y), sizeof(float) * img.cols);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Options

int DatasetOptions::min_distance() const {
  const Geometry g{glyph_scale};
  // Diaeresis bottom row above the letter's top anti-aliased row: 4.5 + 2·1 + 0.5 = 7 at scale 1.
  return static_cast<int>(std::ceil(g.letter_ay() + 2 * g.dot_r() + 0.5 - 1e-9));
}

int DatasetOptions::max_distance() const {
  const Geometry g{glyph_scale};
  const int c = image_size / 2;
  if (kind == "dot") {
    // The dot (plus its anti-aliased fringe) inside the canvas at any angle.
    const int ext = static_cast<int>(std::ceil(std::max(g.single_ax(), g.single_ay()) + 1.0));
    return std::min(c, image_size - 1 - c) - ext;
  }
  // Diaeresis top row (centre - 1 - distance) at row 0 or below.
  return c - 1;
}

void DatasetOptions::validate() const {
  if (kind != "e" && kind != "dot") {
    throw ConfigError("dataset.kind", "unknown kind '" + kind + "'; allowed: e, dot");
  }
  if (image_size < 16 || image_size > 4096) {
    throw ConfigError("dataset.image_size",
                      "value " + std::to_string(image_size) + " is out of range; allowed 16..4096");
  }
  if (!(glyph_scale > 0) || !(glyph_scale <= 16)) {
    throw ConfigError("dataset.glyph_scale",
                      "value " + FormatNumber(glyph_scale) + " is out of range; allowed (0, 16]");
  }
  if (!(spot > 0) || !std::isfinite(spot)) {
    throw ConfigError("dataset.spot",
                      "value " + FormatNumber(spot) + " is out of range; allowed > 0");
  }
  if (!(dot_angle_range_deg > 0) || !(dot_angle_range_deg <= 360)) {
    throw ConfigError("dataset.dot_angle_range_deg", "value " + FormatNumber(dot_angle_range_deg) +
                                                         " is out of range; allowed (0, 360]");
  }
  if (!(amplitude >= 0) || !(amplitude <= 16)) {
    throw ConfigError("dataset.augment.amplitude",
                      "value " + FormatNumber(amplitude) + " is out of range; allowed 0..16 px");
  }
  if (kernel < 1 || kernel > 15 || kernel % 2 == 0) {
    throw ConfigError("dataset.augment.kernel",
                      "value " + std::to_string(kernel) + " is not allowed; allowed odd 1..15");
  }
  const int lo = min_distance(), hi = max_distance();
  if (lo > hi) {
    // The largest scale that fits, to 0.01.
    DatasetOptions probe = *this;
    probe.glyph_scale = 0.01;
    while (probe.min_distance() <= probe.max_distance()) probe.glyph_scale += 0.01;
    throw ConfigError("dataset.glyph_scale",
                      "value " + FormatNumber(glyph_scale) + " does not fit the letter and its " +
                          (kind == "dot" ? "dot" : "diaeresis") + " on a " +
                          std::to_string(image_size) + "² canvas; allowed (0, " +
                          FormatNumber(probe.glyph_scale - 0.01) + "] at this image_size");
  }
  if (distance < lo || distance > hi) {
    const std::string what = kind == "dot" ? "the dot" : "the diaeresis";
    throw ConfigError(
        "dataset.distance",
        "value " + std::to_string(distance) + " is out of range; allowed " + std::to_string(lo) +
            ".." + std::to_string(hi) + " for kind '" + kind + "' at image_size " +
            std::to_string(image_size) + " (" + what +
            (distance < lo ? " would touch the letter)" : " would leave the canvas)"));
  }
}

DatasetOptions DatasetOptions::FromConfig(const Config& config) {
  DatasetOptions o;
  try {
    // Ints into ints, numbers that float pixel maths can hold; validate() has the real ranges.
    o.kind = config.GetString("dataset.kind");
    o.image_size = config.GetInt32("dataset.image_size");
    o.distance = config.GetInt32("dataset.distance");
    o.spot = config.GetFloat("dataset.spot");
    o.glyph_scale = config.GetFloat("dataset.glyph_scale");
    o.dot_angle_range_deg = config.GetFloat("dataset.dot_angle_range_deg");
    o.amplitude = config.GetFloat("dataset.augment.amplitude");
    o.kernel = config.GetInt32("dataset.augment.kernel");
    o.seed = static_cast<uint64_t>(config.GetInt("dataset.seed", 0, INT64_MAX));
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Glyphs and per-sample draws

namespace detail {

int Margin(const DatasetOptions& options) {
  return static_cast<int>(std::ceil(options.amplitude - 1e-12));
}

cv::Mat RenderCanvas(const DatasetOptions& options, int label) {
  const int m = Margin(options);
  const int n = options.image_size + 2 * m;
  const double c = options.image_size / 2 + m;
  const Geometry g{options.glyph_scale};
  cv::Mat img(n, n, CV_8U, cv::Scalar(0));
  DrawLetter(img, c, c, g);
  if (options.kind == "e" && label == 1) {
    // Two dots, top row at centre - 1 - distance.
    const double cy = c - 1 - options.distance + g.dot_r();
    for (double sx : {-1.0, 1.0}) {
      cv::circle(img, cv::Point(Fixed(c + sx * g.dot_dx()), Fixed(cy)), Fixed(g.dot_r()),
                 cv::Scalar(255), cv::FILLED, cv::LINE_AA, kShift);
    }
  }
  return ToFloat(img);
}

cv::Mat RenderDot(const DatasetOptions& options) {
  const Geometry g{options.glyph_scale};
  const int half = static_cast<int>(std::ceil(g.single_ax() + 2));
  const int p = 2 * half + 2;
  cv::Mat img(p, p, CV_8U, cv::Scalar(0));
  // Centred half a pixel right of a pixel centre, so the core is 4×3 px of ink.
  cv::ellipse(img, cv::Point(Fixed(half + 0.5), Fixed(half)),
              cv::Size(Fixed(g.single_ax()), Fixed(g.single_ay())), 0, 0, 360, cv::Scalar(255),
              cv::FILLED, cv::LINE_AA, kShift);
  return ToFloat(img);
}

uint64_t SampleKey(const DatasetOptions& options, uint64_t stream, uint64_t index) {
  return DeriveSeed(options.seed, stream, index);
}

int LabelOf(uint64_t key) { return static_cast<int>(Mix64(key ^ 0x6C6162656CULL) >> 63); }

double DotUOf(uint64_t key) {
  return static_cast<double>(Mix64(key ^ 0x616E676C65ULL) >> 11) * 0x1.0p-53;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Generator

struct Generator::Impl {
  int size = 0, margin = 0, n = 0, centre = 0;
  int below = 0, above = 0;  // output pixels within this of source ink can be non-zero
  bool dot = false;
  detail::PaddedImage canvas[2];      // source per label (dot kind: both the letter)
  std::vector<detail::Box> boxes[2];  // output boxes that can receive ink, per label
  detail::PaddedImage dot_patch;      // dot kind: the dot, centred on (dot_cx, dot_cy)
  double dot_cx = 0, dot_cy = 0;
  detail::Box dot_ink;      // ink of the dot in patch coordinates
  double dot_range = 0;     // radians
  std::vector<float> spot;  // the target spot rows [spot_y0, spot_y1) × [x0, x1)
  detail::Box spot_box;
};

Generator::Generator(const DatasetOptions& options) : options_(options) {
  options_.validate();
  auto impl = std::make_shared<Impl>();
  Impl& im = *impl;
  im.size = options_.image_size;
  im.margin = detail::Margin(options_);
  im.n = im.size + 2 * im.margin;
  im.centre = im.size / 2;
  im.dot = options_.kind == "dot";
  // Output pixels farther than this from source ink stay 0: output x reads source taps
  // floor(x + d) - 1 .. floor(x + d) + 2 with |d| <= amplitude, i.e. x - ceil(a) - 1 .. x +
  // floor(a) + 2, so ink at s reaches outputs s - floor(a) - 2 .. s + ceil(a) + 1.
  im.below = static_cast<int>(std::floor(options_.amplitude)) + 2;
  im.above = im.margin + 1;
  const int below = im.below, above = im.above;
  const int pad = 2 * im.margin + 5;  // cubic taps of displaced reads near the boxes' edges
  cv::Mat canvas[2] = {detail::RenderCanvas(options_, 0), detail::RenderCanvas(options_, 1)};
  auto to_output = [&](detail::Box b) {
    return detail::Box{b.x0 - im.margin, b.y0 - im.margin, b.x1 - im.margin, b.y1 - im.margin};
  };
  const detail::Box letter = Grow(to_output(InkBox(canvas[0])), below, above, im.size);
  for (int label = 0; label < 2; ++label) {
    ToPadded(canvas[label], pad, &im.canvas[label]);
    im.boxes[label] = {letter};
  }
  if (!im.dot) {
    cv::Mat diff = canvas[1] - canvas[0];
    const detail::Box marks = Grow(to_output(InkBox(diff)), below, above, im.size);
    if (Overlap(letter, marks)) {
      im.boxes[1] = {Union(letter, marks)};
    } else {
      im.boxes[1] = {letter, marks};
    }
  } else {
    cv::Mat d = detail::RenderDot(options_);
    ToPadded(d, pad, &im.dot_patch);
    im.dot_cx = d.cols / 2 - 0.5;
    im.dot_cy = d.rows / 2 - 1;
    im.dot_ink = InkBox(d);
    im.dot_range = options_.dot_angle_range_deg * M_PI / 180.0;
  }
  // The spot exp(-(dx²+dy²)/spot²) around the centre; only its non-zero floats are stored.
  const int c = im.centre;
  const double s2 = options_.spot * options_.spot;
  int r = 0;
  while (r<im.size&& static_cast<float>(std::exp(-(double(r) * r) / s2))> 0.0f) ++r;
  im.spot_box = {std::max(0, c - r), std::max(0, c - r), std::min(im.size, c + r + 1),
                 std::min(im.size, c + r + 1)};
  const auto& b = im.spot_box;
  im.spot.resize(static_cast<size_t>(b.x1 - b.x0) * (b.y1 - b.y0));
  size_t k = 0;
  for (int y = b.y0; y < b.y1; ++y) {
    for (int x = b.x0; x < b.x1; ++x) {
      const double dx = x - c, dy = y - c;
      im.spot[k++] = static_cast<float>(std::exp(-(dx * dx + dy * dy) / s2));
    }
  }
  impl_ = std::move(impl);
}

int Generator::Label(uint64_t stream, uint64_t index) const {
  return detail::LabelOf(detail::SampleKey(options_, stream, index));
}

int Generator::Fill(uint64_t stream, uint64_t index, float* image, float* target) const {
  const Impl& im = *impl_;
  const uint64_t key = detail::SampleKey(options_, stream, index);
  const int label = detail::LabelOf(key);
  const size_t plane = static_cast<size_t>(im.size) * im.size;
  std::memset(image, 0, sizeof(float) * plane);

  static thread_local detail::RawField raw;
  const detail::RawField* field = nullptr;
  float scale_x = 0, scale_y = 0;
  if (options_.amplitude > 0) {
    detail::MakeRawField(key, im.n, options_.kernel, &raw);
    field = &raw;
    scale_x = static_cast<float>(options_.amplitude / raw.max_abs_x);
    scale_y = static_cast<float>(options_.amplitude / raw.max_abs_y);
  }
  const int m = im.margin;
  for (const auto& box : im.boxes[label]) {
    detail::AddCubicSamples(im.canvas[label], m, m, field, m, m, scale_x, scale_y, box, image,
                            im.size);
  }
  detail::Box dot_box;
  if (im.dot && label == 1) {
    const double theta = 1.5 * M_PI + im.dot_range * (detail::DotUOf(key) - 0.5);
    const double tx = im.centre + options_.distance * std::cos(theta);
    const double ty = im.centre + options_.distance * std::sin(theta);
    // Output (x, y) reads the patch at (x + ox, y + oy): the patch is pasted on the pixel grid
    // (like a glyph drawn there, keeping its 4×3 shape), its dot centre within half a pixel of
    // (tx, ty) per axis.
    const double ox = std::round(im.dot_cx - tx), oy = std::round(im.dot_cy - ty);
    // ox, oy are integers: the patch's ink box maps to output pixels exactly.
    const detail::Box ink = {
        im.dot_ink.x0 - static_cast<int>(ox), im.dot_ink.y0 - static_cast<int>(oy),
        im.dot_ink.x1 - static_cast<int>(ox), im.dot_ink.y1 - static_cast<int>(oy)};
    dot_box = Grow(ink, im.below, im.above, im.size);
    detail::AddCubicSamples(im.dot_patch, ox, oy, field, m, m, scale_x, scale_y, dot_box, image,
                            im.size);
  }
  for (const auto& box : im.boxes[label]) detail::ClampBox(box, image, im.size);
  if (!dot_box.empty()) detail::ClampBox(dot_box, image, im.size);

  std::memset(target, 0, sizeof(float) * 2 * plane);
  float* channel = target + (label == 1 ? plane : 0);
  const auto& b = im.spot_box;
  const int w = b.x1 - b.x0;
  for (int y = b.y0; y < b.y1; ++y) {
    std::memcpy(channel + static_cast<size_t>(y) * im.size + b.x0,
                im.spot.data() + static_cast<size_t>(y - b.y0) * w, sizeof(float) * w);
  }
  return label;
}

Sample Generator::Make(uint64_t stream, uint64_t index) const {
  const int s = options_.image_size;
  Sample out;
  out.image = at::empty({1, s, s}, at::kFloat);
  out.target = at::empty({2, s, s}, at::kFloat);
  out.label = Fill(stream, index, out.image.data_ptr<float>(), out.target.data_ptr<float>());
  return out;
}

}  // namespace rfx::data
