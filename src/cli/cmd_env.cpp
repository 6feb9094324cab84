// rfx env: what this process runs on (versions, CUDA devices, CPUs, threads, host allocator).
#include <iostream>

#include "cli/commands.h"
#include "rfx/runtime/env.h"

namespace rfx::cli {

Runner AddEnvCommand(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "env", "Versions, CUDA/cuDNN and devices, usable CPUs, LibTorch threads, host allocator");
  cmd->add_flag("--json", *json,
                "Print JSON: rfx_version, torch_version, cuda, cpu, torch_threads, host_allocator");
  return [json]() {
    const EnvReport report = CollectEnv();
    if (*json) {
      std::cout << report.ToJson().dump(2) << "\n";
    } else {
      std::cout << report.ToText();
    }
    return 0;
  };
}

}  // namespace rfx::cli
