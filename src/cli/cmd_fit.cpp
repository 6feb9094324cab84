// rfx fit: the field (d50) per depth of a sweep, and the √N / N / power-law curves.
#include <iostream>

#include "cli/commands.h"
#include "rfx/sweep/fit.h"
#include "rfx/sweep/fit_dir.h"

namespace rfx::cli {

Runner AddFitCommand(CLI::App& app) {
  struct Args {
    std::string dir;
    bool json = false;
    sweep::FitOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "fit",
      "Field per depth of a sweep (psychometric d50 with 95% CI) and sqrt(N) vs N vs N^p fits");
  cmd->add_option("dir", args->dir, "Sweep directory (results.jsonl and/or shard files)")
      ->required();
  cmd->add_flag(
      "--json", args->json,
      "Print JSON: thresholds, depths [{depth, d50, ci, ...}], models, preferred, verdict");
  CLI::Option* accuracy = AddNumberFlag(
      cmd, "--accuracy", &args->options.level, 0, 1,
      "Accuracy that counts as learned (default: the sweep's sweep.threshold.accuracy)");
  AddIntegerFlag(cmd, "--budget", &args->options.budget, 1, INT64_MAX,
                 "Count a training as learned only if it learned within this many steps "
                 "(needs train.early_stop checks)");
  cmd->add_option("--bootstrap", args->options.bootstrap,
                  "Bootstrap replicates for the CI of the power law's p (default 200; 0: none)");
  cmd->add_option("--seed", args->options.seed, "Bootstrap seed (default 1)");
  cmd->add_flag("!--per-depth-slope", args->options.shared_slope,
                "Fit one psychometric slope per depth instead of one shared by all depths");
  return [args, accuracy]() {
    args->options.sweep_level = accuracy->count() == 0;
    const sweep::FitOptions& o = args->options;
    if (!o.sweep_level && !(o.level > 0 && o.level <= 1)) {
      throw UsageError("--accuracy " + std::to_string(o.level) +
                       " is out of range; allowed (0, 1]");
    }
    if (o.budget < 0) throw UsageError("--budget must be >= 1 steps");
    if (o.bootstrap < 0) throw UsageError("--bootstrap must be >= 0");
    const sweep::DirFit fit = sweep::FitSweepDir(args->dir, args->options);
    if (args->json) {
      std::cout << fit.ToJson().dump(2) << "\n";
    } else {
      std::cout << fit.ToText();
    }
    return 0;
  };
}

}  // namespace rfx::cli
