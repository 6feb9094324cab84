#include "cli/probe_flags.h"

#include "rfx/probe/images.h"
#include "rfx/util/error.h"

namespace rfx::cli {

void GradientFlags::Apply(bool channel_is_readout) const {
  if (options->replknet) {
    for (const char* flag : {"--agg", "--scale", "--channel"}) {
      if (std::string(flag) == "--channel" && !channel_is_readout) continue;
      if (cmd->count(flag) > 0) {
        throw UsageError(std::string(flag) +
                         " cannot be combined with --replknet (it fixes the read-out to "
                         "sum_c relu(out[c]), agg relu and scale log10(mean + 1))");
      }
    }
  }
  if ((cmd->count("--mean") > 0 || cmd->count("--std") > 0) && options->inputs.empty()) {
    throw UsageError("--mean and --std normalise images: they need --inputs DIR");
  }
  options->mean = probe::ParseDoubles(mean, "--mean");
  options->std = probe::ParseDoubles(stdev, "--std");
}

std::shared_ptr<GradientFlags> AddGradientFlags(CLI::App* cmd, probe::GradientOptions* o) {
  auto f = std::make_shared<GradientFlags>();
  f->cmd = cmd;
  f->options = o;
  cmd->add_option("--samples", o->samples,
                  "Inputs to accumulate (0: 16, or every image with --inputs)")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Inputs per backward pass")->capture_default_str();
  cmd->add_option("--input", o->input,
                  "noise (uniform [0,1), the default) | task (dataset samples)");
  cmd->add_option("--inputs", o->inputs,
                  "DIR of PNG/JPEG images (sorted; grey, shorter side resized, centre-cropped)");
  cmd->add_option("--mean", f->mean,
                  "--inputs: mean(s) subtracted from [0,1] pixels (1 or C values)")
      ->capture_default_str();
  cmd->add_option("--std", f->stdev, "--inputs: divisor(s) after the mean (1 or C values)")
      ->capture_default_str();
  cmd->add_option("--agg", o->agg, "Per-sample aggregation: abs | relu")->capture_default_str();
  cmd->add_option("--scale", o->scale, "none | log (log10(x+1))")->capture_default_str();
  cmd->add_flag("--replknet", o->replknet,
                "RepLKNet's erf scripts: relu'd read-out and gradient, mean, log10(x+1), their "
                "area ratios (not with --agg/--scale/--channel)");
  cmd->add_option("--bootstrap", o->bootstrap, "Bootstrap replicates of the 95% CIs (0: none)")
      ->capture_default_str();
  return f;
}

std::optional<probe::Position> PositionFlag::Parse() const {
  if (text.empty()) return std::nullopt;
  return probe::ParsePosition(text);
}

std::shared_ptr<PositionFlag> AddPositionFlag(CLI::App* cmd) {
  auto f = std::make_shared<PositionFlag>();
  cmd->add_option("--position", f->text,
                  "Output pixel ROW,COL to read (default: the centre; --node: in that map)");
  return f;
}

}  // namespace rfx::cli
