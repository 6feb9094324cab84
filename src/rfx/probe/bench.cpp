// `rfx bench probe`: the incremental depth scan against a fresh net per depth.
#include "rfx/probe/bench.h"

#include <sys/resource.h>
#include <torch/torch.h>

#include "rfx/probe/forward.h"
#include "rfx/runtime/device.h"
#include "rfx/util/error.h"

namespace rfx::probe {

nlohmann::json RunProbeBench(const BenchOptions& options) {
  if (options.max_depth < 1) throw UsageError("--max-depth must be >= 1");
  if (options.size < 3) throw UsageError("--size must be >= 3");
  const std::string threads_problem = ThreadsProblem(options.threads);
  if (!threads_problem.empty()) throw UsageError("--threads " + threads_problem);
  Config config;
  config.Set("net.arch", YAML::Node("fcn"), "bench");
  config.Set("net.skip", YAML::Node("none"), "bench");
  config.Set("init.scheme", YAML::Node("constant"), "bench");
  config.Set("train.device", YAML::Node(options.device), "--device");
  config.Set("train.threads", YAML::Node(options.threads), "--threads");
  ForwardOptions f;
  f.size = options.size;
  for (int d = 1; d <= options.max_depth; ++d) f.depths.push_back(d);
  // CPU seconds of the whole process (all intra-op threads): less sensitive than wall time to
  // other jobs on a shared machine.
  auto cpu_s = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  f.incremental = true;
  double c0 = cpu_s();
  const ForwardResult inc = RunForward(config, f);
  const double inc_cpu = cpu_s() - c0;
  f.incremental = false;
  c0 = cpu_s();
  const ForwardResult fresh = RunForward(config, f);
  const double fresh_cpu = cpu_s() - c0;
  bool match = inc.depths.size() == fresh.depths.size();
  for (size_t i = 0; match && i < inc.depths.size(); ++i) {
    match = inc.depths[i].radius == fresh.depths[i].radius;
  }
  nlohmann::json j;
  j["benchmark"] = "probe forward depth scan 1.." + std::to_string(options.max_depth) + " at " +
                   std::to_string(options.size) +
                   "^2, fcn (skip none, width 16, kernel 3), "
                   "constant init";
  j["size"] = options.size;
  j["max_depth"] = options.max_depth;
  j["threads"] = at::get_num_threads();
  j["device"] = inc.device;
  j["incremental_method"] = inc.method;
  j["incremental_s"] = inc.wall_s;
  j["fresh_s"] = fresh.wall_s;
  j["speedup"] = inc.wall_s > 0 ? fresh.wall_s / inc.wall_s : 0.0;
  j["incremental_cpu_s"] = inc_cpu;
  j["fresh_cpu_s"] = fresh_cpu;
  j["speedup_cpu"] = inc_cpu > 0 ? fresh_cpu / inc_cpu : 0.0;
  j["radii_match"] = match;
  j["radius_at_max_depth"] = inc.depths.back().radius;
  return j;
}

}  // namespace rfx::probe
