// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddDatasetCommand(CLI::App& app) {
  app.add_subcommand("dataset", "(not built yet)");
  return []() -> int { throw std::runtime_error("'dataset' is not built yet"); };
}

}  // namespace rfx::cli
