// What an adaptive sweep spends on deciding (Google Benchmark): NextAdaptive, the staircase's
// step after each training, beside FitPsychometric on the same trials (what `rfx fit` does for
// one depth, the baseline). Both should be nothing next to a training (seconds to minutes).
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "rfx/stats/adaptive.h"
#include "rfx/stats/psychometric.h"

namespace {

using rfx::stats::Trial;

// The swept distances: 7 … 48 (42 values, the study's e-task range).
std::vector<double> Distances() {
  std::vector<double> d;
  for (int v = 7; v <= 48; ++v) d.push_back(v);
  return d;
}

// `n` trials of a depth whose d50 is 15.5 (slope 1.5, lapse 0.05), at distances around it.
std::vector<Trial> Trials(int n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Trial> trials;
  for (int i = 0; i < n; ++i) {
    const double d = 10 + (i * 7) % 12;
    const double p = 0.95 / (1 + std::exp(-(15.5 - d) / 1.5));
    trials.push_back(Trial{d, u(rng) < p});
  }
  return trials;
}

void BM_NextAdaptive(benchmark::State& state) {
  const std::vector<double> distances = Distances();
  const std::vector<Trial> trials = Trials(static_cast<int>(state.range(0)));
  rfx::stats::AdaptiveOptions o;
  o.max_trainings = 1000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rfx::stats::NextAdaptive(distances, trials, 14.0, o));
  }
}
BENCHMARK(BM_NextAdaptive)->Arg(6)->Arg(40)->Arg(200)->Unit(benchmark::kMicrosecond);

void BM_FitPsychometricOneDepth(benchmark::State& state) {
  const std::map<double, std::vector<Trial>> by_depth = {
      {14.0, Trials(static_cast<int>(state.range(0)))}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(rfx::stats::FitPsychometric(by_depth));
  }
}
BENCHMARK(BM_FitPsychometricOneDepth)->Arg(6)->Arg(40)->Arg(200)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
