// rfx theory: the analytic receptive field of a net, layer by layer (table, JSON or Graphviz).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "rfx/theory/theory.h"
#include "rfx/util/enum_text.h"
#include "rfx/util/strings.h"

namespace rfx::cli {

namespace {

// --input: "N" (N×N) or "HxW"; sides in 1 … 1e6.
theory::Axes ParseInput(const std::string& text) {
  auto side = [&](const std::string& part) -> int {
    const bool digits =
        !part.empty() && part.size() <= 7 &&
        std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    const long v = digits ? std::stol(part) : 0;
    if (v < 1 || v > 1000000) {
      throw UsageError("--input '" + text +
                       "' is not an input size; allowed: N or HxW with sides 1 … 1000000 "
                       "(e.g. 224 or 96x128)");
    }
    return static_cast<int>(v);
  };
  const size_t x = text.find_first_of("xX");
  if (x == std::string::npos) return side(text);
  return theory::Axes(side(text.substr(0, x)), side(text.substr(x + 1)));
}

}  // namespace

Runner AddTheoryCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "theory",
      "Analytic receptive field per layer: (--net NAME | --config F | --model F.pt) --input N|HxW");
  auto options = std::make_shared<theory::TheoryOptions>();
  auto config = std::make_shared<ConfigArgs>();
  auto input = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  auto net = std::make_shared<std::string>();
  const std::string names = TextList(theory::kNamedNets, theory::NamedNetText);
  cmd->add_option("--net", *net, "Net: " + names + " (fcn reads net.* from the config)");
  cmd->add_option("--model", options->model,
                  "A TorchScript file (torch.jit.trace or torch.jit.script, then .save)");
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--input", *input, "Input size: N (N×N) or HxW, e.g. 96x128 (px)")->required();
  cmd->add_option("--format", *format, "table | json | dot (Graphviz)");
  cmd->add_flag("--resolution-range", options->resolution_range,
                "Also the square input sides over which every layer is productive");
  return [options, config, input, format, net, names]() -> int {
    const bool has_config = !config->files.empty() || !config->sets.empty();
    if (!net->empty()) options->net = theory::ParseNamedNet(*net);
    if (!options->model.empty()) {
      if (options->net || has_config) {
        throw UsageError(std::string("--model is exclusive with ") +
                         (options->net ? "--net" : "--config/--set") +
                         ": the model file is the whole description");
      }
      std::ifstream file(options->model, std::ios::binary);
      if (!file) {
        throw UsageError("--model " + options->model + ": cannot open it (" + std::strerror(errno) +
                         ")");
      }
    }
    if (!options->net && options->model.empty() && !has_config) {
      throw UsageError("give --net NAME (" + names +
                       "), --config F (theory.layers or net.*) or --model F.pt (TorchScript)");
    }
    options->input = ParseInput(*input);
    options->format = theory::ParseTheoryFormat(*format);
    options->validate();
    const Config c = LoadConfig(*config);
    std::cout << theory::RunTheory(*options, c);
    return 0;
  };
}

}  // namespace rfx::cli
