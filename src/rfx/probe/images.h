// Real images as probe inputs (`rfx probe gradient --inputs DIR`): listing, decoding through
// OpenCV, resizing, centre-cropping and normalising to a net's input.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rfx::probe {

// How images become inputs of a net: `channels` planes (1: grey, 3: RGB) of size×size, pixel
// values in [0, 1], then (v − mean[c]) / std[c] (one value for every channel or one per channel).
struct ImageInputOptions {
  int channels = 1;
  int size = 0;
  std::vector<double> mean = {0.0};
  std::vector<double> std = {1.0};
  void validate() const;  // UsageError naming --mean / --std
};

// The PNG and JPEG files (.png, .jpg, .jpeg, any case) directly in `dir`, sorted by name.
// UsageError naming --inputs when `dir` is not a readable directory or holds no such file.
std::vector<std::string> ListImages(const std::string& dir);

// One image file as a channels×size×size float tensor: decoded by cv::imread (grey for one
// channel, else colour as RGB), its shorter side resized to `size` (area interpolation when
// shrinking, bilinear when enlarging), centre-cropped to size×size (the extra pixel of an odd
// excess on the bottom/right), scaled to [0, 1] (8- or 16-bit) and normalised. UsageError naming
// --inputs and the file when it cannot be decoded, or when its header declares more than
// kMaxImagePixels (checked before decoding: a 60000² PNG failed in OpenCV with no file name).
constexpr int64_t kMaxImagePixels = int64_t{8192} * 8192;
at::Tensor LoadImage(const std::string& path, const ImageInputOptions& options);

// "0.5" or "0.485,0.456,0.406" → values; UsageError naming `flag`.
std::vector<double> ParseDoubles(const std::string& spec, const std::string& flag);

}  // namespace rfx::probe
