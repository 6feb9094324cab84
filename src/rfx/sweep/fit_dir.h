// `rfx fit` of a sweep directory: its records fitted per combination of the other axes (fit.h).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/sweep/fit.h"

namespace rfx::sweep {

struct DirFit {
  std::string depth_key, axis_key;
  double level = 0.9;
  int64_t budget = 0;
  std::vector<GroupFit> groups;
  // The first group's keys at the top level (thresholds, depths, models, preferred, verdict...);
  // all groups under "groups" when there are several.
  nlohmann::json ToJson() const;
  std::string ToText() const;  // ends with the verdict line
};

// Fits a sweep directory (its sweep.yaml and every record file): depth axis net.depth if swept,
// else the first axis other than sweep.threshold.axis.
DirFit FitSweepDir(const std::string& dir, const FitOptions& options = {});

}  // namespace rfx::sweep
