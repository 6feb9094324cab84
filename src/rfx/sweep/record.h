// The record of a finished training in a sweep's results.
#pragma once
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "rfx/sweep/plan.h"
#include "rfx/train/result.h"

namespace rfx::sweep {

// Record JSON of a finished training: key, the axis values, repeat, seed, config_hash
// (Plan::ConfigHash), then the TrainResult's own JSON (TrainResult::FromJson reads a record
// back).
nlohmann::json MakeRecord(const Plan& plan, const Cell& cell, int repeat,
                          const train::TrainResult& r);
// A scalar YAML value as JSON (integer, number, boolean or string).
nlohmann::json ScalarJson(const YAML::Node& n);

}  // namespace rfx::sweep
