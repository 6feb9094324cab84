// The two glyph sets (dataset.glyphs) and the per-sample draws of the recipe, exposed for tests
// and tools; the generator uses exactly these.
//  - study: the study's own bitmaps (vedenev/receptive_field_research, images_symbols/, MIT
//    licence; ink = 255 − grey), pasted by overwriting at the study's positions, resized with
//    area averaging (cv::INTER_AREA) when glyph_scale != 1.
//  - drawn: rfx's procedural glyphs (OpenCV anti-aliasing, no fonts).
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>

#include "rfx/data/dataset.h"

namespace rfx::data::detail {

// Margin of the augmentation canvas: ceil(amplitude) px per side.
int Margin(const DatasetOptions& options);

// DatasetOptions::min_distance / max_distance (the glyphs' geometry decides them).
int MinDistance(const DatasetOptions& options);
int MaxDistance(const DatasetOptions& options);

// The undistorted source canvas, CV_32F, (image_size + 2·margin)², background 0, ink in [0, 1],
// letter centred at image_size/2 + margin (the study's "centre" is image_size/2 of the visible
// image). kind "e": label 0 = е, label 1 = ё (with the diaeresis). kind "dot": the letter alone
// (the dot is a separate layer placed per sample).
cv::Mat RenderCanvas(const DatasetOptions& options, int label);

// The dot layer: a CV_32F patch and the point of it (column ax, row ay, patch px) that goes to
// the dot's position.
struct DotPatch {
  cv::Mat image;
  double ax = 0, ay = 0;
};
DotPatch RenderDot(const DatasetOptions& options);

// The integer shift (ox, oy) that puts the dot whose exact centre is (tx, ty) (column, row of
// the visible image) on the pixel grid: output pixel (x, y) shows patch pixel (x + ox, y + oy).
//  - drawn: the patch's centre within half a pixel of (tx, ty): ox = round(ax − tx).
//  - study: the anchor pixel on (round(ty), round(tx)), as the study pastes it: ox = ax −
//  round(tx).
void DotOffset(const DatasetOptions& options, const DotPatch& dot, double tx, double ty, int* ox,
               int* oy);

// The key all randomness of a sample derives from: DeriveSeed(seed, stream, index).
uint64_t SampleKey(const DatasetOptions& options, uint64_t stream, uint64_t index);
// Label of the sample with `key`: 1 (ё / dot) with probability 1/2.
int LabelOf(uint64_t key);
// u in [0, 1) of the sample with `key`, for the dot's angle 3π/2 + A·(u − 0.5).
double DotUOf(uint64_t key);

}  // namespace rfx::data::detail
