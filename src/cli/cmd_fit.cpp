// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddFitCommand(CLI::App& app) {
  app.add_subcommand("fit", "(not built yet)");
  return []() -> int { throw std::runtime_error("'fit' is not built yet"); };
}

}  // namespace rfx::cli
