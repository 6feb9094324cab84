// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddMergeCommand(CLI::App& app) {
  app.add_subcommand("merge", "(not built yet)");
  return []() -> int { throw std::runtime_error("'merge' is not built yet"); };
}

}  // namespace rfx::cli
