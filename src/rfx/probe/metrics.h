// Measures on response maps and profiles, free of torch: radius at a level, Gaussian σ by
// moments, high-contribution area ratios (docs/design.md#forward-pass-estimate,
// #effective-rf-by-gradient).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rfx::probe {

// A row-major H×W map of doubles.
struct Map {
  int h = 0, w = 0;
  std::vector<double> v;  // h*w values
  double at(int y, int x) const { return v[static_cast<size_t>(y) * w + x]; }
  double& at(int y, int x) { return v[static_cast<size_t>(y) * w + x]; }
};

// |p[d]| / max_d |p[d]| (all zeros stay zeros).
std::vector<double> NormalizeProfile(const std::vector<double>& profile);

// The first distance d whose (normalised) profile value is below `level`; profile.size() when
// none is (the field reaches the border: a lower bound).
int RadiusAtLevel(const std::vector<double>& normalized_profile, double level);

// Row `y` of the map from column `x` to the right edge (the centre row "from the centre out").
std::vector<double> RowFrom(const Map& map, int y, int x);

// The radius at a level along one ray from a map pixel: |v|/max over the ray (the pixel itself
// included), first distance below the level; clipped when the ray reaches the map's border
// first (radius = the ray's length: the border's distance + 1, a lower bound).
struct Extent {
  int radius = 0;
  bool clipped = false;
};
// The four rays from (y, x) along its row and column; `right` is RadiusAtLevel of RowFrom.
struct Extents {
  Extent left, right, up, down;
};
Extents DirectionalRadii(const Map& map, int y, int x, double level);

// Gaussian fit by moments per axis: the map's marginal along each axis (sum over the other)
// treated as a mass distribution; σ² its variance, mean its centre. Negative values count as
// mass with their sign (use a non-negative map).
struct GaussianFit {
  double mean_x = 0, mean_y = 0;
  double sigma_x = 0, sigma_y = 0;
};
GaussianFit FitGaussian(const Map& map);

// Sums over axis-aligned rectangles of a map in O(1) (an integral image with a zero border).
class RectSums {
 public:
  explicit RectSums(const Map& map);
  // The mass of rows y0 … y1 and columns x0 … x1 (inclusive, inside the map).
  double Sum(int y0, int x0, int y1, int x1) const {
    return At(y1 + 1, x1 + 1) - At(y0, x1 + 1) - At(y1 + 1, x0) + At(y0, x0);
  }
  double total() const { return s_.empty() ? 0.0 : s_.back(); }

 private:
  double At(int y, int x) const { return s_[static_cast<size_t>(y) * w_ + x]; }
  int w_ = 0;
  std::vector<double> s_;
};

// The smallest square centred on (cy, cx) (side 2h+1, clipped to the map) that holds at least
// fraction t of the map's total mass, as its clipped area over the map's area.
double AreaRatio(const Map& map, int cy, int cx, double t);

// log10(x + 1) element-wise.
Map Log10p1(const Map& map);

// CSV: one line per row, values separated by commas (%.9g). Writes atomically.
void WriteMapCsv(const Map& map, const std::string& path);
// CSV of profiles: header "distance,<col names…>", one line per distance.
void WriteProfilesCsv(const std::vector<std::string>& names,
                      const std::vector<std::vector<double>>& profiles, const std::string& path);

}  // namespace rfx::probe
