// Placeholder until the command is built: registers the name so the table is complete.
#include "cli/commands.h"

namespace rfx::cli {

Runner AddTrainCommand(CLI::App& app) {
  app.add_subcommand("train", "(not built yet)");
  return []() -> int { throw std::runtime_error("'train' is not built yet"); };
}

}  // namespace rfx::cli
