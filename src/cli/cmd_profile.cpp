// rfx profile: forward, backward and optimizer time per layer of a training step, and its share.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "rfx/train/profile.h"

namespace rfx::cli {

namespace {

std::vector<int64_t> ParseHW(const std::string& text) {
  std::vector<int64_t> hw;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    long long v = 0;
    if (!ParseConfigInt(part, &v) || v < 1 || v > 65536) {
      hw.clear();
      break;
    }
    hw.push_back(v);
  }
  if (hw.size() != 2) {
    throw UsageError("--input-shape '" + text +
                     "' is not H,W (two integers 1..65536, e.g. 120,160)");
  }
  return hw;
}

void PrintRow(const train::ProfileRow& row, double step_ms) {
  std::printf("%-24s %10lld %-6s %10.2f %11.2f %12.2f %10.2f %6.1f%%\n", row.name.c_str(),
              static_cast<long long>(row.parameters), row.frozen ? "frozen" : "", row.forward_ms,
              row.backward_ms, row.optimizer_ms, row.total_ms(),
              step_ms > 0 ? 100 * row.total_ms() / step_ms : 0.0);
}

}  // namespace

Runner AddProfileCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "profile",
      "Time a training step of the configured net per layer (forward, backward, optimizer)");
  auto config = std::make_shared<ConfigArgs>();
  auto o = std::make_shared<train::ProfileOptions>();
  auto shape = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--steps", o->steps, "Timed steps (means over the faster half are reported)")
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Untimed steps first")->capture_default_str();
  cmd->add_option("--input-shape", *shape,
                  "H,W of a noise input instead of a real batch of dataset.image_size²");
  cmd->add_flag("--json", *json, "Print one JSON object");
  return [config, o, shape, json]() -> int {
    if (o->steps < 1) {
      throw UsageError("--steps " + std::to_string(o->steps) + " is out of range; allowed >= 1");
    }
    if (o->warmup < 0) {
      throw UsageError("--warmup " + std::to_string(o->warmup) + " is out of range; allowed >= 0");
    }
    if (!shape->empty()) o->input_hw = ParseHW(*shape);
    const train::ProfileResult r = train::RunProfile(LoadConfig(*config), *o);
    if (*json) {
      std::cout << r.ToJson().dump() << std::endl;
      return 0;
    }
    std::printf(
        "%s on %s (%d threads), batch %d of 1x%lldx%lld, faster half of %d steps (%d warm-up)\n",
        r.arch.c_str(), r.device.c_str(), r.threads, r.batch, static_cast<long long>(r.height),
        static_cast<long long>(r.width), r.steps, r.warmup);
    std::printf("%-24s %10s %-6s %10s %11s %12s %10s %7s\n", "layer", "params", "", "forward ms",
                "backward ms", "optimizer ms", "total ms", "share");
    for (const auto& row : r.layers) PrintRow(row, r.step_ms);
    PrintRow(r.loss, r.step_ms);
    PrintRow(r.other, r.step_ms);
    std::printf(
        "sum of the rows %.2f ms (layers %.2f ms); step measured separately %.2f ms; "
        "gap %+.1f%%\n",
        r.sum_ms(), r.layers_ms(), r.step_ms, 100 * r.gap());
    return 0;
  };
}

}  // namespace rfx::cli
