// rfx bench probe: the forward depth scan, incremental vs one fresh net per depth, same run.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "rfx/probe/probe.h"

namespace rfx::cli {

Runner AddBenchProbeCommand(CLI::App& bench) {
  CLI::App* cmd = bench.add_subcommand(
      "probe", "Forward depth scan 1..D at S²: incremental vs fresh nets (speedup) [--json]");
  auto o = std::make_shared<probe::BenchOptions>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--max-depth", o->max_depth, "Scan depths 1..D")->capture_default_str();
  cmd->add_option("--size", o->size, "Impulse input side S")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_flag("--json", *json, "Print one JSON object (speedup, incremental_s, fresh_s, ...)");
  return [o, json]() -> int {
    std::fprintf(stderr,
                 "bench probe: depths 1..%d at %d², incremental pass then one fresh net per depth "
                 "(the second pass does ~%d× more layer work)\n",
                 o->max_depth, o->size, (o->max_depth + 1) / 2);
    const nlohmann::json j = probe::RunProbeBench(*o);
    if (*json) {
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "%s on %s, %d thread(s)\nincremental %.2f s, fresh %.2f s: speedup %.1fx; radii %s\n",
          j["benchmark"].get<std::string>().c_str(), j["device"].get<std::string>().c_str(),
          j["threads"].get<int>(), j["incremental_s"].get<double>(), j["fresh_s"].get<double>(),
          j["speedup"].get<double>(), j["radii_match"].get<bool>() ? "match" : "DIFFER");
    }
    return 0;
  };
}

}  // namespace rfx::cli
