#include <set>

#include "rfx/sweep/fit.h"
#include "rfx/sweep/plan.h"
#include "rfx/sweep/run.h"
#include "rfx/sweep/store.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::sweep {

using nlohmann::json;

DirFit FitSweepDir(const std::string& dir, double level) {
  if (!FileExists(SweepConfigPath(dir))) {
    throw UsageError("'" + dir + "' is not a sweep directory: it has no sweep.yaml");
  }
  Config config;
  config.MergeFile(SweepConfigPath(dir));
  // The threshold axis must be swept even for a grid.
  SweepOptions o = SweepOptions::FromConfig(config);
  DirFit fit;
  fit.axis_key = o.threshold_axis;
  fit.level = level >= 0 ? level : o.accuracy;
  if (!(fit.level > 0 && fit.level <= 1)) {
    throw UsageError("--accuracy must be in (0, 1], got " + std::to_string(fit.level));
  }
  const Axis* t_axis = nullptr;
  std::vector<const Axis*> others;
  for (const auto& a : o.axes) {
    if (a.key == fit.axis_key) {
      t_axis = &a;
    } else {
      others.push_back(&a);
    }
  }
  if (t_axis == nullptr) {
    throw ConfigError("sweep.threshold.axis", "'" + fit.axis_key + "' was not swept in " + dir +
                                                  "; nothing to take a threshold along");
  }
  if (others.empty()) throw UsageError("the sweep in " + dir + " has no depth axis to fit against");
  const Axis* depth = others[0];
  for (const Axis* a : others) {
    if (a->key == "net.depth") depth = a;
  }
  fit.depth_key = depth->key;
  std::vector<double> values;
  for (const auto& v : t_axis->values) {
    double x = 0;
    if (!ScalarNumber(v, &x)) {
      throw UsageError("threshold axis " + fit.axis_key + " has a non-numeric value");
    }
    values.push_back(x);
  }
  // Groups: every combination of the remaining axes seen in the records.
  const auto records = ReadDirRecords(dir);
  std::vector<const Axis*> rest;
  for (const Axis* a : others) {
    if (a != depth) rest.push_back(a);
  }
  std::vector<json> groups;
  std::set<std::string> seen;
  for (const auto& r : records) {
    json g = json::object();
    for (const Axis* a : rest) g[a->key] = r.contains(a->key) ? r[a->key] : json(nullptr);
    if (seen.insert(g.dump()).second) groups.push_back(g);
  }
  if (groups.empty()) groups.push_back(json::object());
  for (const auto& g : groups) {
    fit.groups.emplace_back(
        g, FitThresholds(Thresholds(records, fit.depth_key, fit.axis_key, fit.level, values, g)));
  }
  return fit;
}

json DirFit::ToJson() const {
  json j = groups.empty() ? json::object() : groups[0].second.ToJson();
  j["depth_key"] = depth_key;
  j["axis_key"] = axis_key;
  j["accuracy"] = level;
  if (groups.size() > 1) {
    j["groups"] = json::array();
    for (const auto& [where, rep] : groups) {
      json g = rep.ToJson();
      g["where"] = where;
      j["groups"].push_back(g);
    }
  }
  return j;
}

std::string DirFit::ToText() const {
  std::string s = "threshold = largest " + axis_key +
                  " reached with accuracy >= " + std::to_string(level).substr(0, 4) + ", by " +
                  depth_key + "\n";
  for (const auto& [where, rep] : groups) {
    if (!where.empty()) s += "\n" + where.dump() + "\n";
    s += rep.ToText();
  }
  return s;
}

}  // namespace rfx::sweep
