#include "rfx/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/data/elastic.h"
#include "rfx/data/glyphs.h"
#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::data {
namespace {

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

const char* DatasetKindText(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::kE:
      return "e";
    case DatasetKind::kDot:
      return "dot";
  }
  return "e";
}

DatasetKind ParseDatasetKind(const std::string& text) {
  const auto kinds = {DatasetKind::kE, DatasetKind::kDot};
  if (auto kind = FindByText(kinds, DatasetKindText, text)) return *kind;
  throw ConfigError("dataset.kind", "value '" + text + "' is not allowed; allowed: " +
                                        TextList(kinds, DatasetKindText));
}

const char* GlyphSetText(GlyphSet set) {
  switch (set) {
    case GlyphSet::kStudy:
      return "study";
    case GlyphSet::kDrawn:
      return "drawn";
  }
  return "study";
}

GlyphSet ParseGlyphSet(const std::string& text) {
  const auto sets = {GlyphSet::kStudy, GlyphSet::kDrawn};
  if (auto set = FindByText(sets, GlyphSetText, text)) return *set;
  throw ConfigError("dataset.glyphs", "value '" + text + "' is not allowed; allowed: " +
                                          TextList(sets, GlyphSetText));
}

int DatasetOptions::min_distance() const { return detail::MinDistance(*this); }

int DatasetOptions::max_distance() const { return detail::MaxDistance(*this); }

void DatasetOptions::validate() const {
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
                          (kind == DatasetKind::kDot ? "dot" : "diaeresis") + " on a " +
                          std::to_string(image_size) + "² canvas; allowed (0, " +
                          FormatNumber(probe.glyph_scale - 0.01) + "] at this image_size");
  }
  if (distance < lo || distance > hi) {
    const std::string what = kind == DatasetKind::kDot ? "the dot" : "the diaeresis";
    throw ConfigError(
        "dataset.distance",
        "value " + std::to_string(distance) + " is out of range; allowed " + std::to_string(lo) +
            ".." + std::to_string(hi) + " for kind '" + DatasetKindText(kind) + "' at image_size " +
            std::to_string(image_size) + " (" + what +
            (distance < lo ? " would touch the letter)" : " would leave the canvas)"));
  }
}

DatasetOptions DatasetOptions::FromConfig(const Config& config) {
  DatasetOptions o;
  try {
    // Ints into ints, numbers that float pixel maths can hold; validate() has the real ranges.
    o.kind = ParseDatasetKind(config.GetString("dataset.kind"));
    o.glyphs = ParseGlyphSet(config.GetString("dataset.glyphs"));
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
// Generator

struct Generator::Impl {
  int size = 0, margin = 0, n = 0, centre = 0;
  int below = 0, above = 0;  // output pixels within this of source ink can be non-zero
  bool dot = false;
  detail::PaddedImage canvas[2];      // source per label (dot kind: both the letter)
  std::vector<detail::Box> boxes[2];  // output boxes that can receive ink, per label
  detail::DotPatch dot_layer;         // dot kind: the dot layer (glyphs.h)
  detail::PaddedImage dot_patch;      // ... its image with a zero border
  detail::Box dot_rect;               // the dot's pasted rectangle in patch coordinates
  detail::Box letter_ink;             // output pixels of the letter's (unaugmented) ink
  double dot_range = 0;               // radians
  std::vector<float> spot;            // the target spot rows [spot_y0, spot_y1) × [x0, x1)
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
  im.dot = options_.kind == DatasetKind::kDot;
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
  im.letter_ink = to_output(InkBox(canvas[0]));
  const detail::Box letter = Grow(im.letter_ink, below, above, im.size);
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
    im.dot_layer = detail::RenderDot(options_);
    ToPadded(im.dot_layer.image, pad, &im.dot_patch);
    // The study pastes the whole bitmap (it overwrites what is under it); drawn dots add ink.
    im.dot_rect = options_.glyphs == GlyphSet::kStudy
                      ? detail::Box{0, 0, im.dot_layer.image.cols, im.dot_layer.image.rows}
                      : InkBox(im.dot_layer.image);
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
    // The study's angle a is this theta: dot centre (row, column) = (centre + d·sin a,
    // centre + d·cos a), image rows pointing down, so 3π/2 is straight up.
    const double theta = 1.5 * M_PI + im.dot_range * (detail::DotUOf(key) - 0.5);
    const double tx = im.centre + options_.distance * std::cos(theta);
    const double ty = im.centre + options_.distance * std::sin(theta);
    int ox = 0, oy = 0;
    detail::DotOffset(options_, im.dot_layer, tx, ty, &ox, &oy);
    // Output (x, y) shows patch (x + ox, y + oy): the rectangle maps to output pixels exactly.
    const detail::Box rect = {im.dot_rect.x0 - ox, im.dot_rect.y0 - oy, im.dot_rect.x1 - ox,
                              im.dot_rect.y1 - oy};
    dot_box = Grow(rect, im.below, im.above, im.size);
    const detail::PaddedImage* patch = &im.dot_patch;
    if (options_.glyphs == GlyphSet::kStudy && Overlap(rect, im.letter_ink)) {
      // Pasting overwrites: letter + (dot − letter under the rectangle) is the pasted canvas, and
      // the remap is linear, so the letter's ink under the dot leaves the dot's layer.
      static thread_local detail::PaddedImage over;
      over = im.dot_patch;
      const detail::Box both = {
          std::max(rect.x0, im.letter_ink.x0), std::max(rect.y0, im.letter_ink.y0),
          std::min(rect.x1, im.letter_ink.x1), std::min(rect.y1, im.letter_ink.y1)};
      for (int y = both.y0; y < both.y1; ++y) {
        for (int x = both.x0; x < both.x1; ++x) {
          over.row(y + oy)[x + ox] -= im.canvas[0].row(y + m)[x + m];
        }
      }
      patch = &over;
    }
    detail::AddCubicSamples(*patch, ox, oy, field, m, m, scale_x, scale_y, dot_box, image, im.size);
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
