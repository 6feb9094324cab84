#include <cmath>
#include <cstdlib>

#include "cli/commands.h"
#include "rfx/util/strings.h"

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

CLI::Option* AddIntegerFlag(CLI::App* cmd, const std::string& name, int64_t* out, int64_t min,
                            int64_t max, const std::string& help) {
  return cmd->add_option_function<std::string>(
      name,
      [name, out, min, max](const std::string& text) {
        long long v = 0;
        if (!ParseConfigInt(text, &v) || v < min || v > max) {
          throw UsageError(name + " '" + text + "' is not allowed; allowed: an integer " +
                           std::to_string(min) + ".." + std::to_string(max));
        }
        *out = v;
      },
      help);
}

CLI::Option* AddNumberFlag(CLI::App* cmd, const std::string& name, double* out, double lo,
                           double hi, const std::string& help) {
  return cmd->add_option_function<std::string>(
      name,
      [name, out, lo, hi](const std::string& text) {
        char* end = nullptr;
        const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !std::isfinite(v) || !(v > lo && v <= hi)) {
          throw UsageError(name + " '" + text + "' is not allowed; allowed: a number in (" +
                           FormatNumber(lo) + ", " + FormatNumber(hi) + "]");
        }
        *out = v;
      },
      help);
}

void ParseShard(const std::string& text, int* shard, int* count) {
  const size_t slash = text.find('/');
  auto bad = [&]() {
    return UsageError("--shard '" + text + "' is not of the form I/N with 1 <= I <= N (e.g. 2/8)");
  };
  if (slash == std::string::npos) throw bad();
  try {
    size_t p1 = 0, p2 = 0;
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    *shard = std::stoi(a, &p1);
    *count = std::stoi(b, &p2);
    if (p1 != a.size() || p2 != b.size()) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (*count < 1 || *shard < 1 || *shard > *count) throw bad();
}

}  // namespace rfx::cli
