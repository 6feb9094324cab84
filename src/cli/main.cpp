// rfx: a table of subcommands; each parses its flags and calls a typed library function.
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

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
  } catch (const c10::Error& e) {
    // LibTorch's message without its C++ backtrace (tens of lines a user cannot act on):
    // RFX_DEBUG=1 prints it.
    const char* debug = std::getenv("RFX_DEBUG");
    if (debug != nullptr && *debug != '\0' && std::string(debug) != "0") {
      std::cerr << "rfx: failed: " << e.what() << "\n";
    } else {
      std::string what = e.what_without_backtrace();
      const size_t nl = what.find('\n');
      if (nl != std::string::npos) what = what.substr(0, nl);
      std::cerr << "rfx: failed: " << what << " (RFX_DEBUG=1 shows LibTorch's backtrace)\n";
    }
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "rfx: failed: " << e.what() << "\n";
    return 1;
  }
}
