// rfx fit: threshold per depth from a sweep directory, and power / sqrt / linear fits.
#include <iostream>

#include "cli/commands.h"
#include "rfx/sweep/fit.h"

namespace rfx::cli {

Runner AddFitCommand(CLI::App& app) {
  struct Args {
    std::string dir;
    bool json = false;
    double accuracy = -1;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "fit", "Threshold per depth of a sweep and fits a*N^p (95% CI on p), a*sqrt(N)+b, a*N+b");
  cmd->add_option("dir", args->dir, "Sweep directory (results.jsonl and/or shard files)")
      ->required();
  cmd->add_flag("--json", args->json, "Print JSON: thresholds [{depth, distance}], models");
  cmd->add_option("--accuracy", args->accuracy,
                  "Level that counts as seeing (default: the sweep's sweep.threshold.accuracy)");
  return [args]() {
    const sweep::DirFit fit = sweep::FitSweepDir(args->dir, args->accuracy);
    if (args->json) {
      std::cout << fit.ToJson().dump(2) << "\n";
    } else {
      std::cout << fit.ToText();
    }
    return 0;
  };
}

}  // namespace rfx::cli
