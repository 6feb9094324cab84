// rfx: a table of subcommands; each parses its flags and calls a typed library function.
#include <c10/util/Exception.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
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

// Under an address-space limit (ulimit -v), OpenBLAS's threads, started when the library loads
// (before main), each malloc a 128 MiB buffer and retry forever when that fails; the process then
// hangs in at::set_num_threads or at exit, deaf to SIGTERM (`ulimit -v 600000; rfx env`). Nothing
// in this process can stop them, so rfx starts itself again with OPENBLAS_NUM_THREADS set to what
// the limit holds: 1 thread per 256 MiB above 1 GiB, at least 1. A user's own
// OPENBLAS_NUM_THREADS (or none when there is no limit) is left alone.
void FitOpenBlasToAddressSpace(char** argv) {
  rlimit as{};
  if (::getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return;
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
  const int64_t mib = static_cast<int64_t>(as.rlim_cur >> 20);
  const long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t threads = std::clamp<int64_t>((mib - 1024) / 256, 1, cpus);
  ::setenv("OPENBLAS_NUM_THREADS", std::to_string(threads).c_str(), 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: go on as we are
}

}  // namespace

int main(int argc, char** argv) {
  FitOpenBlasToAddressSpace(argv);
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
