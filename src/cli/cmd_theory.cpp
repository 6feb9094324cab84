// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddTheoryCommand(CLI::App& app) {
  app.add_subcommand("theory", "(not built yet)");
  return []() -> int { throw std::runtime_error("'theory' is not built yet"); };
}

}  // namespace rfx::cli
