// rfx theory: the analytic receptive field of a net, layer by layer (table, JSON or Graphviz).
#include <iostream>

#include "cli/commands.h"
#include "rfx/theory/theory.h"

namespace rfx::cli {

Runner AddTheoryCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "theory", "Analytic receptive field per layer: (--net NAME | --config F) --input N");
  auto options = std::make_shared<theory::TheoryOptions>();
  auto config = std::make_shared<ConfigArgs>();
  std::string names;
  for (const auto& n : theory::NetNames()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option("--net", options->net, "Net: " + names + " (fcn reads net.* from the config)");
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--input", options->input, "Side N of the N×N input (px)")->required();
  cmd->add_option("--format", options->format, "table | json | dot (Graphviz)");
  return [options, config]() -> int {
    if (options->net.empty() && config->files.empty() && config->sets.empty()) {
      throw UsageError("give --net NAME (" + [] {
        std::string s;
        for (const auto& n : theory::NetNames()) s += (s.empty() ? "" : ", ") + n;
        return s;
      }() + ") or --config F (theory.layers or net.*)");
    }
    options->validate();
    const Config c = LoadConfig(*config);
    std::cout << theory::RunTheory(*options, c);
    return 0;
  };
}

}  // namespace rfx::cli
