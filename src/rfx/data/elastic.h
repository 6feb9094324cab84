// The elastic augmentation's random displacement fields and the cubic sampler (DESIGN §1.1),
// written for speed: a counter-based hash makes the uniform noise (so a sample's field is a
// pure function of its key), a running-sum box blur with reflect-101 borders (cv::blur's
// default) smooths it, and the fields stay integers until they are scaled.
// Light header (no OpenCV, no torch) so the hot loops compile without the PCH.
#pragma once
#include <cstdint>
#include <vector>

namespace rfx::data::detail {

// 32 well-mixed bits for counter `i` under `key` (the noise generator; vectorisable).
uint32_t HashWord(uint64_t key, uint32_t i);

// The raw fields of one sample on an n×n grid (canvas plus margin): for each axis, the k×k box
// sum (reflect-101 borders, as cv::blur) of integer noise uniform over the odd values in
// [-NoiseMax(k), NoiseMax(k)] (uniform(-1,1) in steps of 2/(NoiseMax+1), times NoiseMax); `max_abs`
// is the largest |sum|. The displacement in px is raw · amplitude / max_abs: uniform field, box
// blur, divided by its max, times the amplitude (the blur's 1/k² and the noise scale cancel).
// NoiseMax(k) = 2^b - 1 with b = 8 bits (b = 7 for k > 11 so the k² sums fit int16): 256 levels,
// far finer than the blurred field needs (a sum of k² of them, then normalised).
struct RawField {
  int n = 0;
  int stride = 0, offset = 0;  // value (row r, column c) at [r * stride + offset + c]
  std::vector<int16_t> x, y;   // n rows of `stride` values (pads are 0)
  int32_t max_abs_x = 1, max_abs_y = 1;
  int16_t X(int r, int c) const { return x[static_cast<size_t>(r) * stride + offset + c]; }
  int16_t Y(int r, int c) const { return y[static_cast<size_t>(r) * stride + offset + c]; }
};
int NoiseMax(int kernel);

// Computes the raw fields for `key`. `field` is reused as scratch (no allocation once sized).
void MakeRawField(uint64_t key, int n, int kernel, RawField* field);

// The displacement in px of one axis: raw · amplitude / max_abs (|value| <= amplitude, with
// equality at the largest |raw|).
struct Displacement {
  int n = 0;
  std::vector<float> dx, dy;  // n*n
};
Displacement MakeDisplacement(uint64_t key, int n, int kernel, double amplitude);

// A float image with a zero border of `pad` px on every side, so cubic taps never need bounds
// checks: pixel (x, y) of the w×h content is data[(y + pad) * stride + x + pad].
struct PaddedImage {
  int w = 0, h = 0, pad = 0, stride = 0;
  std::vector<float> data;
  void Reset(int width, int height, int border) {
    w = width, h = height, pad = border, stride = width + 2 * border;
    data.assign(static_cast<size_t>(stride) * (height + 2 * border), 0.0f);
  }
  float* row(int y) { return data.data() + static_cast<size_t>(y + pad) * stride + pad; }
  const float* row(int y) const {
    return data.data() + static_cast<size_t>(y + pad) * stride + pad;
  }
};

// A rectangle of output pixels [x0, x1) × [y0, y1).
struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool empty() const { return x1 <= x0 || y1 <= y0; }
};

// For every output pixel (x, y) in `box` of an out_w-wide image, adds the cubic sample of `src`
// at (x + ox + dx, y + oy + dy), where dx/dy come from the raw field at grid cell
// (x + gx, y + gy) times `scale_x`/`scale_y` (field == nullptr: no displacement). Source
// positions outside src's content read 0 (they must stay within its zero border).
void AddCubicSamples(const PaddedImage& src, double ox, double oy, const RawField* field, int gx,
                     int gy, float scale_x, float scale_y, const Box& box, float* out, int out_w);

// Clamps out[box] to [0, 1] (cubic interpolation overshoots; ink is at most 1).
void ClampBox(const Box& box, float* out, int out_w);

}  // namespace rfx::data::detail
