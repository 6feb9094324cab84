// A sweep as a Slurm job array (`rfx slurm`): one array task per shard, each running
// `rfx sweep --shard I/N` into the shared sweep directory, and a merge job after them that
// writes DIR/results.jsonl, results.csv and fit.json. Resubmitting resumes: the shards keep
// their finished cells, the merge is idempotent.
#pragma once
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/util/error.h"

namespace rfx::sweep {

// The fields of SlurmOptions a bad value can come from; the CLI maps each to its flag.
enum class SlurmField { kOutDir, kShards, kWorkers, kDevices, kRfxPath, kJobName, kSbatchArgs };
const char* SlurmFieldName(SlurmField field);  // "out_dir", "shards", ... (the member's name)

// A bad SlurmOptions value: which field, the value as given and what is wrong with it. what() is
// "<field> '<value>' <problem>"; the CLI says the same with the flag's name instead.
class SlurmOptionError : public UsageError {
 public:
  SlurmOptionError(SlurmField field, std::string value, std::string problem)
      : UsageError(std::string(SlurmFieldName(field)) + " '" + value + "' " + problem),
        field_(field),
        value_(std::move(value)),
        problem_(std::move(problem)) {}
  SlurmField field() const { return field_; }
  const std::string& value() const { return value_; }
  const std::string& problem() const { return problem_; }

 private:
  SlurmField field_;
  std::string value_, problem_;
};

struct SlurmOptions {
  std::string out_dir;                   // the sweep directory, shared by the nodes (required)
  int shards = 1;                        // array tasks, one shard each (1 .. searches or cells)
  int workers = 1;                       // `rfx sweep --workers` inside each task (>= 1)
  std::string devices;                   // `rfx sweep --devices` inside each task ("" = none)
  std::string rfx_path;                  // the rfx the jobs run (required; CLI: this one)
  std::string job_name;                  // "" = "rfx-" + the directory's name
  std::vector<std::string> sbatch_args;  // extra sbatch options for the array, e.g. "--gres=gpu:1"
  // SlurmOptionError naming the field: bad counts, whitespace in paths, options that are not
  // options or that rfx sets itself (--array, --output, --job-name, --dependency, --parsable).
  void validate() const;
};

struct SlurmScripts {
  std::string dir;           // absolute sweep directory
  std::string sweep_script;  // DIR/slurm/sweep.sbatch: the array
  std::string merge_script;  // DIR/slurm/merge.sbatch: merge + fit, after the array
  int shards = 0;
  int64_t largest_shard = 0;  // cells (grid) or searches (threshold) of the largest shard
  std::string unit;           // "cells" | "searches"
};

// Validates the sweep config (as `rfx sweep` would) and the options, stores the resolved config
// as DIR/sweep.yaml (refusing a directory that holds another sweep, like `rfx sweep`), and
// writes the two scripts. Submits nothing. SlurmOptionError for bad options, also for more shards
// than the sweep has cells (grid) or searches (threshold, adaptive) and for devices without
// train.device: cuda.
SlurmScripts WriteSlurmScripts(const Config& config, const SlurmOptions& options);

struct SlurmSubmission {
  std::string array_job;  // Slurm job id of the array
  std::string merge_job;  // ... of the merge job (afterany: the array)
};

// Submits the array, then the merge job depending on it, with `sbatch` from PATH; appends both
// ids to DIR/slurm/jobs.jsonl. Throws std::runtime_error with sbatch's own words on failure.
SlurmSubmission SubmitSlurm(const SlurmScripts& scripts);

}  // namespace rfx::sweep
