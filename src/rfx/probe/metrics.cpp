#include "rfx/probe/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "rfx/util/files.h"

namespace rfx::probe {

std::vector<double> NormalizeProfile(const std::vector<double>& profile) {
  double m = 0;
  for (double v : profile) m = std::max(m, std::abs(v));
  std::vector<double> out(profile.size(), 0.0);
  if (m > 0) {
    for (size_t i = 0; i < profile.size(); ++i) out[i] = std::abs(profile[i]) / m;
  }
  return out;
}

int RadiusAtLevel(const std::vector<double>& p, double level) {
  for (size_t d = 0; d < p.size(); ++d) {
    if (p[d] < level) return static_cast<int>(d);
  }
  return static_cast<int>(p.size());
}

std::vector<double> RowFrom(const Map& map, int y, int x) {
  std::vector<double> row;
  for (int c = x; c < map.w; ++c) row.push_back(map.at(y, c));
  return row;
}

Extents DirectionalRadii(const Map& map, int y, int x, double level) {
  auto ray = [&](int dy, int dx) {
    std::vector<double> v;
    for (int r = y, c = x; r >= 0 && r < map.h && c >= 0 && c < map.w; r += dy, c += dx) {
      v.push_back(map.at(r, c));
    }
    Extent e;
    e.radius = RadiusAtLevel(NormalizeProfile(v), level);
    e.clipped = e.radius >= static_cast<int>(v.size());
    return e;
  };
  return {ray(0, -1), ray(0, 1), ray(-1, 0), ray(1, 0)};
}

GaussianFit FitGaussian(const Map& map) {
  std::vector<double> mx(map.w, 0.0), my(map.h, 0.0);
  for (int y = 0; y < map.h; ++y) {
    for (int x = 0; x < map.w; ++x) {
      mx[x] += map.at(y, x);
      my[y] += map.at(y, x);
    }
  }
  auto moments = [](const std::vector<double>& m, double* mean, double* sigma) {
    double s0 = 0, s1 = 0;
    for (size_t i = 0; i < m.size(); ++i) {
      s0 += m[i];
      s1 += m[i] * static_cast<double>(i);
    }
    if (s0 == 0) {
      *mean = *sigma = 0;
      return;
    }
    *mean = s1 / s0;
    double s2 = 0;
    for (size_t i = 0; i < m.size(); ++i) {
      const double d = static_cast<double>(i) - *mean;
      s2 += m[i] * d * d;
    }
    *sigma = std::sqrt(std::max(0.0, s2 / s0));
  };
  GaussianFit f;
  moments(mx, &f.mean_x, &f.sigma_x);
  moments(my, &f.mean_y, &f.sigma_y);
  return f;
}

RectSums::RectSums(const Map& map) : w_(map.w + 1) {
  s_.assign(static_cast<size_t>(map.h + 1) * w_, 0.0);
  for (int y = 0; y < map.h; ++y) {
    double row = 0;
    for (int x = 0; x < map.w; ++x) {
      row += map.at(y, x);
      s_[static_cast<size_t>(y + 1) * w_ + x + 1] = s_[static_cast<size_t>(y) * w_ + x + 1] + row;
    }
  }
}

double AreaRatio(const Map& map, int cy, int cx, double t) {
  if (map.h <= 0 || map.w <= 0) return 0;
  const RectSums sums(map);
  const double total = sums.total();
  if (!(total > 0)) return 0;
  const int hmax = std::max({cy, map.h - 1 - cy, cx, map.w - 1 - cx});
  for (int h = 0; h <= hmax; ++h) {
    const int y0 = std::max(0, cy - h), y1 = std::min(map.h - 1, cy + h);
    const int x0 = std::max(0, cx - h), x1 = std::min(map.w - 1, cx + h);
    const double mass = sums.Sum(y0, x0, y1, x1);
    // A tiny tolerance so that "exactly t" counts despite rounding in the sums.
    if (mass >= t * total * (1 - 1e-12)) {
      return static_cast<double>(y1 - y0 + 1) * (x1 - x0 + 1) /
             (static_cast<double>(map.h) * map.w);
    }
  }
  return 1.0;
}

Map Log10p1(const Map& map) {
  Map out = map;
  for (double& v : out.v) v = std::log10(v + 1.0);
  return out;
}

void WriteMapCsv(const Map& map, const std::string& path) {
  std::string s;
  s.reserve(static_cast<size_t>(map.h) * map.w * 12);
  char buf[32];
  for (int y = 0; y < map.h; ++y) {
    for (int x = 0; x < map.w; ++x) {
      std::snprintf(buf, sizeof buf, x ? ",%.9g" : "%.9g", map.at(y, x));
      s += buf;
    }
    s += '\n';
  }
  WriteFileAtomic(path, s);
}

void WriteProfilesCsv(const std::vector<std::string>& names,
                      const std::vector<std::vector<double>>& profiles, const std::string& path) {
  if (names.size() != profiles.size()) throw std::invalid_argument("WriteProfilesCsv: sizes");
  size_t n = 0;
  for (const auto& p : profiles) n = std::max(n, p.size());
  std::string s = "distance";
  for (const auto& name : names) s += "," + name;
  s += '\n';
  char buf[32];
  for (size_t d = 0; d < n; ++d) {
    s += std::to_string(d);
    for (const auto& p : profiles) {
      if (d < p.size()) {
        std::snprintf(buf, sizeof buf, ",%.9g", p[d]);
        s += buf;
      } else {
        s += ",";
      }
    }
    s += '\n';
  }
  WriteFileAtomic(path, s);
}

}  // namespace rfx::probe
