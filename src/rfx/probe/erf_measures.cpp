#include "rfx/probe/erf_measures.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "rfx/stats/level.h"

namespace rfx::probe {

const std::vector<double>& AreaFractions() {
  static const std::vector<double> t = {0.2, 0.3, 0.5, 0.99};
  return t;
}

AreaResult ReplknetAreaRatio(const Map& map, double t) {
  AreaResult a;
  a.t = t;
  a.ratio = 1.0;
  if (map.h <= 0 || map.w <= 0) return a;
  const RectSums sums(map);  // any square's mass in O(1)
  const double total = sums.total();
  const int cy = map.h / 2, cx = map.w / 2;
  for (int i = 1; i < map.h / 2; ++i) {
    const int y0 = std::max(0, cy - i), y1 = std::min(map.h - 1, cy + i);
    const int x0 = std::max(0, cx - i), x1 = std::min(map.w - 1, cx + i);
    const double mass = sums.Sum(y0, x0, y1, x1);
    if (mass / total > t) {
      a.side = 2 * i + 1;
      a.ratio = static_cast<double>(a.side) / map.h * a.side / map.w;
      return a;
    }
  }
  return a;
}

ErfMeasures MeasureErf(const Map& sum, int64_t count, const ErfSpec& spec) {
  if (count < 1) throw std::invalid_argument("MeasureErf: count must be >= 1");
  ErfMeasures m;
  m.map = sum;
  if (spec.replknet) {
    double peak = 0;
    for (double& v : m.map.v) {
      v = std::log10(v / static_cast<double>(count) + 1.0);
      peak = std::max(peak, v);
    }
    if (peak > 0) {
      for (double& v : m.map.v) v /= peak;
    }
  } else if (spec.log_scale) {
    m.map = Log10p1(sum);
  }
  const int cy = spec.centre_y >= 0 ? spec.centre_y : m.map.h / 2;
  const int cx = spec.centre_x >= 0 ? spec.centre_x : m.map.w / 2;
  const std::vector<double> row = NormalizeProfile(RowFrom(m.map, cy, cx));
  m.radius = RadiusAtLevel(row, spec.level);
  m.clipped = m.radius >= static_cast<int>(row.size());
  m.fit = FitGaussian(m.map);
  for (double t : AreaFractions()) {
    if (spec.replknet) {
      m.areas.push_back(ReplknetAreaRatio(m.map, t));
    } else {
      m.areas.push_back({t, AreaRatio(m.map, cy, cx, t), 0});
    }
  }
  return m;
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("Quantile of no values");
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= values.size()) return values.back();
  return values[i] + (pos - static_cast<double>(i)) * (values[i + 1] - values[i]);
}

int64_t UnitBlockSize(int64_t samples, int h, int w, int64_t budget_bytes) {
  const int64_t per_map = static_cast<int64_t>(h) * w * static_cast<int64_t>(sizeof(double));
  const int64_t max_units = std::max<int64_t>(1, budget_bytes / std::max<int64_t>(1, per_map));
  if (samples <= max_units) return 1;
  return (samples + max_units - 1) / max_units;
}

ErfCi BootstrapErf(const std::vector<Map>& units, const std::vector<int64_t>& counts,
                   const ErfSpec& spec, int replicates, uint64_t seed) {
  if (units.empty() || units.size() != counts.size() || replicates < 1) {
    throw std::invalid_argument("BootstrapErf: needs units, one count each, replicates >= 1");
  }
  const size_t n = units.size();
  std::mt19937_64 rng(seed);
  // A uniform index in [0, n) from 64 random bits (multiply-shift: the same on every platform,
  // unlike std::uniform_int_distribution).
  auto draw = [&]() {
    return static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
  };
  const size_t nareas = AreaFractions().size();
  std::vector<double> radius, sx, sy;
  std::vector<std::vector<double>> areas(nareas);
  std::vector<int> times(n);
  Map sum = units[0];
  for (int b = 0; b < replicates; ++b) {
    std::fill(times.begin(), times.end(), 0);
    for (size_t k = 0; k < n; ++k) ++times[draw()];
    std::fill(sum.v.begin(), sum.v.end(), 0.0);
    int64_t count = 0;
    for (size_t k = 0; k < n; ++k) {
      if (times[k] == 0) continue;
      const double f = times[k];
      const std::vector<double>& u = units[k].v;
      for (size_t i = 0; i < u.size(); ++i) sum.v[i] += f * u[i];
      count += times[k] * counts[k];
    }
    const ErfMeasures m = MeasureErf(sum, count, spec);
    radius.push_back(m.radius);
    sx.push_back(m.fit.sigma_x);
    sy.push_back(m.fit.sigma_y);
    for (size_t a = 0; a < nareas; ++a) areas[a].push_back(m.areas[a].ratio);
  }
  auto interval = [](const std::vector<double>& v) {
    return Interval{Quantile(v, (1 - stats::kCiLevel) / 2), Quantile(v, (1 + stats::kCiLevel) / 2)};
  };
  ErfCi ci;
  ci.replicates = replicates;
  ci.units = static_cast<int>(n);
  ci.seed = seed;
  ci.radius = interval(radius);
  ci.sigma_x = interval(sx);
  ci.sigma_y = interval(sy);
  for (const auto& a : areas) ci.areas.push_back(interval(a));
  return ci;
}

}  // namespace rfx::probe
