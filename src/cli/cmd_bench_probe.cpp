// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddBenchProbeCommand(CLI::App& bench) {
  bench.add_subcommand("probe", "(not built yet)");
  return []() -> int { throw std::runtime_error("'probe' is not built yet"); };
}

}  // namespace rfx::cli
