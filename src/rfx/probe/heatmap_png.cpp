// WriteHeatmapPng (heatmap_png.h): a map as a colour PNG.
#include "rfx/probe/heatmap_png.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace rfx::probe {

void WriteHeatmapPng(const Map& map, const std::string& path) {
  if (map.h <= 0 || map.w <= 0) throw std::invalid_argument("WriteHeatmapPng: empty map");
  double lo = map.v[0], hi = map.v[0];
  for (double v : map.v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  cv::Mat gray(map.h, map.w, CV_8UC1);
  for (int y = 0; y < map.h; ++y) {
    for (int x = 0; x < map.w; ++x) {
      const double t = hi > lo ? (map.at(y, x) - lo) / (hi - lo) : 0.0;
      gray.at<uint8_t>(y, x) = static_cast<uint8_t>(std::lround(255.0 * t));
    }
  }
  cv::Mat colour;
  cv::applyColorMap(gray, colour, cv::COLORMAP_INFERNO);
  const int factor = std::max(1, (256 + std::min(map.h, map.w) - 1) / std::min(map.h, map.w));
  if (factor > 1) {
    cv::resize(colour, colour, cv::Size(), factor, factor, cv::INTER_NEAREST);
  }
  if (!cv::imwrite(path, colour)) throw std::runtime_error("cannot write " + path);
}

}  // namespace rfx::probe
