#include "cli/probe_model.h"

#include "rfx/util/error.h"

namespace rfx::cli {

probe::ModelOptions ModelFlags::Resolve() const {
  if (!active() && (!input_shape.empty() || !node.empty())) {
    throw UsageError(std::string(node.empty() ? "--input-shape" : "--node") +
                     " applies to --model F.pt only");
  }
  probe::ModelOptions o;
  o.path = path;
  o.node = node;
  if (!input_shape.empty()) o.input_shape = probe::ParseInputShape(input_shape);
  return o;
}

std::shared_ptr<ModelFlags> AddModelFlags(CLI::App* cmd) {
  auto flags = std::make_shared<ModelFlags>();
  cmd->add_option("--model", flags->path,
                  "A TorchScript file (torch.jit.trace/script + save): probe it instead of "
                  "net.* (train.device and train.seed still apply)");
  cmd->add_option("--input-shape", flags->input_shape,
                  "--model input C,H,W (default 1,S,S from --size)");
  cmd->add_option("--node", flags->node,
                  "--model: read the output of this submodule (e.g. layer3) instead of the "
                  "model's");
  return flags;
}

}  // namespace rfx::cli
