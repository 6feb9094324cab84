#include "rfx/sweep/fit.h"

#include <cmath>
#include <cstdio>

#include "rfx/train/train.h"
#include "rfx/util/error.h"
#include "rfx/util/json.h"

namespace rfx::sweep {

using nlohmann::json;

namespace {

json Num(double v) { return FiniteOrNull(v); }

std::string Fmt(const char* format, double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

void FitOptions::validate() const {
  if (!sweep_level && !(level > 0 && level <= 1)) {
    throw UsageError("accuracy level " + Fmt("%g", level) + " is out of range; allowed (0, 1]");
  }
  if (budget < 0) {
    throw UsageError("budget " + std::to_string(budget) + " steps is out of range; allowed >= 1");
  }
  if (bootstrap < 0 || bootstrap > 100000) {
    throw UsageError("bootstrap " + std::to_string(bootstrap) +
                     " replicates is out of range; allowed 0..100000");
  }
}

std::map<double, std::vector<stats::Trial>> Outcomes(const std::vector<json>& records,
                                                     const std::string& depth_key,
                                                     const std::string& axis_key, double level,
                                                     int64_t budget, const json& fixed, int* failed,
                                                     int* unchecked) {
  std::map<double, std::vector<stats::Trial>> out;
  if (failed) *failed = 0;
  if (unchecked) *unchecked = 0;
  for (const auto& r : records) {
    if (!r.contains(depth_key) || !r.contains(axis_key) || !r[depth_key].is_number() ||
        !r[axis_key].is_number()) {
      continue;
    }
    bool match = true;
    for (auto it = fixed.begin(); it != fixed.end(); ++it) {
      if (!r.contains(it.key()) || r[it.key()] != it.value()) match = false;
    }
    if (!match) continue;
    const train::TrainResult t = train::TrainResult::FromJson(r);
    if (t.failed()) {
      if (failed) ++*failed;
      continue;
    }
    bool learned = t.ok() && t.accuracy >= level;
    if (budget > 0) {
      if (t.check_every <= 0) {
        if (unchecked) ++*unchecked;
        continue;
      }
      learned = learned && t.learned_at >= 0 && t.learned_at <= budget;
    }
    out[r[depth_key].get<double>()].push_back({r[axis_key].get<double>(), learned});
  }
  return out;
}

json GroupFit::ToJson() const {
  json j;
  const stats::PsychometricFit& f = curve.fit;
  j["thresholds"] = json::array();
  j["depths"] = json::array();
  for (const stats::DepthEstimate& e : f.depths) {
    json t = {{"depth", e.depth}, {"ci", {Num(e.ci_lo), Num(e.ci_hi)}}};
    t["distance"] = e.censored == stats::Censoring::kBelow ? json(nullptr) : Num(e.d50);
    if (e.censored != stats::Censoring::kNone) t["censored"] = stats::CensoringText(e.censored);
    j["thresholds"].push_back(t);
    j["depths"].push_back(rfx::stats::ToJson(e));
  }
  if (curve.fitted) {
    j["models"]["power"] = curve.power.ToJson();
    j["models"]["power"]["p_ci"] = {Num(curve.p_lo), Num(curve.p_hi)};
    j["models"]["sqrt"] = curve.sqrt_fit.ToJson();
    j["models"]["linear"] = curve.linear.ToJson();
    j["preferred"] = stats::CurveKindText(curve.preferred);
    j["exponent"] = stats::ExponentVerdictText(curve.exponent());
    j["delta_aic"] = Num(curve.delta_aic);
  } else {
    j["models"] = json::object();
    j["preferred"] = nullptr;
    j["exponent"] = nullptr;
  }
  j["slope"] = Num(f.slope);
  j["lapse"] = Num(f.lapse);
  j["trainings"] = trainings;
  j["failed_left_out"] = failed;
  if (unchecked > 0) j["unchecked_left_out"] = unchecked;
  j["bootstrap"] = curve.bootstrap_used;
  j["verdict"] = curve.Verdict();
  if (!curve.note.empty()) j["note"] = curve.note;
  return j;
}

std::string GroupFit::ToText() const {
  std::string s = "depth    d50   95% CI            trainings  learned\n";
  char buf[256];
  for (const stats::DepthEstimate& e : curve.fit.depths) {
    std::string d50 = Fmt("%.2f", e.d50);
    if (e.censored == stats::Censoring::kAbove) d50 = ">" + Fmt("%.0f", e.d50);
    if (e.censored == stats::Censoring::kBelow) d50 = "<" + Fmt("%.0f", e.d50);
    const std::string ci = "[" + Fmt("%.2f", e.ci_lo) + ", " + Fmt("%.2f", e.ci_hi) + "]";
    std::snprintf(buf, sizeof buf, "%5g  %6s   %-16s  %9d  %7d\n", e.depth, d50.c_str(), ci.c_str(),
                  e.trainings, e.learned);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "psychometric slope %.3g px, lapse %.3g; %d trainings",
                curve.fit.slope, curve.fit.lapse, trainings);
  s += buf;
  if (failed > 0) s += ", " + std::to_string(failed) + " failed left out";
  if (unchecked > 0) {
    s += ", " + std::to_string(unchecked) + " without periodic checks left out (--budget)";
  }
  s += "\n";
  if (curve.fitted) {
    const stats::CurveModel& p = curve.power;
    std::snprintf(buf, sizeof buf, "sqrt    d50 = %.4g * sqrt(N) + %.4g   R2 %.3f   AIC %.1f\n",
                  curve.sqrt_fit.a, curve.sqrt_fit.b, curve.sqrt_fit.r2, curve.sqrt_fit.aic);
    s += buf;
    std::snprintf(buf, sizeof buf, "linear  d50 = %.4g * N + %.4g   R2 %.3f   AIC %.1f\n",
                  curve.linear.a, curve.linear.b, curve.linear.r2, curve.linear.aic);
    s += buf;
    std::snprintf(buf, sizeof buf, "power   d50 = %.4g * N^%.3f%s   p 95%% CI [%s, %s]   R2 %.3f\n",
                  p.a, p.p, std::isnan(p.b) ? "" : (" + " + Fmt("%.4g", p.b)).c_str(),
                  Fmt("%.3f", curve.p_lo).c_str(), Fmt("%.3f", curve.p_hi).c_str(), p.r2);
    s += buf;
  }
  s += curve.Verdict() + "\n";
  return s;
}

}  // namespace rfx::sweep
