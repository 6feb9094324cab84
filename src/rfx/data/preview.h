// A PNG contact sheet of samples, for eyes: one column per sample; rows: the input, the е target,
// the ё target; each column headed with its class and the distance. Cells show the central part
// of the canvas (the letter, its marks and the spot), upscaled without smoothing.
#pragma once
#include <opencv2/core.hpp>
#include <string>

#include "rfx/data/dataset.h"

namespace rfx::data {

struct PreviewOptions {
  int count = 6;                   // samples (columns), 1..64
  uint64_t stream = kTrainStream;  // which sample stream, from index 0
  int crop = 0;  // side of the central square shown per cell, px (0: 2·(distance + 12), at most
                 // image_size: the letter and its marks, large enough to read)
  int zoom = 0;  // pixel upscale of each cell (0: so a cell is about 256 px)
  void validate() const;  // throws UsageError naming --count
};

// The sheet as an 8-bit BGR image.
cv::Mat RenderPreview(const DatasetOptions& dataset, const PreviewOptions& options);
// Renders and writes it as PNG (atomically); throws naming the path if it cannot.
void WritePreview(const DatasetOptions& dataset, const PreviewOptions& options,
                  const std::string& path);

}  // namespace rfx::data
