// The measures of a gradient ERF map (docs/design.md#effective-rf-by-gradient), how the map is
// scaled before them (rfx's own options or RepLKNet's erf scripts), and their bootstrap confidence
// intervals over the input samples. Free of torch.
#pragma once
#include <cstdint>
#include <vector>

#include "rfx/probe/metrics.h"

namespace rfx::probe {

// How an accumulated map (a sum over `count` samples) becomes the measured map.
struct ErfSpec {
  bool log_scale = false;  // log10(sum + 1) (rfx's --scale log: on the sum, not the mean)
  // RepLKNet (erf/visualize_erf.py + analyze_erf.py): log10(mean over samples + 1), divided by
  // its max; area ratios by ReplknetAreaRatio.
  bool replknet = false;
  double level = 0.0012;  // radius threshold on the normalised centre row
  // The pixel the radius and rfx's area ratios are centred on (--position's input pixel);
  // -1: the map's centre (H/2, W/2). RepLKNet's area ratio always uses the map's centre.
  int centre_y = -1, centre_x = -1;
};

struct AreaResult {
  double t = 0;
  double ratio = 0;
  int side = 0;  // side of the square found (RepLKNet's side length; 0 under rfx's rule)
};

struct ErfMeasures {
  Map map;         // the measured (scaled) map
  int radius = 0;  // centre row from (H/2, W/2) (or spec's centre) to the right
  bool clipped = false;
  GaussianFit fit;                // moments of `map`
  std::vector<AreaResult> areas;  // one per AreaFractions() entry
};

// Area-ratio fractions reported by the gradient probe (RepLKNet's thresholds).
const std::vector<double>& AreaFractions();

// Measures of `sum`, an accumulation over `count` samples, per `spec`.
ErfMeasures MeasureErf(const Map& sum, int64_t count, const ErfSpec& spec);

// RepLKNet's high-contribution area ratio (analyze_erf.py get_rectangle): for i = 1, 2, …,
// H/2 − 1 the square of side 2i+1 centred on (H/2, W/2) — the first whose mass is strictly
// more than t of the map's total — and (2i+1)/H · (2i+1)/W. Where no such square exists their
// script fails; here side = 0 and ratio = 1.
AreaResult ReplknetAreaRatio(const Map& map, double t);

struct Interval {
  double lo = 0, hi = 0;
};

// 95% percentile bootstrap intervals.
struct ErfCi {
  int replicates = 0;  // B
  int units = 0;       // resampling units (samples, or blocks of samples; see BootstrapErf)
  uint64_t seed = 0;
  Interval radius, sigma_x, sigma_y;
  std::vector<Interval> areas;  // per AreaFractions() entry
};

// Bootstrap over resampling units: unit i holds the sum of `counts[i]` samples' maps. Each of
// `replicates` replicates draws units.size() units with replacement (std::mt19937_64 seeded
// with `seed`), sums them (and their counts), and measures the sum per `spec`; the interval is
// the 2.5% and 97.5% quantiles (linear interpolation) of the replicates.
ErfCi BootstrapErf(const std::vector<Map>& units, const std::vector<int64_t>& counts,
                   const ErfSpec& spec, int replicates, uint64_t seed);

// The q-quantile (0…1) of `values` with linear interpolation between order statistics
// (numpy's default). `values` must not be empty.
double Quantile(std::vector<double> values, double q);

// Resampling units for `samples` samples of h×w maps when at most `budget_bytes` may hold them
// (as doubles): every sample its own unit when they fit, else consecutive blocks of equal size
// (the last may be smaller). Returns the block size (samples per unit), >= 1.
int64_t UnitBlockSize(int64_t samples, int h, int w, int64_t budget_bytes);

}  // namespace rfx::probe
