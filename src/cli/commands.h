// The `rfx` subcommands. Each Add*Command adds its subcommand (flags only) to the app and
// returns the function that runs it once parsed; that function calls a typed library
// function. Nothing below src/cli knows of CLI11.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rfx/config/config.h"

namespace rfx::cli {

using Runner = std::function<int()>;

Runner AddDatasetCommand(CLI::App& app);  // rfx dataset preview
Runner AddTrainCommand(CLI::App& app);    // rfx train
Runner AddSweepCommand(CLI::App& app);    // rfx sweep
Runner AddSlurmCommand(CLI::App& app);    // rfx slurm
Runner AddMergeCommand(CLI::App& app);    // rfx merge
Runner AddFitCommand(CLI::App& app);      // rfx fit
Runner AddProbeCommand(CLI::App& app);    // rfx probe forward|gradient|compare
Runner AddTheoryCommand(CLI::App& app);   // rfx theory
Runner AddBenchCommand(CLI::App& app);    // rfx bench dataset|train|probe
Runner AddEnvCommand(CLI::App& app);      // rfx env
Runner AddProfileCommand(CLI::App& app);  // rfx profile

// `rfx bench` has one subcommand per area, each in its own file.
Runner AddBenchDatasetCommand(CLI::App& bench);
Runner AddBenchTrainCommand(CLI::App& bench);
Runner AddBenchProbeCommand(CLI::App& bench);
// `rfx probe compare`, in its own file.
Runner AddProbeCompareCommand(CLI::App& probe);

// --config F (repeatable: merged in order, e.g. a profile then an experiment) and repeated
// --set k=v, shared by every command that takes a config.
struct ConfigArgs {
  std::vector<std::string> files;  // none: the embedded defaults only
  std::vector<std::string> sets;   // "key=value", applied in order after the files
};
void AddConfigOptions(CLI::App* cmd, ConfigArgs* args);
Config LoadConfig(const ConfigArgs& args);

// Number flags read strictly: the whole text a base-10 integer (or a finite number), where
// CLI11 read '' as 0 and refused 1.5 with "Could not convert" alone. A bad text or value is a
// UsageError naming the flag, the text and what is allowed ("--stop-at '1.5' is not allowed;
// allowed: an integer 1..9223372036854775807"). AddNumberFlag checks lo < value <= hi.
CLI::Option* AddIntegerFlag(CLI::App* cmd, const std::string& name, int64_t* out, int64_t min,
                            int64_t max, const std::string& help);
CLI::Option* AddNumberFlag(CLI::App* cmd, const std::string& name, double* out, double lo,
                           double hi, const std::string& help);

// Parses --shard "I/N" (1 <= I <= N); throws UsageError naming --shard.
void ParseShard(const std::string& text, int* shard, int* count);

// Picks the runner of whichever of `subs` was parsed (for commands with subcommands).
Runner Dispatch(CLI::App* parent, const std::vector<std::pair<CLI::App*, Runner>>& subs);

}  // namespace rfx::cli
