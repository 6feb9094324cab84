#include "rfx/probe/compare.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "rfx/nn/depth_key.h"
#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
#include "rfx/stats/level.h"
#include "rfx/theory/theory.h"
#include "rfx/util/error.h"

namespace rfx::probe {

namespace {

// The forward and gradient probes' options for one compare run: its own size, level, dtype and
// channel over the gradient probe's flags.
ForwardOptions ForwardFor(const CompareOptions& o) {
  ForwardOptions f;
  f.size = o.size;
  f.level = o.level;
  f.dtype = o.dtype;
  f.channel = o.channel;
  return f;
}

GradientOptions GradientFor(const CompareOptions& o) {
  GradientOptions g = o.gradient;
  g.size = o.size;
  g.level = o.level;
  g.dtype = o.dtype;
  g.channel = o.channel;
  return g;
}

nlohmann::json Pair(const Interval& i) { return nlohmann::json::array({i.lo, i.hi}); }

std::string Fmt(const char* format, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

CompareTarget TargetFromConfig(const Config& config, const std::vector<int>& depths) {
  CompareTarget t;
  t.config = config;
  const nn::NetArch arch = nn::NetOptions::FromConfig(config).arch;
  if (!depths.empty() && arch != nn::NetArch::kFcn) {
    throw UsageError("--depths applies to net.arch fcn; net.arch '" +
                     std::string(nn::NetArchText(arch)) + "' is compared as configured (one row)");
  }
  t.depths = depths;
  if (arch == nn::NetArch::kFcn && depths.empty())
    t.depths = {static_cast<int>(config.GetInt(nn::kDepthKey))};
  t.label = std::string(nn::NetArchText(arch)) + " from config";
  return t;
}

CompareTarget TargetFromModel(const Config& config, const ModelOptions& model,
                              const std::vector<std::string>& nodes) {
  if (!nodes.empty() && !model.node.empty()) {
    throw UsageError("--nodes and --node '" + model.node +
                     "' both pick the rows of a model: give one of them");
  }
  CompareTarget t;
  t.config = config;
  t.model = model;
  t.nodes = nodes;
  t.label = "model " + model.path + (model.node.empty() ? "" : ", node " + model.node);
  return t;
}

namespace {

CompareResult RunModelCompare(const CompareTarget& target, const CompareOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  CompareResult result;
  result.target = target.label;
  result.options = options;
  result.arch = "model";
  result.init = "as saved";
  const ModelOptions& model = *target.model;
  const int h = model.input_shape.empty() ? options.size : static_cast<int>(model.input_shape[1]);
  const int w = model.input_shape.empty() ? options.size : static_cast<int>(model.input_shape[2]);
  result.input_h = h;
  result.input_w = w;
  const theory::Table table = ModelTable(model, h, w);
  std::vector<std::string> nodes = target.nodes;
  for (const std::string& n : nodes) {
    if (n.empty() || RowIndexOf(table, n) < 0) {
      throw UsageError("--nodes: '" + n + "' names no layer of the analytic graph of " +
                       model.path + " (a module path such as layer3 or convs.2)");
    }
  }
  if (!model.node.empty()) nodes = {model.node};
  if (nodes.empty()) nodes = DefaultNodes(model, table);
  if (nodes.empty()) {
    throw UsageError("--model " + model.path +
                     ": no layer of it gives a map to probe (every row sees everything); give "
                     "--nodes");
  }
  const GradientOptions g = GradientFor(options);
  for (const std::string& node : nodes) {
    ModelOptions at = model;
    at.node = node;
    const theory::Row& analytic = ReadRow(table, at);
    const ForwardResult forward = RunModelForward(target.config, ForwardFor(options), at);
    CompareRow row;
    row.label = node.empty() ? "output" : node;
    row.analytic_rf = analytic.h.r;
    row.analytic_radius = (analytic.h.r - 1) / 2;
    row.impulse_jump = analytic.w.j;  // the impulse radius is read along a row
    if (!forward.depths.empty()) {
      row.impulse_radius = forward.depths.front().radius;
      row.impulse_clipped = forward.depths.front().clipped;
    }
    row.erf = RunModelGradient(target.config, g, at);
    result.rows.push_back(std::move(row));
  }
  result.wall_s = SecondsSince(t0);
  return result;
}

}  // namespace

std::vector<std::string> DefaultNodes(const ModelOptions& model, const theory::Table& table) {
  auto probeable = [&](const std::string& node) {
    const int i = RowIndexOf(table, node);
    return i > 0 && !table.rows[i].sees_everything;
  };
  std::vector<std::string> children = ModelChildren(model.path);
  for (;;) {
    std::vector<std::string> named;
    for (const std::string& c : children) {
      if (RowIndexOf(table, c) > 0) named.push_back(c);
    }
    if (named.size() != 1) break;
    std::vector<std::string> inner = ModelChildren(model.path, named[0]);
    if (inner.empty()) break;
    children = inner;
  }
  std::vector<std::string> nodes;
  for (const std::string& c : children) {
    if (probeable(c)) nodes.push_back(c);
  }
  // The model's output, when it is a map that is not the last node's.
  const theory::Row& last = table.rows.back();
  if (!last.sees_everything && table.rows.size() > 1 &&
      (nodes.empty() ||
       RowIndexOf(table, nodes.back()) != static_cast<int>(table.rows.size()) - 1)) {
    nodes.push_back("");
  }
  return nodes;
}

void CompareOptions::validate() const {
  if (size < 3 || size > 16384) {
    throw UsageError("--size " + std::to_string(size) + " is out of range; allowed: 3 … 16384");
  }
  GradientFor(*this).validate();
}

CompareResult RunCompare(const CompareTarget& target, const CompareOptions& options) {
  options.validate();
  if (target.model) return RunModelCompare(target, options);
  const auto t0 = std::chrono::steady_clock::now();
  CompareResult result;
  result.target = target.label;
  result.options = options;
  const nn::NetArch arch = nn::NetOptions::FromConfig(target.config).arch;
  result.arch = nn::NetArchText(arch);
  result.init = nn::InitSchemeText(nn::InitOptions::FromConfig(target.config).scheme);
  result.input_h = result.input_w = options.size;

  // The impulse radii: one forward run (fcn depths in its incremental scan when exact).
  ForwardOptions f = ForwardFor(options);
  f.depths = target.depths;
  const ForwardResult forward = RunForward(target.config, f);

  const GradientOptions g = GradientFor(options);
  const std::vector<int> depths = target.depths.empty() ? std::vector<int>{0} : target.depths;
  if (forward.depths.size() != depths.size()) {
    throw std::logic_error("RunCompare: the forward probe returned another number of depths");
  }
  for (size_t i = 0; i < depths.size(); ++i) {
    const Config c = WithDepth(target.config, depths[i]);
    CompareRow row;
    row.depth = depths[i];
    row.label = depths[i] > 0 ? "depth " + std::to_string(depths[i]) : result.arch;
    const theory::Table table =
        theory::Analyze(theory::BuildNet(theory::NamedNetOf(arch), c), options.size);
    row.analytic_rf = table.rf();
    row.analytic_radius = (table.rf() - 1) / 2;
    row.impulse_radius = forward.depths[i].radius;
    row.impulse_clipped = forward.depths[i].clipped;
    row.erf = RunGradient(c, g);
    result.rows.push_back(std::move(row));
  }
  result.wall_s = SecondsSince(t0);
  return result;
}

nlohmann::json CompareResult::ToJson() const {
  nlohmann::json j;
  j["target"] = target;
  j["arch"] = arch;
  j["init"] = init;
  j["size"] = options.size;
  j["input"] = {input_h, input_w};
  j["level"] = options.level;
  j["dtype"] = options.dtype;
  nlohmann::json rows_json = nlohmann::json::array();
  for (const CompareRow& r : rows) {
    const GradientResult& e = r.erf;
    nlohmann::json row = {{"label", r.label},
                          {"analytic_rf", r.analytic_rf},
                          {"analytic_radius", r.analytic_radius},
                          {"impulse_radius", r.impulse_radius},
                          {"impulse_clipped", r.impulse_clipped},
                          {"impulse_jump", r.impulse_jump},
                          {"erf_radius", e.radius},
                          {"erf_clipped", e.clipped},
                          {"sigma", {{"x", e.fit.sigma_x}, {"y", e.fit.sigma_y}}}};
    row["depth"] = r.depth > 0 ? nlohmann::json(r.depth) : nlohmann::json(nullptr);
    nlohmann::json areas = nlohmann::json::array();
    for (size_t k = 0; k < e.area_ratios.size(); ++k) {
      nlohmann::json a = {{"t", e.area_ratios[k].t}, {"ratio", e.area_ratios[k].ratio}};
      if (e.replknet) a["side"] = e.area_ratios[k].side;
      if (e.ci) a["ci"] = Pair(e.ci->areas[k]);
      areas.push_back(a);
    }
    row["area_ratio"] = areas;
    if (e.ci) {
      row["erf_radius_ci"] = Pair(e.ci->radius);
      row["sigma_ci"] = {{"x", Pair(e.ci->sigma_x)}, {"y", Pair(e.ci->sigma_y)}};
    }
    rows_json.push_back(row);
  }
  j["rows"] = rows_json;
  if (!rows.empty()) {
    const GradientResult& e = rows.front().erf;
    j["gradient"] = {{"agg", e.agg},     {"scale", e.scale},     {"replknet", e.replknet},
                     {"input", e.input}, {"samples", e.samples}, {"source", e.source}};
    if (e.ci) {
      j["bootstrap"] = {
          {"replicates", e.ci->replicates}, {"units", e.ci->units}, {"level", stats::kCiLevel}};
    }
  }
  j["wall_s"] = wall_s;
  return j;
}

std::string FormatCompareTable(const CompareResult& r) {
  std::string s = "compare: " + r.target + " (init " + r.init + "), " + std::to_string(r.input_h) +
                  "×" + std::to_string(r.input_w) + " inputs, level " + Fmt("%g", r.options.level);
  if (!r.rows.empty()) {
    const GradientResult& e = r.rows.front().erf;
    s += "; gradient: " + std::to_string(e.samples) + " " + e.input + " sample(s), agg " + e.agg +
         ", scale " + e.scale;
    if (e.ci) s += ", 95% bootstrap CI over " + std::to_string(e.ci->replicates) + " replicates";
  }
  s += "\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-14s %8s %8s %8s %18s %22s", "row", "rf", "r_theory",
                "r_impulse", "r_erf [CI]", "sigma_x [CI]");
  s += line;
  for (double t : AreaFractions()) s += Fmt("   area@%.2f", t);
  s += "\n";
  for (const CompareRow& row : r.rows) {
    const GradientResult& e = row.erf;
    std::string erf = std::to_string(e.radius) + (e.clipped ? "+" : "");
    std::string sigma = Fmt("%.3f", e.fit.sigma_x);
    if (e.ci) {
      erf += " [" + Fmt("%.4g", e.ci->radius.lo) + ", " + Fmt("%.4g", e.ci->radius.hi) + "]";
      sigma += " [" + Fmt("%.3f", e.ci->sigma_x.lo) + ", " + Fmt("%.3f", e.ci->sigma_x.hi) + "]";
    }
    std::string imp = std::to_string(row.impulse_radius) + (row.impulse_clipped ? "+" : "");
    if (row.impulse_jump != 1) imp += " (×" + Fmt("%g", row.impulse_jump) + ")";
    std::snprintf(line, sizeof line, "%-14s %8g %8g %8s %18s %22s", row.label.c_str(),
                  row.analytic_rf, row.analytic_radius, imp.c_str(), erf.c_str(), sigma.c_str());
    s += line;
    for (const AreaResult& a : e.area_ratios) s += Fmt("  %10.6f", a.ratio);
    s += "\n";
  }
  s += "(r_impulse, r_erf: first distance below the level, so at most r_theory + 1; '+': reaches "
       "the border, a lower bound; r_impulse (×j): in units of a map of jump j input px)\n";
  return s;
}

std::string FormatCompareCsv(const CompareResult& r) {
  std::string s =
      "label,depth,analytic_rf,analytic_radius,impulse_radius,impulse_clipped,impulse_jump,erf_"
      "radius,"
      "erf_clipped,erf_radius_lo,erf_radius_hi,sigma_x,sigma_x_lo,sigma_x_hi,sigma_y,sigma_y_lo,"
      "sigma_y_hi";
  for (double t : AreaFractions()) {
    const std::string n = Fmt("%g", t);
    s += ",area_" + n + ",area_" + n + "_lo,area_" + n + "_hi";
  }
  s += "\n";
  auto num = [](double v) { return Fmt("%.9g", v); };
  for (const CompareRow& row : r.rows) {
    const GradientResult& e = row.erf;
    const bool ci = e.ci.has_value();
    auto lo_hi = [&](const Interval* i) {
      return ci ? "," + num(i->lo) + "," + num(i->hi) : std::string(",,");
    };
    s += row.label + "," + (row.depth > 0 ? std::to_string(row.depth) : "") + "," +
         num(row.analytic_rf) + "," + num(row.analytic_radius) + "," +
         std::to_string(row.impulse_radius) + "," + (row.impulse_clipped ? "true" : "false") + "," +
         num(row.impulse_jump) + "," + std::to_string(e.radius) + "," +
         (e.clipped ? "true" : "false") + lo_hi(ci ? &e.ci->radius : nullptr) + "," +
         num(e.fit.sigma_x) + lo_hi(ci ? &e.ci->sigma_x : nullptr) + "," + num(e.fit.sigma_y) +
         lo_hi(ci ? &e.ci->sigma_y : nullptr);
    for (size_t k = 0; k < e.area_ratios.size(); ++k) {
      s += "," + num(e.area_ratios[k].ratio) + lo_hi(ci ? &e.ci->areas[k] : nullptr);
    }
    s += "\n";
  }
  return s;
}

}  // namespace rfx::probe
