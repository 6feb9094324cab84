#include "cli/commands.h"

namespace rfx::cli {

void AddConfigOptions(CLI::App* cmd, ConfigArgs* args) {
  cmd->add_option("--config", args->files,
                  "YAML config merged over the embedded defaults (repeatable, merged in order)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--set", args->sets, "Override a config key: --set train.steps=500 (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
}

Config LoadConfig(const ConfigArgs& args) {
  Config config;
  for (const auto& f : args.files) config.MergeFile(f);
  for (const auto& s : args.sets) config.ApplySet(s);
  return config;
}

Runner Dispatch(CLI::App* parent, const std::vector<std::pair<CLI::App*, Runner>>& subs) {
  return [parent, subs]() -> int {
    for (const auto& [sub, run] : subs) {
      if (sub->parsed()) return run();
    }
    throw UsageError("'rfx " + parent->get_name() + "' needs a subcommand; run rfx " +
                     parent->get_name() + " --help");
  };
}

}  // namespace rfx::cli
