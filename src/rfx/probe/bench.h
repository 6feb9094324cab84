// `rfx bench probe`: the forward probe's incremental depth scan against fresh nets.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace rfx::probe {

// `rfx bench probe`: the depth scan 1..max_depth at size², plain fcn with constant init,
// incremental vs a fresh net per depth, in the same run.
struct BenchOptions {
  int max_depth = 192;
  int size = 768;
  int threads = 0;  // 0: all cores
  std::string device = "auto";
};
nlohmann::json RunProbeBench(const BenchOptions& options);

}  // namespace rfx::probe
