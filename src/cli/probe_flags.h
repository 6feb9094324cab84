// Flags the probe commands share: the gradient probe's flags (`probe gradient` and `probe
// compare`) with their checks, and --position (`probe forward` and `probe gradient`).
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "rfx/probe/probe.h"

namespace rfx::cli {

// --samples, --batch, --input, --inputs, --mean, --std, --agg, --scale, --replknet, --bootstrap,
// bound to a GradientOptions.
struct GradientFlags {
  CLI::App* cmd = nullptr;
  probe::GradientOptions* options = nullptr;
  std::string mean = "0", stdev = "1";  // --mean, --std as given (1 or C values)
  // The combinations CLI11 cannot check: --replknet excludes --agg, --scale (and --channel when
  // `channel_is_readout`); --mean/--std need --inputs. Then parses --mean/--std into options.
  // UsageError naming the flags.
  void Apply(bool channel_is_readout) const;
};

// Registers the flags on `cmd` writing into `options` (which must outlive the command).
std::shared_ptr<GradientFlags> AddGradientFlags(CLI::App* cmd, probe::GradientOptions* options);

// --position ROW,COL on `cmd`; Parse gives the output pixel (none when not given).
struct PositionFlag {
  std::string text;
  std::optional<probe::Position> Parse() const;
};
std::shared_ptr<PositionFlag> AddPositionFlag(CLI::App* cmd);

}  // namespace rfx::cli
