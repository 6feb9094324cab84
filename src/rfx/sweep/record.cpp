#include "rfx/sweep/record.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "rfx/sweep/run.h"

namespace rfx::sweep {

using nlohmann::json;

json ScalarJson(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (s == "true" || s == "false") return s == "true";
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && errno == 0 && *end == '\0') return i;
  double d = 0;
  if (ScalarNumber(n, &d)) return d;
  return s;
}

json MakeRecord(const Plan& plan, const Cell& cell, int repeat, const train::TrainResult& r) {
  json j;
  j["key"] = plan.CellKey(cell, repeat);
  for (size_t i = 0; i < plan.axes().size(); ++i) {
    j[plan.axes()[i].key] = ScalarJson(plan.axes()[i].values[cell[i]]);
  }
  j["repeat"] = repeat;
  j["seed"] = plan.Seed(cell, repeat);
  j["config_hash"] = plan.ConfigHash();
  const json result = r.ToJson();
  for (auto it = result.begin(); it != result.end(); ++it) j[it.key()] = it.value();
  return j;
}

}  // namespace rfx::sweep
