// The procedurally drawn glyphs (OpenCV anti-aliasing, no fonts) and the per-sample draws of the
// recipe, exposed for tests and tools; the generator uses exactly these.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>

#include "datasets/dataset.h"

namespace rfx::data::detail {

// Margin of the augmentation canvas: ceil(amplitude) px per side.
int Margin(const DatasetOptions& options);

// The undistorted source canvas, CV_32F, (image_size + 2·margin)², background 0, ink 1, letter
// centred at image_size/2 + margin. kind "e": label 0 = е, label 1 = ё (with the diaeresis).
// kind "dot": the letter alone (the dot is a separate layer placed per sample).
cv::Mat RenderCanvas(const DatasetOptions& options, int label);

// The dot, CV_32F, centred on pixel (cols/2, rows/2).
cv::Mat RenderDot(const DatasetOptions& options);

// The key all randomness of a sample derives from: DeriveSeed(seed, stream, index).
uint64_t SampleKey(const DatasetOptions& options, uint64_t stream, uint64_t index);
// Label of the sample with `key`: 1 (ё / dot) with probability 1/2.
int LabelOf(uint64_t key);
// u in [0, 1) of the sample with `key`, for the dot's angle 3π/2 + A·(u − 0.5).
double DotUOf(uint64_t key);

}  // namespace rfx::data::detail
