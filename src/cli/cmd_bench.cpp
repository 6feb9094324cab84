#include "cli/commands.h"

namespace rfx::cli {

Runner AddBenchCommand(CLI::App& app) {
  CLI::App* bench =
      app.add_subcommand("bench", "Benchmarks: dataset, train, probe (JSON with --json)");
  bench->require_subcommand(1);
  std::vector<std::pair<CLI::App*, Runner>> subs;
  for (auto add : {AddBenchDatasetCommand, AddBenchTrainCommand, AddBenchProbeCommand}) {
    Runner run = add(*bench);
    subs.emplace_back(bench->get_subcommands({}).back(), std::move(run));
  }
  return Dispatch(bench, subs);
}

}  // namespace rfx::cli
