// The synthetic data sets of the study (DESIGN §1.1): е/ё ("e") and the dot variant.
// Sample i of stream k under seed s is a pure function of (s, k, i, options): batches are the
// same for any thread count or batch size.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>

namespace rfx {
class Config;
}

namespace rfx::data {

// The task (dataset.kind), its text in one place.
enum class DatasetKind {
  kE,    // е/ё: the diaeresis above the letter at `distance`
  kDot,  // the dot variant: one dot at radius `distance` in a random direction
};
const char* DatasetKindText(DatasetKind kind);
// The kind named `text`; ConfigError for dataset.kind naming what is allowed otherwise.
DatasetKind ParseDatasetKind(const std::string& text);

// Which glyphs are pasted (dataset.glyphs), their text in one place.
enum class GlyphSet {
  kStudy,  // the study's own bitmaps (vedenev/receptive_field_research images_symbols/, MIT)
  kDrawn,  // rfx's procedural OpenCV drawing (ellipse е, 3×3 dots)
};
const char* GlyphSetText(GlyphSet set);
// The set named `text`; ConfigError for dataset.glyphs naming what is allowed otherwise.
GlyphSet ParseGlyphSet(const std::string& text);

// Every knob of the recipe; defaults are the paper's values. Config keys under `dataset.`.
struct DatasetOptions {
  DatasetKind kind = DatasetKind::kE;  // dataset.kind: e (е/ё) | dot
  int image_size = 128;                // dataset.image_size: canvas side, px
  int distance = 12;                   // dataset.distance: px (diaeresis gap / dot radius)
  double spot = 1.8;                   // dataset.spot: target Gaussian width, px
  GlyphSet glyphs = GlyphSet::kStudy;  // dataset.glyphs: study | drawn
  double glyph_scale = 1.0;            // dataset.glyph_scale: glyph size multiplier
  double dot_angle_range_deg = 360;    // dataset.dot_angle_range_deg: (0, 360]
  double amplitude = 1.2;              // dataset.augment.amplitude: max displacement, px (>= 0)
  int kernel = 5;                      // dataset.augment.kernel: box blur side (odd, 1..15)
  uint64_t seed = 0;                   // dataset.seed

  // Throws ConfigError naming the key, the value and the allowed range.
  void validate() const;
  // The allowed range of `distance` for the other options: from the smallest gap that keeps the
  // diaeresis off the letter (7 px at glyph_scale 1, both glyph sets; the dot kind uses the same
  // lower end) to the largest that keeps the mark on the canvas (image_size/2 - 1 for "e";
  // for "dot" at glyph_scale 1: image_size/2 - 2 with the study's glyphs, - 4 drawn).
  int min_distance() const;
  int max_distance() const;
  // Reads `dataset.*` and validates (errors carry the key's file line).
  static DatasetOptions FromConfig(const Config& config);
};

// Streams of samples that never overlap: training draws from kTrainStream, evaluation from
// kEvalStream.
constexpr uint64_t kTrainStream = 0;
constexpr uint64_t kEvalStream = 1;

struct Sample {
  at::Tensor image;   // float [1, H, W] in [0, 1], ink 1
  at::Tensor target;  // float [2, H, W]: channel label holds the spot, the other zeros
  int label = 0;      // 0 = е (no diaeresis / no dot), 1 = ё (diaeresis / dot present)
};

// Makes samples; thread-safe (const), cheap to copy.
class Generator {
 public:
  explicit Generator(const DatasetOptions& options);
  const DatasetOptions& options() const { return options_; }
  // Writes sample `index` of `stream` into caller memory: image H*W floats, target 2*H*W.
  // Returns the label.
  int Fill(uint64_t stream, uint64_t index, float* image, float* target) const;
  Sample Make(uint64_t stream, uint64_t index) const;
  // The label of sample `index` of `stream` without drawing it.
  int Label(uint64_t stream, uint64_t index) const;
  // The centre of the letter (and of the target spot), px: (image_size/2, image_size/2).
  int centre() const { return options_.image_size / 2; }

 private:
  DatasetOptions options_;
  // Pre-rendered glyph layers etc. live behind this pointer (src/rfx/data/*.cpp).
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace rfx::data
