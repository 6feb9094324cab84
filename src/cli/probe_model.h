// `--model F.pt [--input-shape C,H,W] [--node NAME]` of `rfx probe forward|gradient`: the
// flags, kept apart from cmd_probe.cpp so the probes' own flags and these grow independently.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "rfx/probe/model.h"

namespace rfx::cli {

struct ModelFlags {
  std::string path, input_shape, node;
  bool active() const { return !path.empty(); }
  // The options (UsageError naming --input-shape / --node when bad or without --model).
  probe::ModelOptions Resolve() const;
};

std::shared_ptr<ModelFlags> AddModelFlags(CLI::App* cmd);

}  // namespace rfx::cli
