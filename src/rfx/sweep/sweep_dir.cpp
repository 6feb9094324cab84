// The sweep-directory guard: a directory holds one sweep's cells (sweep.yaml), compared and
// stored by CheckAndStoreConfig.
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

std::string CheckAndStoreConfig(const std::string& dir, const Config& config, bool force_new) {
  MakeDirs(dir);
  const std::string path = SweepConfigPath(dir);
  std::string note;
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
      int n = 1;
      while (FileExists(dir + "/superseded-" + std::to_string(n))) ++n;
      const std::string old = dir + "/superseded-" + std::to_string(n);
      MakeDirs(old);
      for (const auto& f : RecordFiles(dir)) {
        fs::rename(f, old + "/" + fs::path(f).filename().string());
      }
      fs::rename(path, old + "/sweep.yaml");
      if (FileExists(dir + "/cells")) fs::rename(dir + "/cells", old + "/cells");
      note = "--force-new: old results moved to " + old;
    } else {
      const auto diff = DiffConfigs(stored, config, {});
      if (!diff.empty()) note = "config changed without changing cells (" + Join(diff) + ")";
    }
  }
  WriteFileAtomic(path, config.Dump());
  return note;
}

}  // namespace rfx::sweep
