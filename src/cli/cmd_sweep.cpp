// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddSweepCommand(CLI::App& app) {
  app.add_subcommand("sweep", "(not built yet)");
  return []() -> int { throw std::runtime_error("'sweep' is not built yet"); };
}

}  // namespace rfx::cli
