// The files of a training's run directory (what `rfx train --out DIR` writes), named in one
// place for the trainer, the loader of trained nets and the sweep's child processes.
#pragma once
#include <string>
#include <vector>

namespace rfx {

struct RunPaths {
  explicit RunPaths(const std::string& dir)
      : config(dir + "/config.yaml"),
        metrics(dir + "/metrics.jsonl"),
        result(dir + "/result.json"),
        model(dir + "/model.pt"),
        checkpoint(dir + "/checkpoint.pt"),
        bad_checkpoint(checkpoint + ".bad"),
        lock(dir + "/.lock"),
        erf_log(dir + "/erf.jsonl"),
        erf_dir(dir + "/erf") {}
  std::string config, metrics, result, model, checkpoint;
  std::string bad_checkpoint;  // an unreadable checkpoint, moved aside for a post-mortem
  std::string lock;            // held by the process training in the directory
  std::string erf_log;         // train.erf_every: one line per snapshot of the field
  std::string erf_dir;         // train.erf_every: the snapshots' maps, step-S.csv
  // The map of the snapshot at `step`.
  std::string ErfMap(long long step) const {
    return erf_dir + "/step-" + std::to_string(step) + ".csv";
  }

  // Every path above: the only files a run directory holds (besides atomic writes' temp files).
  std::vector<std::string> All() const {
    return {config, metrics, result, model, checkpoint, bad_checkpoint, lock, erf_log, erf_dir};
  }
};

}  // namespace rfx
