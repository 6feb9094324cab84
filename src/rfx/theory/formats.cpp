// `rfx theory`: options, building the net, and the table / JSON / Graphviz outputs.
#include "rfx/theory/formats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "rfx/theory/layers.h"
#include "rfx/theory/torchscript.h"
#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::theory {

const char* TheoryFormatText(TheoryFormat format) {
  switch (format) {
    case TheoryFormat::kTable:
      return "table";
    case TheoryFormat::kJson:
      return "json";
    case TheoryFormat::kDot:
      return "dot";
  }
  return "table";
}

TheoryFormat ParseTheoryFormat(const std::string& text) {
  const auto formats = {TheoryFormat::kTable, TheoryFormat::kJson, TheoryFormat::kDot};
  if (auto format = FindByText(formats, TheoryFormatText, text)) return *format;
  throw UsageError("--format '" + text +
                   "' is not known; allowed: " + TextList(formats, TheoryFormatText));
}

void TheoryOptions::validate() const {
  if (input.h < 1 || input.w < 1) {
    throw UsageError("--input must be N or HxW with sides >= 1 (e.g. 224 or 96x128), got " +
                     AxesText(input));
  }
  if (!model.empty() && net) {
    throw UsageError("--model and --net are exclusive: give one (--model " + model + ", --net " +
                     NamedNetText(*net) + ")");
  }
}

namespace {

// A table cell: 6 significant digits are plenty for a field in pixels.
std::string Cell(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return FormatNumber(std::strtod(buf, nullptr));
}

// One value when both axes agree, "HxW" when not.
std::string Pair(double h, double w) { return h == w ? Cell(h) : Cell(h) + "x" + Cell(w); }

nlohmann::json Number(double v) {
  if (std::abs(v - std::round(v)) < 1e-9 && std::abs(v) < 9e15) {
    return static_cast<int64_t>(std::llround(v));
  }
  return v;
}

nlohmann::json PairJson(double h, double w) {
  if (h == w) return Number(h);
  return nlohmann::json::array({Number(h), Number(w)});
}

std::string NetLabel(const Table& t) { return t.net.empty() ? "(layers)" : t.net; }

std::string Flags(const Row& r) {
  std::vector<std::string> f;
  if (r.border) f.push_back("BORDER");
  if (r.unproductive) f.push_back("unproductive");
  if (r.sees_everything) f.push_back("sees everything");
  if (!r.note.empty()) f.push_back(r.note);
  return Join(f, " ");
}

std::string RangeText(const ResolutionRange& range) {
  if (!range.found) return "no square input side up to 2^20 px has every layer productive";
  std::string s = "every layer productive from " + std::to_string(range.min) +
                  " px (square input); the largest RF covers the input up to " +
                  std::to_string(range.max) + " px";
  if (range.max < range.min) s += " (the range is empty: the net never sees a whole input)";
  return s;
}

std::string BorderText(const Table& t) {
  if (t.border < 0) return "no unproductive layer at input " + AxesText(t.input);
  return "border layer at input " + AxesText(t.input) + ": '" + t.rows[t.border].name +
         "' (from here on the smallest RF exceeds the input)";
}

}  // namespace

std::string FormatTable(const Table& t, const ResolutionRange* range) {
  const Row& out = t.rows.back();
  std::ostringstream o;
  o << "net " << NetLabel(t) << ", input " << t.input.h << "x" << t.input.w << ": RF "
    << Pair(out.h.r, out.w.r) << " px, stride " << Pair(out.h.j, out.w.j) << ", output " << out.h.n
    << "x" << out.w.n << "\n";
  size_t wname = 5, wparams = 6, wop = 8;
  for (const Row& r : t.rows) {
    wname = std::max(wname, r.name.size());
    wparams = std::max(wparams, r.params.size());
    wop = std::max(wop, std::string(OpName(r.op)).size());
  }
  char buf[1024];
  std::snprintf(buf, sizeof buf, "%4s  %-*s  %-*s  %-*s  %9s  %9s  %9s  %9s  %9s\n", "#",
                static_cast<int>(wname), "layer", static_cast<int>(wop), "op",
                static_cast<int>(wparams), "params", "n", "r", "r_min", "j", "start");
  o << buf;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const Row& r = t.rows[i];
    std::snprintf(buf, sizeof buf, "%4zu  %-*s  %-*s  %-*s  %9s  %9s  %9s  %9s  %9s  ", i,
                  static_cast<int>(wname), r.name.c_str(), static_cast<int>(wop), OpName(r.op),
                  static_cast<int>(wparams), r.params.c_str(),
                  Pair(static_cast<double>(r.h.n), static_cast<double>(r.w.n)).c_str(),
                  Pair(r.h.r, r.w.r).c_str(), Pair(r.h.r_min, r.w.r_min).c_str(),
                  Pair(r.h.j, r.w.j).c_str(), Pair(r.h.start, r.w.start).c_str());
    std::string line = buf + Flags(r);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    o << line << "\n";
  }
  if (t.border >= 0 || range) o << BorderText(t) << "\n";
  if (range) o << "resolution range: " << RangeText(*range) << "\n";
  for (const auto& w : t.warnings) o << "warning: " << w << "\n";
  return o.str();
}

nlohmann::json ToJson(const Table& t, const ResolutionRange* range) {
  const Row& out = t.rows.back();
  nlohmann::json j;
  j["net"] = t.net;
  j["input"] = PairJson(t.input.h, t.input.w);
  j["rf"] = PairJson(std::round(out.h.r), std::round(out.w.r));
  j["stride"] = PairJson(std::round(out.h.j), std::round(out.w.j));
  j["output"] = PairJson(static_cast<double>(out.h.n), static_cast<double>(out.w.n));
  j["border"] = t.border >= 0 ? nlohmann::json(t.rows[t.border].name) : nlohmann::json(nullptr);
  j["warnings"] = t.warnings;
  if (range) {
    j["resolution_range"] = range->found ? nlohmann::json{{"min", range->min}, {"max", range->max}}
                                         : nlohmann::json(nullptr);
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const Row& r : t.rows) {
    nlohmann::json l;
    l["name"] = r.name;
    l["op"] = OpName(r.op);
    l["params"] = r.params;
    l["inputs"] = r.inputs;
    l["n"] = PairJson(static_cast<double>(r.h.n), static_cast<double>(r.w.n));
    l["r"] = PairJson(r.h.r, r.w.r);
    l["r_min"] = PairJson(r.h.r_min, r.w.r_min);
    l["j"] = PairJson(r.h.j, r.w.j);
    l["start"] = PairJson(r.h.start, r.w.start);
    l["unproductive"] = r.unproductive;
    l["sees_everything"] = r.sees_everything;
    if (!r.note.empty()) l["note"] = r.note;
    layers.push_back(l);
  }
  j["layers"] = layers;
  return j;
}

namespace {

const char* kUnproductiveColour = "#ff8080";
const char* kBorderColour = "#b00000";
const char* kEverythingColour = "#a0c8ff";
const char* kWarningColour = "#ffe080";

// A DOT string: quotes escaped; "\\n" in `s` stays a DOT line break.
std::string Quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\\\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string FormatDot(const Table& t, const ResolutionRange* range) {
  const Row& out = t.rows.back();
  std::ostringstream o;
  o << "digraph rfx {\n";
  std::string title = "net " + NetLabel(t) + ", input " + AxesText(t.input) + ": RF " +
                      Pair(out.h.r, out.w.r) + ", stride " + Pair(out.h.j, out.w.j) + "\\n" +
                      BorderText(t);
  if (range) title += "\\nresolution range: " + RangeText(*range);
  o << "  label=" << Quote(title) << ";\n  labelloc=t;\n";
  o << "  rankdir=TB;\n  node [shape=box, style=filled, fillcolor=white, fontname=Helvetica];\n";
  // The legend: what the colours mean (plain nodes in a cluster: no HTML labels needed).
  o << "  subgraph cluster_legend {\n    label=\"legend\";\n    style=dashed;\n";
  o << "    legend_unproductive [label=\"unproductive: smallest RF > input\", fillcolor=\""
    << kUnproductiveColour << "\"];\n";
  o << "    legend_border [label=\"border layer: the first unproductive\", fillcolor=\""
    << kUnproductiveColour << "\", penwidth=3, color=\"" << kBorderColour
    << "\", shape=doubleoctagon];\n";
  o << "    legend_everything [label=\"sees everything (global)\", fillcolor=\""
    << kEverythingColour << "\"];\n";
  o << "    legend_warning [label=\"warning: misaligned merge or empty output\", fillcolor=\""
    << kWarningColour << "\"];\n";
  o << "    legend_unproductive -> legend_border -> legend_everything -> legend_warning "
       "[style=invis];\n  }\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const Row& r = t.rows[i];
    std::string label = r.name + "\\n" + OpName(r.op);
    if (!r.params.empty()) label += " " + r.params;
    label += "\\nn=" + Pair(static_cast<double>(r.h.n), static_cast<double>(r.w.n)) +
             " r=" + Pair(r.h.r, r.w.r);
    if (!(r.h.r_min == r.h.r && r.w.r_min == r.w.r)) {
      label += " r_min=" + Pair(r.h.r_min, r.w.r_min);
    }
    label += " j=" + Pair(r.h.j, r.w.j);
    if (r.border) label += "\\nBORDER LAYER";
    if (r.sees_everything) label += "\\nsees everything";
    if (!r.note.empty()) label += "\\n" + r.note;
    std::string attrs = "label=" + Quote(label);
    if (r.unproductive) {
      attrs += ", fillcolor=\"" + std::string(kUnproductiveColour) + "\"";
    } else if (r.sees_everything) {
      attrs += ", fillcolor=\"" + std::string(kEverythingColour) + "\"";
    } else if (!r.note.empty()) {
      attrs += ", fillcolor=\"" + std::string(kWarningColour) + "\"";
    }
    if (r.border) {
      attrs += ", penwidth=3, color=\"" + std::string(kBorderColour) + "\", shape=doubleoctagon";
    }
    o << "  n" << i << " [" << attrs << "];\n";
  }
  for (size_t i = 0; i < t.rows.size(); ++i) {
    for (int in : t.rows[i].inputs) o << "  n" << in << " -> n" << i << ";\n";
  }
  o << "}\n";
  return o.str();
}

std::string RunTheory(const TheoryOptions& options, const Config& config) {
  options.validate();
  std::string name;
  Graph g;
  if (!options.model.empty()) {
    g = FromTorchScript(options.model, options.input);
    name = options.model.substr(options.model.find_last_of('/') + 1);
  } else if (options.net) {
    g = BuildNet(*options.net, config);
    name = NamedNetText(*options.net);
  } else if (const YAML::Node layers = config.Get("theory.layers");
             layers.IsSequence() && layers.size() > 0) {
    g = FromLayerList(layers, config);
    name = NamedNetText(NamedNet::kLayers);
  } else {
    const NamedNet net = NamedNetOfConfig(config);
    g = BuildNet(net, config);
    name = NamedNetText(net);
  }
  const Table t = Analyze(g, options.input, name);
  ResolutionRange range;
  if (options.resolution_range) range = FindResolutionRange(g);
  const ResolutionRange* r = options.resolution_range ? &range : nullptr;
  switch (options.format) {
    case TheoryFormat::kJson:
      return ToJson(t, r).dump(2) + "\n";
    case TheoryFormat::kDot:
      return FormatDot(t, r);
    case TheoryFormat::kTable:
      break;
  }
  return FormatTable(t, r);
}

}  // namespace rfx::theory
