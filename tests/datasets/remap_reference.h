// The reference the generator's local remap is checked against: OpenCV's cubic remap of a whole
// source canvas (image_size + 2·margin, square) with a sample's displacement field.
#pragma once
#include <cstdint>
#include <opencv2/imgproc.hpp>

#include "rfx/data/dataset.h"
#include "rfx/data/elastic.h"

namespace rfx::data {

inline cv::Mat CvRemapReference(const cv::Mat& canvas, uint64_t key, const DatasetOptions& o) {
  const int n = canvas.rows;
  const auto disp = detail::MakeDisplacement(key, n, o.kernel, o.amplitude);
  cv::Mat mx(n, n, CV_32F), my(n, n, CV_32F);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      mx.at<float>(y, x) = x + disp.dx[y * n + x];
      my.at<float>(y, x) = y + disp.dy[y * n + x];
    }
  }
  cv::Mat out;
  cv::remap(canvas, out, mx, my, cv::INTER_CUBIC, cv::BORDER_CONSTANT);
  return out;
}

}  // namespace rfx::data
