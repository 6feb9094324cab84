#include "rfx/probe/images.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "rfx/util/error.h"

namespace rfx::probe {

namespace fs = std::filesystem;

void ImageInputOptions::validate() const {
  if (channels < 1) throw std::invalid_argument("ImageInputOptions: channels must be >= 1");
  if (size < 1) throw std::invalid_argument("ImageInputOptions: size must be >= 1");
  auto check = [&](const std::vector<double>& v, const std::string& flag) {
    if (v.size() != 1 && v.size() != static_cast<size_t>(channels)) {
      throw UsageError(flag + " has " + std::to_string(v.size()) + " values; allowed: 1 or " +
                       std::to_string(channels) + " (one per input channel)");
    }
    for (double x : v) {
      if (!std::isfinite(x)) throw UsageError(flag + " values must be finite");
    }
  };
  check(mean, "--mean");
  check(std, "--std");
  for (double s : std) {
    if (!(s > 0)) throw UsageError("--std " + std::to_string(s) + " must be > 0");
  }
}

std::vector<std::string> ListImages(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw UsageError("--inputs '" + dir + "' is not a directory");
  }
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") files.push_back(it->path().string());
  }
  if (ec) throw UsageError("--inputs '" + dir + "' cannot be read: " + ec.message());
  if (files.empty()) {
    throw UsageError("--inputs '" + dir + "' holds no PNG or JPEG file (.png, .jpg, .jpeg)");
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

// The width and height a PNG (IHDR) or JPEG (its SOFn marker) declares, read from its header
// before anything is decoded; false when the header cannot be read (the decoder then decides).
bool HeaderSize(const std::string& path, int64_t* w, int64_t* h) {
  std::ifstream in(path, std::ios::binary);
  unsigned char b[24];
  if (!in.read(reinterpret_cast<char*>(b), 2)) return false;
  auto be = [](const unsigned char* p, int n) {
    int64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
  };
  if (b[0] == 0x89 && b[1] == 'P') {  // PNG: signature, IHDR length and type, width, height
    if (!in.read(reinterpret_cast<char*>(b + 2), 22) || std::memcmp(b + 12, "IHDR", 4) != 0) {
      return false;
    }
    *w = be(b + 16, 4);
    *h = be(b + 20, 4);
    return true;
  }
  if (b[0] != 0xFF || b[1] != 0xD8) return false;
  for (int segments = 0; segments < 10000; ++segments) {  // JPEG: walk the segments to a SOFn
    if (!in.read(reinterpret_cast<char*>(b), 2) || b[0] != 0xFF) return false;
    const int marker = b[1];
    if (marker == 0xFF) {  // fill byte
      in.seekg(-1, std::ios::cur);
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;
    if (!in.read(reinterpret_cast<char*>(b), 2)) return false;
    const int64_t length = be(b, 2);
    if (length < 2) return false;
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (!in.read(reinterpret_cast<char*>(b), 5)) return false;
      *h = be(b + 1, 2);
      *w = be(b + 3, 2);
      return true;
    }
    in.seekg(length - 2, std::ios::cur);
  }
  return false;
}

}  // namespace

at::Tensor LoadImage(const std::string& path, const ImageInputOptions& o) {
  o.validate();
  if (o.channels != 1 && o.channels != 3) {
    throw std::invalid_argument("LoadImage: channels must be 1 or 3");
  }
  int64_t w = 0, h = 0;
  if (HeaderSize(path, &w, &h) && (w < 1 || h < 1 || w * h > kMaxImagePixels)) {
    throw UsageError("--inputs: '" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                     " pixels; allowed: at most " + std::to_string(kMaxImagePixels) +
                     " pixels (8192x8192), at least 1x1");
  }
  cv::Mat img;
  try {
    img = cv::imread(
        path, (o.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR) | cv::IMREAD_ANYDEPTH);
  } catch (const cv::Exception& e) {
    throw UsageError("--inputs: cannot decode '" + path + "' (" + e.err + ")");
  }
  if (img.empty()) {
    throw UsageError("--inputs: cannot decode '" + path + "' as an image (PNG or JPEG)");
  }
  if (o.channels == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  const double full = img.depth() == CV_16U ? 65535.0 : 255.0;
  img.convertTo(img, CV_32F, 1.0 / full);
  // Shorter side to `size`, then the centred size×size crop.
  const double scale = static_cast<double>(o.size) / std::min(img.rows, img.cols);
  const int rows = std::max(o.size, static_cast<int>(std::lround(img.rows * scale)));
  const int cols = std::max(o.size, static_cast<int>(std::lround(img.cols * scale)));
  if (rows != img.rows || cols != img.cols) {
    cv::resize(img, img, cv::Size(cols, rows), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  const cv::Rect crop((cols - o.size) / 2, (rows - o.size) / 2, o.size, o.size);
  cv::Mat square = img(crop).clone();
  std::vector<cv::Mat> planes;
  cv::split(square, planes);
  at::Tensor out = at::empty({o.channels, o.size, o.size}, at::kFloat);
  for (int c = 0; c < o.channels; ++c) {
    const double m = o.mean.size() == 1 ? o.mean[0] : o.mean[c];
    const double s = o.std.size() == 1 ? o.std[0] : o.std[c];
    const cv::Mat& p = planes[c];
    float* dst = out[c].data_ptr<float>();
    for (int y = 0; y < o.size; ++y) {
      const float* src = p.ptr<float>(y);
      for (int x = 0; x < o.size; ++x) {
        dst[static_cast<size_t>(y) * o.size + x] = static_cast<float>((src[x] - m) / s);
      }
    }
  }
  return out;
}

std::vector<double> ParseDoubles(const std::string& spec, const std::string& flag) {
  std::vector<double> out;
  std::string cur;
  for (size_t i = 0; i <= spec.size(); ++i) {
    if (i == spec.size() || spec[i] == ',') {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(cur, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (cur.empty() || used != cur.size() || !std::isfinite(v)) {
        throw UsageError(flag + " '" + spec + "': '" + cur +
                         "' is not a number; allowed: one number or a list like 0.5,0.4,0.3");
      }
      out.push_back(v);
      cur.clear();
    } else if (spec[i] != ' ') {
      cur += spec[i];
    }
  }
  return out;
}

}  // namespace rfx::probe
