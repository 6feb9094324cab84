#include "rfx/train/run_dir.h"

#include <filesystem>
#include <sstream>
#include <vector>

#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::train {

namespace {

// The first line where two YAML dumps differ, as "key: value" text (for resume errors).
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(sa, la));
    const bool gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "";
    if (!ga || !gb || la != lb) {
      auto trim = [](std::string s) {
        const size_t p = s.find_first_not_of(' ');
        return p == std::string::npos ? s : s.substr(p);
      };
      return "stored '" + trim(ga ? la : "") + "', given '" + trim(gb ? lb : "") + "'";
    }
  }
}

// Config with the keys that may change on resume (they do not change a result) set to
// `stored`'s values.
Config WithResumableKeysFrom(const Config& config, const Config& stored) {
  Config c = config;
  for (const std::string& key : ResultNeutralKeys()) {
    if (stored.Has(key)) c.Set(key, stored.Get(key), "resume");
  }
  return c;
}

// Whether `dir` holds files other than a run's own (a sweep's root, a source tree...).
bool HoldsForeignFiles(const std::string& dir) {
  std::vector<std::string> own;
  for (const std::string& p : RunPaths(dir).All()) {
    own.push_back(std::filesystem::path(p).filename().string());
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    bool known = false;
    for (const std::string& f : own) known = known || name == f;
    if (!known && name.find(".tmp.") == std::string::npos) return true;
  }
  return false;
}

// Removes the temp files of atomic writes of the run's own files ("checkpoint.pt.tmp.HOST.PID.N",
// "erf/step-S.csv.tmp...") that a writer killed mid-save left behind; called with the run's lock
// held, so no other rfx process is writing them. Other files are left alone.
void RemoveStaleTemps(const RunPaths& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> prefixes;
  for (const std::string& p : paths.All())
    prefixes.push_back(fs::path(p).filename().string() + ".tmp.");
  auto sweep = [&](const std::string& dir, bool erf) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (!entry.is_regular_file(ec)) continue;
      const std::string name = entry.path().filename().string();
      bool own = erf && name.rfind("step-", 0) == 0 && name.find(".csv.tmp.") != std::string::npos;
      for (const std::string& prefix : prefixes) own = own || name.rfind(prefix, 0) == 0;
      if (own) fs::remove(entry.path(), ec);
    }
  };
  sweep(fs::path(paths.config).parent_path().string(), false);
  sweep(paths.erf_dir, true);
}

}  // namespace

void ClearRunFiles(const RunPaths& paths) {
  for (const std::string& p :
       {paths.metrics, paths.result, paths.model, paths.checkpoint, paths.erf_log}) {
    std::error_code ec;
    std::filesystem::remove(p, ec);
  }
  std::error_code ec;
  std::filesystem::remove_all(paths.erf_dir, ec);
}

RunDirPlan PrepareRunDir(const Config& config, const RunOptions& run) {
  const RunPaths paths(run.out_dir);
  RunDirPlan plan;
  const bool existed = FileExists(run.out_dir);
  MakeDirs(run.out_dir);
  const bool has_result = FileExists(paths.result);
  const bool has_checkpoint = FileExists(paths.checkpoint);
  std::optional<TrainResult> stored;
  if (has_result) {
    try {
      stored = TrainResult::FromJson(nlohmann::json::parse(ReadFile(paths.result)));
    } catch (const nlohmann::json::exception&) {
      stored.reset();  // unreadable: treat as unfinished
    }
  }
  const bool finished = stored && !stored->failed();
  if (existed && !has_result && !has_checkpoint && !FileExists(paths.config) &&
      HoldsForeignFiles(run.out_dir)) {
    throw UsageError("'" + run.out_dir +
                     "' is not a run directory (no config.yaml, checkpoint.pt or result.json) "
                     "and holds other files; give an empty or new directory for a run");
  }
  const std::string lock_path = RunPaths(run.out_dir).lock;
  plan.lock = FileLock::TryLock(lock_path);
  if (!plan.lock) {
    const std::string pid = FileLock::Holder(lock_path);
    throw RunBusy("another rfx process is training in '" + run.out_dir + "'" +
                  (pid.empty() ? "" : " (pid " + pid + ")") + "; wait for it to finish");
  }
  RemoveStaleTemps(paths);
  if (!run.force) {
    if (finished && !run.resume) {
      throw UsageError("'" + run.out_dir + "' holds a finished run (status " +
                       StatusText(stored->status) +
                       "); pass --force to overwrite it or choose another --out");
    }
    if ((has_checkpoint || has_result) && !run.resume) {
      throw UsageError("'" + run.out_dir +
                       "' holds an unfinished run; pass --resume to continue it or --force to "
                       "start over");
    }
    if (run.resume && (has_checkpoint || finished) && FileExists(paths.config)) {
      const Config stored_config = Config::Load(paths.config);
      const std::string diff = FirstDifference(stored_config.Dump(),
                                               WithResumableKeysFrom(config, stored_config).Dump());
      if (!diff.empty()) {
        throw ResumeConflict("cannot resume '" + run.out_dir +
                             "': the config differs from its config.yaml (" + diff +
                             "); pass the same config, or --force to start over");
      }
    }
    if (run.resume && finished) {
      plan.stored = stored;
      return plan;
    }
    plan.resume = run.resume && has_checkpoint;
  }
  if (!plan.resume) ClearRunFiles(paths);
  WriteFileAtomic(paths.config, config.Dump());
  return plan;
}

void TrimMetrics(const std::string& path, int64_t last_step) {
  if (!FileExists(path)) return;
  std::string kept;
  for (const std::string& line : ReadCompleteLines(path)) {
    try {
      if (nlohmann::json::parse(line).at("step").get<int64_t>() > last_step) continue;
    } catch (const std::exception&) {
      continue;
    }
    kept += line + "\n";
  }
  WriteFileAtomic(path, kept);
}

}  // namespace rfx::train
