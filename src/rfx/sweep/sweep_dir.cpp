// The sweep-directory guard: a directory holds one sweep's cells (sweep.yaml), compared and
// stored by CheckAndStoreConfig.
#include "rfx/sweep/sweep_dir.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "rfx/sweep/plan.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/store_internal.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/strings.h"

namespace rfx::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What may differ between a sweep directory's stored config and a rerun's: the sweep's own
// settings and the keys that do not change a result.
const std::vector<std::string>& IgnoredForCells() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = {"sweep."};
    for (const std::string& n : ResultNeutralKeys()) k.push_back(n);
    return k;
  }();
  return keys;
}

void Flatten(const YAML::Node& n, const std::string& prefix,
             std::map<std::string, std::string>* out) {
  if (n.IsMap() && n.size() > 0) {
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      Flatten(kv.second, prefix.empty() ? k : prefix + "." + k, out);
    }
    return;
  }
  YAML::Emitter e;
  e << YAML::Flow << n;
  (*out)[prefix] = e.c_str();
}

bool Ignored(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (key == p || key.rfind(p, 0) == 0) return true;
  }
  return false;
}

}  // namespace

namespace internal {
std::vector<std::string> AxisKeys(const Config& c) {
  std::vector<std::string> keys;
  const YAML::Node axes = c.Get("sweep.axes");
  if (axes.IsMap()) {
    for (const auto& kv : axes) keys.push_back(kv.first.as<std::string>());
  }
  return keys;
}

}  // namespace internal

using internal::AxisKeys;

std::vector<std::string> DiffConfigs(const Config& a, const Config& b,
                                     const std::vector<std::string>& ignore_prefixes) {
  std::map<std::string, std::string> fa, fb;
  Flatten(a.root(), "", &fa);
  Flatten(b.root(), "", &fb);
  std::set<std::string> keys;
  for (const auto& kv : fa) keys.insert(kv.first);
  for (const auto& kv : fb) keys.insert(kv.first);
  std::vector<std::string> diff;
  for (const auto& k : keys) {
    if (Ignored(k, ignore_prefixes)) continue;
    auto ia = fa.find(k), ib = fb.find(k);
    const std::string va = ia == fa.end() ? "(none)" : ia->second;
    const std::string vb = ib == fb.end() ? "(none)" : ib->second;
    if (va != vb) diff.push_back(k + ": " + va + " -> " + vb);
  }
  return diff;
}

namespace internal {
std::string CellDifference(const Config& stored, const Config& config) {
  const auto diff = DiffConfigs(stored, config, IgnoredForCells());
  if (!diff.empty()) return "changed " + Join(diff);
  auto ka = AxisKeys(stored), kb = AxisKeys(config);
  std::sort(ka.begin(), ka.end());
  std::sort(kb.begin(), kb.end());
  if (ka != kb) return "sweep axes changed from [" + Join(ka) + "] to [" + Join(kb) + "]";
  return "";
}

}  // namespace internal

using internal::CellDifference;

void CheckOneConfig(const std::vector<json>& records, const std::string& expected,
                    const std::string& dir, const std::string& refused) {
  std::map<std::string, size_t> count;  // hash -> records
  std::string first = expected;
  for (const json& r : records) {
    if (!r.contains("config_hash") || !r["config_hash"].is_string()) continue;
    const std::string h = r["config_hash"].get<std::string>();
    if (first.empty()) first = h;
    ++count[h];
  }
  if (count.empty() || (count.size() == 1 && count.begin()->first == first)) return;
  std::string of;
  size_t others = 0;
  for (const auto& [h, n] : count) {
    of += (of.empty() ? "" : ", ") + std::to_string(n) + " of config " + h +
          (h == expected ? " (its sweep.yaml's)" : "");
    if (h != expected) others += n;
  }
  const std::string what =
      expected.empty() ? "results of " + std::to_string(count.size()) + " sweep configs"
                       : std::to_string(others) +
                             " results of another config than its sweep.yaml (" + expected + ")";
  throw UsageError("'" + dir + "' holds " + what + ": " + of + "; " + refused +
                   ". Give each config its own directory (rfx sweep --force-new sets the old "
                   "results aside)");
}

namespace {

// Moves the record files, sweep.yaml and cells/ of `dir` to a fresh DIR/superseded-<n>/.
std::string SetAside(const std::string& dir) {
  int n = 1;
  while (FileExists(dir + "/superseded-" + std::to_string(n))) ++n;
  const std::string old = dir + "/superseded-" + std::to_string(n);
  MakeDirs(old);
  for (const auto& f : RecordFiles(dir)) {
    fs::rename(f, old + "/" + fs::path(f).filename().string());
  }
  if (FileExists(SweepConfigPath(dir))) fs::rename(SweepConfigPath(dir), old + "/sweep.yaml");
  if (FileExists(dir + "/cells")) fs::rename(dir + "/cells", old + "/cells");
  return "--force-new: old results moved to " + old;
}

}  // namespace

std::string CheckAndStoreConfig(const std::string& dir, const Config& config, bool force_new) {
  MakeDirs(dir);
  const std::string path = SweepConfigPath(dir);
  std::string note;
  bool set_aside = false;
  if (FileExists(path)) {
    Config stored;
    stored.MergeFile(path);
    const std::string why = CellDifference(stored, config);
    if (!why.empty()) {
      if (!force_new) {
        throw UsageError("the sweep in '" + dir + "' was run with another config (" + why +
                         "); its results would not match. Use a new --out, or --force-new to "
                         "set the old results aside and start afresh");
      }
      note = SetAside(dir);
      set_aside = true;
    } else {
      const auto diff = DiffConfigs(stored, config, {});
      if (!diff.empty()) note = "config changed without changing cells (" + Join(diff) + ")";
    }
  }
  // The records themselves: results without a sweep.yaml (deleted) are of an unknown config, and
  // each record names its config (a sweep.yaml replaced by hand).
  const std::vector<json> records = set_aside ? std::vector<json>{} : ReadDirRecords(dir);
  if (!records.empty()) {
    std::string hash;  // RunSweep and rfx slurm check the plan first; without one, no hash check
    try {
      hash = Plan(config).ConfigHash();
    } catch (const ConfigError&) {
    }
    try {
      if (!FileExists(path)) {
        throw UsageError("'" + dir + "' holds " + std::to_string(records.size()) +
                         " results but no sweep.yaml, so the config they came from is unknown; "
                         "restore " +
                         path +
                         ", use a new --out, or --force-new to set the old results aside and "
                         "start afresh");
      }
      if (!hash.empty()) CheckOneConfig(records, hash, dir, "this sweep would add to them");
    } catch (const UsageError&) {
      if (!force_new) throw;
      note = SetAside(dir);
    }
  }
  WriteFileAtomic(path, config.Dump());
  return note;
}

}  // namespace rfx::sweep
