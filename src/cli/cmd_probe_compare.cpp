// rfx probe compare: analytic RF, impulse radius and gradient ERF (with CIs) side by side.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/probe_flags.h"
#include "cli/probe_model.h"
#include "rfx/probe/compare.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::cli {

namespace {

namespace fs = std::filesystem;

// scripts/plot_compare.py: next to the executable's tree (build/rfx → scripts/), else in the
// source tree this rfx was built from.
std::string PlotScript() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path p = exe.parent_path().parent_path() / "scripts" / "plot_compare.py";
    if (fs::exists(p, ec)) return p.string();
  }
  const fs::path src = fs::path(RFX_SOURCE_DIR) / "scripts" / "plot_compare.py";
  if (fs::exists(src, ec)) return src.string();
  throw std::runtime_error("cannot find scripts/plot_compare.py next to the rfx executable or in " +
                           std::string(RFX_SOURCE_DIR));
}

// Runs /usr/bin/python3 SCRIPT JSON --out PNG (no shell); throws on failure.
void Plot(const std::string& json_path, const std::string& png) {
  const std::string script = PlotScript();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start the plot script (fork failed)");
  if (pid == 0) {
    const char* argv[] = {"/usr/bin/python3", script.c_str(), json_path.c_str(), "--out",
                          png.c_str(),        nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    std::perror("rfx: cannot run /usr/bin/python3");
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("the plot script " + script + " failed (status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                             "); the numbers are in the table");
  }
}

}  // namespace

Runner AddProbeCompareCommand(CLI::App& probe) {
  CLI::App* cmd = probe.add_subcommand(
      "compare", "Analytic RF, impulse radius and gradient ERF (95% CIs) per depth, side by side");
  auto config = std::make_shared<ConfigArgs>();
  auto o = std::make_shared<probe::CompareOptions>();
  auto depths = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  auto plot = std::make_shared<std::string>();
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--depths", *depths,
                  "fcn depths: LIST (1,2,8) or A:B or A:B:STEP (default: net.depth)");
  cmd->add_option("--size", o->size, "Side of the impulse and gradient inputs")
      ->capture_default_str();
  cmd->add_option("--level", o->level, "Radius = first distance where |v|/max < level")
      ->capture_default_str();
  cmd->add_option("--channel", o->channel, "Output channel")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "float32 | float64")->capture_default_str();
  probe::GradientOptions& g = o->gradient;
  auto gradient = AddGradientFlags(cmd, &g);
  cmd->add_option("--format", *format, "table | json | csv")->capture_default_str();
  auto model = AddModelFlags(cmd);
  auto nodes = std::make_shared<std::string>();
  cmd->add_option("--nodes", *nodes,
                  "--model: one row per listed submodule, e.g. layer1,layer2 (default: the "
                  "model's top-level children the analytic graph names)");
  cmd->add_option("--plot", *plot, "FILE.png: radii vs depth with CIs, σ and area ratios");
  return [=]() -> int {
    if (*format != "table" && *format != "json" && *format != "csv") {
      throw UsageError("--format '" + *format + "' is not known; allowed: table, json, csv");
    }
    if (!plot->empty() && (plot->size() < 4 || plot->substr(plot->size() - 4) != ".png")) {
      throw UsageError("--plot '" + *plot + "' must be a .png file");
    }
    // compare's --channel also picks the impulse probe's channel: --replknet leaves it alone.
    gradient->Apply(/*channel_is_readout=*/false);
    if (!o->gradient.inputs.empty() && cmd->count("--samples") == 0) o->gradient.samples = 0;
    std::vector<int> list;
    if (!depths->empty()) list = probe::ParseDepths(*depths, "--depths");
    o->validate();
    const Config c = LoadConfig(*config);
    const probe::ModelOptions m = model->Resolve();
    if (model->active() && !list.empty()) {
      throw UsageError(
          "--depths applies to net.arch fcn, not to --model (its rows are layers: --nodes)");
    }
    std::vector<std::string> node_list;
    if (!nodes->empty()) {
      if (!model->active()) throw UsageError("--nodes applies to --model F.pt only");
      std::string cur;
      for (size_t i = 0; i <= nodes->size(); ++i) {
        if (i < nodes->size() && (*nodes)[i] != ',') {
          if ((*nodes)[i] != ' ') cur += (*nodes)[i];
          continue;
        }
        if (cur.empty()) {
          throw UsageError("--nodes '" + *nodes +
                           "' has an empty name; allowed: module paths separated by commas "
                           "(e.g. layer1,layer2)");
        }
        node_list.push_back(cur);
        cur.clear();
      }
    }
    const probe::CompareTarget target = model->active() ? probe::TargetFromModel(c, m, node_list)
                                                        : probe::TargetFromConfig(c, list);
    const probe::CompareResult r = probe::RunCompare(target, *o);
    const nlohmann::json j = r.ToJson();
    if (!plot->empty()) {
      const fs::path parent = fs::path(*plot).parent_path();
      if (!parent.empty()) MakeDirs(parent.string());
      const std::string json_path = *plot + ".json";
      WriteFileAtomic(json_path, j.dump(2) + "\n");
      Plot(json_path, *plot);
    }
    if (*format == "json") {
      std::cout << j.dump() << "\n";
    } else if (*format == "csv") {
      std::cout << probe::FormatCompareCsv(r);
    } else {
      std::cout << probe::FormatCompareTable(r);
      if (!plot->empty()) std::cout << "plot: " << *plot << " (data " << *plot << ".json)\n";
    }
    return 0;
  };
}

}  // namespace rfx::cli
