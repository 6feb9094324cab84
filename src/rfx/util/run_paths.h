// The files of a training's run directory (what `rfx train --out DIR` writes), named in one
// place for the trainer, the loader of trained nets and the sweep's child processes.
#pragma once
#include <cstdio>
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

// The error for a --model file that loads but has no forward method: most often a run's
// model.pt (rfx train saves weights, not TorchScript code). `instead` is what the command takes
// for a run ("--config DIR/config.yaml"; every DIR is replaced); when `file` sits in a run
// directory (beside config.yaml), the message names that directory.
inline std::string NotTorchScriptMessage(const std::string& file, const std::string& instead) {
  std::string dir = ".";
  const size_t slash = file.rfind('/');
  if (slash != std::string::npos) dir = slash == 0 ? "/" : file.substr(0, slash);
  const RunPaths run(dir);
  std::string m = "--model " + file +
                  " has no forward method, so it is not a TorchScript module (torch.jit.save of a "
                  "traced or scripted one)";
  if (FILE* f = std::fopen(run.config.c_str(), "rb")) {
    std::fclose(f);
    std::string how = instead;
    for (size_t at = how.find("DIR"); at != std::string::npos;
         at = how.find("DIR", at + dir.size())) {
      how.replace(at, 3, dir);
    }
    m += "; it is the weights of the rfx run " + dir + ": pass " + how + " instead";
  } else {
    m += "; for a net trained by rfx, pass " + instead + " (its run directory)";
  }
  return m;
}

}  // namespace rfx
