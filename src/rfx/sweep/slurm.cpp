#include "rfx/sweep/slurm.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "rfx/sweep/dry_run.h"
#include "rfx/sweep/run.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/sweep_dir.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::sweep {

namespace fs = std::filesystem;

namespace {

bool HasSpace(const std::string& s) {
  return s.find_first_of(" \t\n\r'\"\\$`") != std::string::npos;
}

// The option's name: "--gres=gpu:1" -> "--gres", "-p" -> "-p".
std::string OptionName(const std::string& arg) { return arg.substr(0, arg.find('=')); }

// Runs argv[0] (looked up in PATH) and returns its exit status; its stdout goes to *out and its
// stderr to *err.
int RunProgram(const std::vector<std::string>& args, std::string* out, std::string* err) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) {
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  }
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::execvp(argv[0], argv.data());
    const std::string msg = std::string(argv[0]) + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] const ssize_t written = ::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // sbatch prints a line or two: reading one pipe to its end, then the other, cannot block.
  auto drain = [](int fd, std::string* to) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) to->append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
  };
  drain(out_pipe[0], out);
  drain(err_pipe[0], err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  return status;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// `sbatch --parsable` prints "JOBID" or "JOBID;CLUSTER".
std::string Sbatch(const std::vector<std::string>& args) {
  std::string out, err;
  std::vector<std::string> all = {"sbatch", "--parsable"};
  all.insert(all.end(), args.begin(), args.end());
  const int status = RunProgram(all, &out, &err);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    throw std::runtime_error(
        "sbatch is not on PATH: run rfx slurm --submit where Slurm's commands are (a login "
        "node), or submit the written scripts by hand");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : all) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error(cmd + " failed: " + Trim(err.empty() ? out : err));
  }
  const std::string id = Trim(out).substr(0, Trim(out).find(';'));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw std::runtime_error("sbatch printed '" + Trim(out) + "' instead of a job id");
  }
  return id;
}

// Options that also say where the merge job may run; the resource ones (GPUs, CPUs, memory,
// time) are the array's alone.
bool IsPlacement(const std::string& arg) {
  const std::string n = OptionName(arg);
  for (const char* p : {"--partition", "-p", "--account", "-A", "--qos", "-q", "--clusters", "-M",
                        "--reservation", "--constraint", "-C"}) {
    if (n == p) return true;
  }
  return false;
}

}  // namespace

const char* SlurmFieldName(SlurmField field) {
  switch (field) {
    case SlurmField::kOutDir:
      return "out_dir";
    case SlurmField::kShards:
      return "shards";
    case SlurmField::kWorkers:
      return "workers";
    case SlurmField::kDevices:
      return "devices";
    case SlurmField::kRfxPath:
      return "rfx_path";
    case SlurmField::kJobName:
      return "job_name";
    case SlurmField::kSbatchArgs:
      return "sbatch_args";
  }
  return "?";
}

void SlurmOptions::validate() const {
  if (out_dir.empty()) throw SlurmOptionError(SlurmField::kOutDir, "", "is required");
  if (HasSpace(out_dir)) {
    throw SlurmOptionError(SlurmField::kOutDir, out_dir,
                           "holds whitespace, quotes or shell characters, which #SBATCH lines "
                           "cannot carry; choose a plain path");
  }
  if (shards < 1) {
    throw SlurmOptionError(SlurmField::kShards, std::to_string(shards),
                           "is out of range; allowed >= 1");
  }
  if (workers < 1) {
    throw SlurmOptionError(SlurmField::kWorkers, std::to_string(workers),
                           "is out of range; allowed >= 1");
  }
  if (!devices.empty() && devices.find_first_not_of("0123456789,") != std::string::npos) {
    throw SlurmOptionError(SlurmField::kDevices, devices,
                           "must be a comma-separated list of CUDA device numbers, e.g. 0,1");
  }
  if (rfx_path.empty() || HasSpace(rfx_path)) {
    throw SlurmOptionError(SlurmField::kRfxPath, rfx_path,
                           "must be a plain path to the rfx executable");
  }
  if (HasSpace(job_name)) {
    throw SlurmOptionError(SlurmField::kJobName, job_name, "must not hold whitespace or quotes");
  }
  for (const auto& a : sbatch_args) {
    if (a.size() < 2 || a[0] != '-' || HasSpace(a)) {
      throw SlurmOptionError(SlurmField::kSbatchArgs, a,
                             "is not an sbatch option; give each one word starting with '-', "
                             "e.g. --partition=gpu --gres=gpu:1 --time=04:00:00");
    }
    const std::string n = OptionName(a);
    for (const char* own : {"--array", "-a", "--output", "-o", "--error", "-e", "--job-name", "-J",
                            "--dependency", "-d", "--parsable", "--wrap"}) {
      if (n == own) {
        throw SlurmOptionError(SlurmField::kSbatchArgs, a,
                               "is not allowed: rfx slurm sets " + n +
                                   " itself (the shard count sets the array, the job name "
                                   "option the name)");
      }
    }
  }
}

SlurmScripts WriteSlurmScripts(const Config& config, const SlurmOptions& o) {
  o.validate();
  if (!FileExists(o.rfx_path)) {
    throw SlurmOptionError(SlurmField::kRfxPath, o.rfx_path, "does not exist");
  }
  if (!o.devices.empty() && config.GetString("train.device").rfind("cuda", 0) != 0) {
    throw SlurmOptionError(
        SlurmField::kDevices, o.devices,
        "needs train.device: cuda (it is '" + config.GetString("train.device") + "')");
  }
  SlurmScripts s;
  s.dir = fs::absolute(o.out_dir).lexically_normal().string();
  while (s.dir.size() > 1 && s.dir.back() == '/') s.dir.pop_back();
  s.shards = o.shards;

  // The plan as `rfx sweep --dry-run` makes it (validates the sweep config). Shards take items
  // i mod N: their sizes follow from the count alone, and are checked before any shard is
  // planned (planning 2^31 shards one by one never ended).
  const Plan plan(config);
  const bool grid = plan.options().mode == SweepMode::kGrid;
  const int64_t total = grid ? plan.GridSize() : static_cast<int64_t>(plan.Searches().size());
  s.unit = grid ? "cells" : "searches";
  if (o.shards > total) {
    throw SlurmOptionError(SlurmField::kShards, std::to_string(o.shards),
                           "is more than the sweep's " + std::to_string(total) + " " + s.unit +
                               "; allowed 1.." + std::to_string(total));
  }
  s.largest_shard = (total + o.shards - 1) / o.shards;
  SweepRunOptions ro;  // every cell checked, once
  ro.out_dir = s.dir;
  PlanDryRun(config, ro);

  CheckAndStoreConfig(s.dir, config, /*force_new=*/false);
  const std::string slurm_dir = s.dir + "/slurm";
  MakeDirs(slurm_dir);
  const std::string name =
      o.job_name.empty() ? "rfx-" + fs::path(s.dir).filename().string() : o.job_name;
  const std::string n = std::to_string(o.shards);

  std::string sweep = "#!/bin/bash\n";
  sweep += "# Written by `rfx slurm`: the sweep of " + s.dir + " as a Slurm job array, one shard\n";
  sweep += "# per task. Submitting it again resumes (every shard keeps its finished cells).\n";
  sweep += "#SBATCH --job-name=" + name + "\n";
  sweep += "#SBATCH --array=1-" + n + "\n";
  sweep += "#SBATCH --output=" + slurm_dir + "/shard-%a-of-" + n + ".log\n";
  sweep += "#SBATCH --open-mode=append\n";
  for (const auto& a : o.sbatch_args) sweep += "#SBATCH " + a + "\n";
  sweep += "set -eu\n";
  sweep += "exec " + o.rfx_path + " sweep --config " + SweepConfigPath(s.dir) + " --out " + s.dir +
           " --shard \"${SLURM_ARRAY_TASK_ID}/" + n + "\" --workers " + std::to_string(o.workers) +
           (o.devices.empty() ? "" : " --devices " + o.devices) + "\n";

  std::string merge = "#!/bin/bash\n";
  merge += "# Written by `rfx slurm`: merges the shards of " + s.dir + " and fits them; runs\n";
  merge += "# after the array (afterany: also when a shard failed; resubmit both to resume).\n";
  merge += "#SBATCH --job-name=" + name + "-merge\n";
  merge += "#SBATCH --output=" + slurm_dir + "/merge.log\n";
  merge += "#SBATCH --open-mode=append\n";
  for (const auto& a : o.sbatch_args) {
    if (IsPlacement(a)) merge += "#SBATCH " + a + "\n";
  }
  merge += "set -eu\n";
  merge += o.rfx_path + " merge " + s.dir + "\n";
  merge += o.rfx_path + " fit " + s.dir + " --json > " + s.dir + "/fit.json.tmp\n";
  merge += "mv " + s.dir + "/fit.json.tmp " + s.dir + "/fit.json\n";

  s.sweep_script = slurm_dir + "/sweep.sbatch";
  s.merge_script = slurm_dir + "/merge.sbatch";
  WriteFileAtomic(s.sweep_script, sweep);
  WriteFileAtomic(s.merge_script, merge);
  fs::permissions(s.sweep_script, fs::perms::owner_exec, fs::perm_options::add);
  fs::permissions(s.merge_script, fs::perms::owner_exec, fs::perm_options::add);
  return s;
}

SlurmSubmission SubmitSlurm(const SlurmScripts& s) {
  SlurmSubmission sub;
  sub.array_job = Sbatch({s.sweep_script});
  sub.merge_job = Sbatch({"--dependency=afterany:" + sub.array_job, s.merge_script});
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const nlohmann::json rec = {{"array_job", sub.array_job},
                              {"merge_job", sub.merge_job},
                              {"shards", s.shards},
                              {"submitted", when}};
  AppendLineDurable(s.dir + "/slurm/jobs.jsonl", rec.dump());
  return sub;
}

}  // namespace rfx::sweep
