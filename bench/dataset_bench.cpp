// Where the data pipeline's time goes (Google Benchmark): the elastic field, one sample, a batch
// source. `rfx bench dataset` is the end-to-end figure recorded in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <vector>

#include "rfx/data/batch_source.h"
#include "rfx/data/dataset.h"
#include "rfx/data/elastic.h"

namespace {

using rfx::data::DatasetOptions;

void BM_RawField(benchmark::State& state) {
  rfx::data::detail::RawField f;
  uint64_t key = 1;
  for (auto _ : state) {
    rfx::data::detail::MakeRawField(key++, 130, 5, &f);
    benchmark::DoNotOptimize(f.max_abs_x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawField);

void BM_Fill(benchmark::State& state) {
  DatasetOptions o;
  o.kind = state.range(0) ? rfx::data::DatasetKind::kDot : rfx::data::DatasetKind::kE;
  o.amplitude = state.range(1) / 10.0;
  rfx::data::Generator g(o);
  std::vector<float> image(128 * 128), target(2 * 128 * 128);
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(g.Fill(0, i++, image.data(), target.data()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Fill)->Args({0, 12})->Args({1, 12})->Args({0, 0});

void BM_BatchSource(benchmark::State& state) {
  DatasetOptions o;
  rfx::data::BatchSourceOptions b;
  b.threads = static_cast<int>(state.range(0));
  b.prefetch = 2 * b.threads + 2;
  rfx::data::BatchSource src(o, b);
  for (auto _ : state) benchmark::DoNotOptimize(src.Next());
  state.SetItemsProcessed(state.iterations() * b.batch_size);
}
BENCHMARK(BM_BatchSource)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
