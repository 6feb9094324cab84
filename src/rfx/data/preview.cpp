#include "rfx/data/preview.h"

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/strings.h"

namespace rfx::data {
namespace {

const cv::Scalar kBackground(48, 48, 48), kText(235, 235, 235), kDim(160, 160, 160);

void Text(cv::Mat& img, const std::string& s, int x, int y, const cv::Scalar& colour,
          double size = 0.5) {
  cv::putText(img, s, cv::Point(x, y), cv::FONT_HERSHEY_SIMPLEX, size, colour, 1, cv::LINE_AA);
}

// The central crop×crop square of a float [0,1] plane as an 8-bit BGR cell, upscaled without
// smoothing (pixels stay visible).
cv::Mat Cell(const float* plane, int size, int crop, int zoom, bool heat) {
  cv::Mat f(size, size, CV_32F, const_cast<float*>(plane));
  const int x0 = size / 2 - crop / 2;
  cv::Mat u8, bgr, big;
  f(cv::Rect(x0, x0, crop, crop)).convertTo(u8, CV_8U, 255.0);
  if (heat) {
    cv::applyColorMap(u8, bgr, cv::COLORMAP_INFERNO);
  } else {
    cv::cvtColor(u8, bgr, cv::COLOR_GRAY2BGR);
  }
  cv::resize(bgr, big, cv::Size(crop * zoom, crop * zoom), 0, 0, cv::INTER_NEAREST);
  return big;
}

}  // namespace

void PreviewOptions::validate() const {
  if (count < 1 || count > 64) {
    throw UsageError("--count " + std::to_string(count) + " is out of range; allowed 1..64");
  }
  if (crop < 0) {
    throw UsageError("crop " + std::to_string(crop) + " is out of range; allowed >= 0");
  }
  if (zoom < 0 || zoom > 16) {
    throw UsageError("zoom " + std::to_string(zoom) + " is out of range; allowed 0..16");
  }
}

cv::Mat RenderPreview(const DatasetOptions& dataset, const PreviewOptions& options) {
  options.validate();
  const Generator gen(dataset);
  const int s = dataset.image_size;
  const int crop = std::min(s, options.crop > 0 ? options.crop : 2 * (dataset.distance + 12));
  const int zoom = options.zoom > 0 ? options.zoom : std::max(1, 256 / crop);
  const int cell = crop * zoom, gap = 6, left = 120, head = 46;
  const int n = options.count;
  cv::Mat sheet(head + 3 * (cell + gap) + gap, left + n * (cell + gap) + gap, CV_8UC3, kBackground);
  // Title and row names.
  Text(sheet, dataset.kind == DatasetKind::kDot ? "dot" : "e / yo", 8, 18, kText);
  Text(sheet, "amp " + FormatNumber(dataset.amplitude), 8, 38, kDim, 0.45);
  Text(sheet, "centre " + std::to_string(crop) + "x" + std::to_string(crop), 8,
       head + 3 * (cell + gap) - 22, kDim, 0.4);
  Text(sheet, "of " + std::to_string(s) + "x" + std::to_string(s), 8, head + 3 * (cell + gap) - 6,
       kDim, 0.4);
  const char* rows[3] = {"input", "e target", "yo target"};
  for (int r = 0; r < 3; ++r) {
    Text(sheet, rows[r], 8, head + r * (cell + gap) + cell / 2 + 5, kText);
  }
  std::vector<float> image(static_cast<size_t>(s) * s), target(2 * image.size());
  for (int i = 0; i < n; ++i) {
    const int label = gen.Fill(options.stream, i, image.data(), target.data());
    const int x = left + i * (cell + gap);
    const std::string cls =
        dataset.kind == DatasetKind::kDot ? (label ? "dot" : "no dot") : (label ? "yo" : "e");
    Text(sheet, "#" + std::to_string(i) + "  " + cls + " (" + std::to_string(label) + ")", x, 18,
         kText);
    Text(sheet, "distance " + std::to_string(dataset.distance), x, 38, kDim, 0.45);
    const float* planes[3] = {image.data(), target.data(), target.data() + image.size()};
    for (int r = 0; r < 3; ++r) {
      Cell(planes[r], s, crop, zoom, r > 0)
          .copyTo(sheet(cv::Rect(x, head + r * (cell + gap), cell, cell)));
    }
  }
  return sheet;
}

void WritePreview(const DatasetOptions& dataset, const PreviewOptions& options,
                  const std::string& path) {
  const cv::Mat sheet = RenderPreview(dataset, options);
  std::vector<uchar> png;
  if (!cv::imencode(".png", sheet, png, {cv::IMWRITE_PNG_COMPRESSION, 9})) {
    throw std::runtime_error("could not encode the preview as PNG");
  }
  WriteFileAtomic(path, std::string(png.begin(), png.end()));
}

}  // namespace rfx::data
