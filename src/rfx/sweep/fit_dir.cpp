#include "rfx/sweep/fit_dir.h"

#include <set>

#include "rfx/nn/depth_key.h"
#include "rfx/sweep/fit.h"
#include "rfx/sweep/plan.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/sweep_dir.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::sweep {

using nlohmann::json;

DirFit FitSweepDir(const std::string& dir, const FitOptions& options) {
  options.validate();
  if (!FileExists(SweepConfigPath(dir))) {
    throw UsageError("'" + dir + "' is not a sweep directory: it has no sweep.yaml");
  }
  Config config;
  config.MergeFile(SweepConfigPath(dir));
  // The threshold axis must be swept even for a grid.
  SweepOptions o = SweepOptions::FromConfig(config);
  DirFit fit;
  fit.axis_key = o.threshold_axis;
  fit.level = options.sweep_level ? o.accuracy : options.level;
  fit.budget = options.budget;
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
    if (a->key == nn::kDepthKey) depth = a;
  }
  fit.depth_key = depth->key;
  // Groups: every combination of the remaining axes seen in the records.
  const auto records = ReadDirRecords(dir);
  CheckOneConfig(records, Plan(config).ConfigHash(), dir, "fit would pool them");
  std::vector<const Axis*> rest;
  for (const Axis* a : others) {
    if (a != depth) rest.push_back(a);
  }
  std::vector<json> wheres;
  std::set<std::string> seen;
  for (const auto& r : records) {
    json g = json::object();
    for (const Axis* a : rest) g[a->key] = r.contains(a->key) ? r[a->key] : json(nullptr);
    if (seen.insert(g.dump()).second) wheres.push_back(g);
  }
  if (wheres.empty()) wheres.push_back(json::object());
  stats::PsychometricOptions psy;
  psy.shared_slope = options.shared_slope;
  stats::CurveOptions curve;
  curve.bootstrap = options.bootstrap;
  curve.seed = options.seed;
  for (const auto& where : wheres) {
    GroupFit g;
    g.where = where;
    const auto outcomes = Outcomes(records, fit.depth_key, fit.axis_key, fit.level, fit.budget,
                                   where, &g.failed, &g.unchecked);
    for (const auto& [d, trials] : outcomes) g.trainings += static_cast<int>(trials.size());
    if (fit.budget > 0 && g.trainings == 0 && g.unchecked > 0) {
      throw UsageError(
          "--budget needs trainings with periodic checks (train.early_stop.every > "
          "0); none of the " +
          std::to_string(g.unchecked) + " trainings in " + dir + " has them");
    }
    g.curve = stats::FitCurve(outcomes, psy, curve);
    fit.groups.push_back(std::move(g));
  }
  return fit;
}

json DirFit::ToJson() const {
  json j = groups.empty() ? json::object() : groups[0].ToJson();
  j["depth_key"] = depth_key;
  j["axis_key"] = axis_key;
  j["accuracy"] = level;
  if (budget > 0) j["budget"] = budget;
  if (groups.size() > 1) {
    j["groups"] = json::array();
    for (const GroupFit& g : groups) {
      json gj = g.ToJson();
      gj["where"] = g.where;
      j["groups"].push_back(gj);
    }
  }
  return j;
}

std::string DirFit::ToText() const {
  char level_text[32];
  std::snprintf(level_text, sizeof level_text, "%g", level);
  std::string s = "field of each " + depth_key + ": d50, the " + axis_key +
                  " learned (accuracy >= " + level_text + ") half the time";
  if (budget > 0) s += ", within " + std::to_string(budget) + " steps";
  s += "\n";
  for (const GroupFit& g : groups) {
    if (!g.where.empty()) s += "\n" + g.where.dump() + "\n";
    s += g.ToText();
  }
  return s;
}

}  // namespace rfx::sweep
