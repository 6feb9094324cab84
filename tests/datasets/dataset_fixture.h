// Shared by the data set tests: draw one sample of a generator, find a label, unaugmented options.
#pragma once

#include <string>
#include <vector>

#include "rfx/data/dataset.h"

namespace rfx::data::testing {

struct Drawn {
  std::vector<float> image, target;
  int label = 0;
};

inline Drawn Draw(const Generator& g, uint64_t index, uint64_t stream = kTrainStream) {
  const size_t plane = static_cast<size_t>(g.options().image_size) * g.options().image_size;
  Drawn d;
  d.image.resize(plane);
  d.target.resize(2 * plane);
  d.label = g.Fill(stream, index, d.image.data(), d.target.data());
  return d;
}

// First index >= from whose label is `label`.
inline uint64_t Find(const Generator& g, int label, uint64_t from = 0) {
  while (g.Label(kTrainStream, from) != label) ++from;
  return from;
}

// Unaugmented options. The glyph set is named at every call: tests of the drawn glyphs' shapes
// must not silently switch to the default (study) set.
inline DatasetOptions NoAugment(DatasetKind kind, int distance, GlyphSet glyphs) {
  DatasetOptions o;
  o.kind = kind;
  o.distance = distance;
  o.amplitude = 0;
  o.glyphs = glyphs;
  return o;
}

}  // namespace rfx::data::testing
