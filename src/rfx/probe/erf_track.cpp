#include "rfx/probe/erf_track.h"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "rfx/probe/metrics.h"
#include "rfx/probe/probe.h"
#include "rfx/train/run_dir.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::probe {

namespace {

// The step of a snapshot map's file name ("step-S.csv"), or -1.
int64_t MapStep(const std::string& name) {
  const std::string prefix = "step-", suffix = ".csv";
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return -1;
  }
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) return -1;
  return std::stoll(digits);
}

}  // namespace

void ErfTracker::Start(const train::TrainStart& start) {
  config_ = start.config;
  options_ = start.options.erf;
  paths_.reset();
  if (options_.enabled() && start.paths != nullptr) paths_ = *start.paths;
  device_ = start.device;
  seed_ = start.options.seed;
  recorded_.clear();
  if (start.resumed) Resume(start.step);
}

void ErfTracker::Resume(int64_t step) {
  if (!paths_) return;
  train::TrimMetrics(paths_->erf_log, step);  // also drops a line cut short by a kill
  if (FileExists(paths_->erf_log)) {
    for (const std::string& line : ReadCompleteLines(paths_->erf_log)) {
      recorded_.insert(nlohmann::json::parse(line).at("step").get<int64_t>());
    }
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(paths_->erf_dir, ec)) {
    if (MapStep(entry.path().filename().string()) > step) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

void ErfTracker::AfterStep(nn::Net& net, int64_t step, bool last) {
  if (!paths_) return;
  if (!(step % options_.every == 0 || last) || recorded_.count(step) > 0) return;
  Snapshot(net, step);
  recorded_.insert(step);
}

void ErfTracker::Snapshot(nn::Net& net, int64_t step) {
  const auto t0 = std::chrono::steady_clock::now();
  GradientOptions o;  // the probe's defaults: noise, |grad|, no scaling, level 0.0012
  o.samples = options_.samples;
  o.bootstrap = 0;
  nlohmann::json line{{"step", step}};
  try {
    const GradientResult r = MeasureGradient(net, *config_, o, device_, seed_);
    MakeDirs(paths_->erf_dir);
    WriteMapCsv(r.map, paths_->ErfMap(step));
    nlohmann::json areas = nlohmann::json::array();
    for (const AreaResult& a : r.area_ratios) {
      areas.push_back({{"t", a.t}, {"ratio", a.ratio}});
    }
    line["radius"] = r.radius;
    line["clipped"] = r.clipped;
    line["level"] = r.level;
    line["sigma"] = {{"x", r.fit.sigma_x}, {"y", r.fit.sigma_y}};
    line["centre"] = {{"x", r.fit.mean_x}, {"y", r.fit.mean_y}};
    line["area_ratio"] = areas;
    line["samples"] = r.samples;
    line["input"] = r.input;
    line["agg"] = r.agg;
    line["scale"] = r.scale;
    line["map"] = "erf/step-" + std::to_string(step) + ".csv";
  } catch (const UsageError&) {
    throw;  // a bad setting, not a state of the net
  } catch (const IoError&) {
    throw;
  } catch (const std::runtime_error& e) {
    line["error"] = e.what();  // e.g. a gradient that is not finite: the net is diverging
  }
  line["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  AppendLineDurable(paths_->erf_log, line.dump());
}

}  // namespace rfx::probe
