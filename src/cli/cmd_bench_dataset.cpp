// rfx bench dataset: samples/s of the batch source (T producer threads) on the configured data.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rfx/data/throughput.h"

namespace rfx::cli {

Runner AddBenchDatasetCommand(CLI::App& bench) {
  CLI::App* cmd = bench.add_subcommand(
      "dataset", "Samples/s of the data pipeline: [--threads T] [--seconds S] [--json]");
  auto config = std::make_shared<ConfigArgs>();
  auto options = std::make_shared<data::ThroughputOptions>();
  auto json = std::make_shared<bool>(false);
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--threads", options->threads, "Producer threads")->capture_default_str();
  cmd->add_option("--seconds", options->seconds, "Measuring time")->capture_default_str();
  cmd->add_flag("--json", *json, "Print one JSON object (samples_per_s, threads, ...)");
  return [config, options, json]() -> int {
    options->validate();
    const Config c = LoadConfig(*config);
    const auto dataset = data::DatasetOptions::FromConfig(c);
    const data::ThroughputResult r = data::MeasureThroughput(dataset, *options);
    if (*json) {
      nlohmann::json j = {{"samples_per_s", r.samples_per_s},
                          {"threads", r.threads},
                          {"samples", r.samples},
                          {"seconds", r.seconds},
                          {"cpu_seconds", r.cpu_seconds},
                          {"samples_per_cpu_s", r.samples / std::max(1e-9, r.cpu_seconds)},
                          {"batch_size", r.batch_size},
                          {"image_size", r.image_size},
                          {"kind", data::DatasetKindText(r.kind)}};
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "dataset %s %d²: %.0f samples/s on %d thread(s) (batch %d, %lld samples in %.2f s)\n",
          data::DatasetKindText(r.kind), r.image_size, r.samples_per_s, r.threads, r.batch_size,
          static_cast<long long>(r.samples), r.seconds);
    }
    return 0;
  };
}

}  // namespace rfx::cli
