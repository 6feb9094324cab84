// rfx: a table of subcommands; each parses its flags and calls a typed library function.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "rfx/runtime/host_allocator.h"
#include "rfx/util/error.h"
#include "rfx/version.h"

namespace {

using AddFn = rfx::cli::Runner (*)(CLI::App&);

const AddFn kCommands[] = {
    rfx::cli::AddDatasetCommand, rfx::cli::AddTrainCommand,   rfx::cli::AddSweepCommand,
    rfx::cli::AddSlurmCommand,   rfx::cli::AddMergeCommand,   rfx::cli::AddFitCommand,
    rfx::cli::AddProbeCommand,   rfx::cli::AddTheoryCommand,  rfx::cli::AddBenchCommand,
    rfx::cli::AddEnvCommand,     rfx::cli::AddProfileCommand,
};

}  // namespace

int main(int argc, char** argv) {
  rfx::InstallHostAllocator();  // before any thread starts; RFX_HOST_ALLOCATOR=system opts out
  CLI::App app{"rfx: measure the receptive fields of convolutional nets empirically", "rfx"};
  app.set_version_flag("--version", std::string("rfx ") + RFX_VERSION);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, rfx::cli::Runner>> runners;
  for (AddFn add : kCommands) {
    const size_t before = app.get_subcommands({}).size();
    rfx::cli::Runner run = add(app);
    const auto subs = app.get_subcommands({});
    if (subs.size() > before) runners.emplace_back(subs.back(), std::move(run));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "rfx: " << e.what() << "\n";
    std::cerr << "Run with --help for usage.\n";
    return 2;
  } catch (const rfx::UsageError& e) {
    std::cerr << "rfx: error: " << e.what() << "\n";
    return 2;
  }
  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
    std::cerr << "rfx: error: no command given; run rfx --help\n";
    return 2;
  } catch (const rfx::UsageError& e) {
    std::cerr << "rfx: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "rfx: failed: " << e.what() << "\n";
    return 1;
  }
}
