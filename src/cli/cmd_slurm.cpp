// rfx slurm: a sweep as a Slurm job array (one shard per task) plus a merge job after it.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rfx/sweep/slurm.h"

namespace rfx::cli {

namespace {

struct SlurmArgs {
  ConfigArgs config;
  sweep::SlurmOptions options;
  bool submit = false;
  bool json = false;
};

// The flag that sets `field`.
const char* FlagOf(sweep::SlurmField field) {
  switch (field) {
    case sweep::SlurmField::kOutDir:
      return "--out";
    case sweep::SlurmField::kShards:
      return "--shards";
    case sweep::SlurmField::kWorkers:
      return "--workers";
    case sweep::SlurmField::kDevices:
      return "--devices";
    case sweep::SlurmField::kRfxPath:
      return "--rfx";
    case sweep::SlurmField::kJobName:
      return "--job-name";
    case sweep::SlurmField::kSbatchArgs:
      return "sbatch option (after --)";
  }
  return "?";
}

int RunSlurmCommand(SlurmArgs a) {
  const Config config = LoadConfig(a.config);
  if (a.options.rfx_path.empty()) {
    a.options.rfx_path = std::filesystem::read_symlink("/proc/self/exe").string();
  }
  sweep::SlurmScripts s;
  try {
    s = sweep::WriteSlurmScripts(config, a.options);
  } catch (const sweep::SlurmOptionError& e) {
    throw UsageError(std::string(FlagOf(e.field())) + " '" + e.value() + "' " + e.problem());
  }
  sweep::SlurmSubmission sub;
  if (a.submit) sub = sweep::SubmitSlurm(s);
  if (a.json) {
    nlohmann::json j = {
        {"dir", s.dir},       {"sweep_script", s.sweep_script},   {"merge_script", s.merge_script},
        {"shards", s.shards}, {"largest_shard", s.largest_shard}, {"unit", s.unit}};
    if (a.submit) {
      j["array_job"] = sub.array_job;
      j["merge_job"] = sub.merge_job;
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "wrote " << s.sweep_script << " (array 1-" << s.shards << ", at most "
            << s.largest_shard << " " << s.unit << " per shard) and " << s.merge_script << "\n";
  if (a.submit) {
    std::cout << "submitted array job " << sub.array_job << " (" << s.shards
              << " shards) and merge job " << sub.merge_job << " (after it)\n"
              << "watch: squeue -j " << sub.array_job << "," << sub.merge_job << "\n"
              << "results: " << s.dir << "/results.jsonl, " << s.dir
              << "/fit.json; submit again to resume\n";
  } else {
    std::cout << "submit:\n  jid=$(sbatch --parsable " << s.sweep_script << ")\n"
              << "  sbatch --dependency=afterany:$jid " << s.merge_script << "\n"
              << "or run rfx slurm again with --submit\n";
  }
  return 0;
}

}  // namespace

Runner AddSlurmCommand(CLI::App& app) {
  auto args = std::make_shared<SlurmArgs>();
  CLI::App* cmd = app.add_subcommand(
      "slurm", "Run a sweep on a Slurm cluster: a job array of shards, then a merge and fit");
  AddConfigOptions(cmd, &args->config);
  cmd->add_option("--out", args->options.out_dir,
                  "Sweep directory on a file system the nodes share")
      ->required();
  cmd->add_option("--shards", args->options.shards, "Array tasks, one shard of the sweep each")
      ->required();
  cmd->add_option("--workers", args->options.workers, "rfx sweep --workers inside each task")
      ->capture_default_str();
  cmd->add_option("--devices", args->options.devices,
                  "rfx sweep --devices inside each task: CUDA devices of a node, e.g. 0,1");
  cmd->add_option("--rfx", args->options.rfx_path,
                  "The rfx executable the jobs run (default: this one)");
  cmd->add_option("--job-name", args->options.job_name, "Job name (default: rfx-<dir name>)");
  cmd->add_flag("--submit", args->submit, "Submit with sbatch (else only write the scripts)");
  cmd->add_flag("--json", args->json, "Print the scripts' paths (and job ids) as JSON");
  cmd->add_option("sbatch", args->options.sbatch_args,
                  "sbatch options for the array after --, e.g. -- --partition=gpu --gres=gpu:1");
  return [args]() { return RunSlurmCommand(*args); };
}

}  // namespace rfx::cli
