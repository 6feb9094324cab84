#include "rfx/theory/theory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "rfx/util/error.h"

namespace rfx::theory {

const char* OpName(Op op) {
  switch (op) {
    case Op::kInput:
      return "input";
    case Op::kConv:
      return "conv";
    case Op::kMaxPool:
      return "maxpool";
    case Op::kAvgPool:
      return "avgpool";
    case Op::kUpsample:
      return "upsample";
    case Op::kAdd:
      return "add";
  }
  return "?";
}

Graph::Graph() {
  Layer in;
  in.name = "input";
  in.op = Op::kInput;
  layers_.push_back(in);
}

int Graph::Push(Layer layer) {
  const int index = static_cast<int>(layers_.size());
  if (layer.inputs.empty()) layer.inputs.push_back(last());
  for (int& i : layer.inputs) {
    if (i < 0) i = last();
    if (i >= index) {
      throw UsageError("layer '" + layer.name + "' reads node " + std::to_string(i) +
                       ", which is not an earlier node");
    }
  }
  const bool windowed =
      layer.op == Op::kConv || layer.op == Op::kMaxPool || layer.op == Op::kAvgPool;
  if (windowed && (layer.k < 1 || layer.s < 1 || layer.d < 1 || layer.p < 0)) {
    throw UsageError("layer '" + layer.name + "': k, s, d must be >= 1 and p >= 0 (got k" +
                     std::to_string(layer.k) + " s" + std::to_string(layer.s) + " p" +
                     std::to_string(layer.p) + " d" + std::to_string(layer.d) + ")");
  }
  if (layer.op == Op::kUpsample && layer.size_of < 0 && !(layer.factor > 0)) {
    throw UsageError("layer '" + layer.name + "': upsample factor must be > 0");
  }
  if (layer.op == Op::kAdd && layer.inputs.size() < 2) {
    throw UsageError("layer '" + layer.name + "': a merge needs at least two inputs");
  }
  layers_.push_back(std::move(layer));
  return index;
}

int Graph::Conv(const std::string& name, int k, int s, int p, int d, int from) {
  Layer l;
  l.name = name;
  l.op = Op::kConv;
  l.k = k, l.s = s, l.p = p, l.d = d;
  l.inputs = {from};
  return Push(l);
}

namespace {

Layer PoolLayer(Op op, const std::string& name, int k, int s, int p, bool ceil_mode, int from) {
  Layer l;
  l.name = name;
  l.op = op;
  l.k = k, l.s = s, l.p = p, l.ceil_mode = ceil_mode;
  l.inputs = {from};
  return l;
}

}  // namespace

int Graph::MaxPool(const std::string& name, int k, int s, int p, bool ceil_mode, int from) {
  return Push(PoolLayer(Op::kMaxPool, name, k, s, p, ceil_mode, from));
}

int Graph::AvgPool(const std::string& name, int k, int s, int p, bool ceil_mode, int from) {
  return Push(PoolLayer(Op::kAvgPool, name, k, s, p, ceil_mode, from));
}

int Graph::Upsample(const std::string& name, double factor, bool bilinear, int from) {
  Layer l;
  l.name = name;
  l.op = Op::kUpsample;
  l.factor = factor;
  l.bilinear = bilinear;
  l.inputs = {from};
  return Push(l);
}

int Graph::UpsampleTo(const std::string& name, int size_of, bool bilinear, int from) {
  Layer l;
  l.name = name;
  l.op = Op::kUpsample;
  l.size_of = size_of;
  l.bilinear = bilinear;
  l.inputs = {from};
  return Push(l);
}

int Graph::Add(const std::string& name, const std::vector<int>& inputs) {
  Layer l;
  l.name = name;
  l.op = Op::kAdd;
  l.inputs = inputs;
  return Push(l);
}

namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool Same(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a)); }

std::string Params(const Layer& l) {
  std::string s;
  switch (l.op) {
    case Op::kConv:
    case Op::kMaxPool:
    case Op::kAvgPool:
      s = "k" + std::to_string(l.k) + " s" + std::to_string(l.s) + " p" + std::to_string(l.p);
      if (l.d != 1) s += " d" + std::to_string(l.d);
      if (l.ceil_mode) s += " ceil";
      return s;
    case Op::kUpsample:
      s = l.size_of >= 0 ? "to size of node " + std::to_string(l.size_of) : "x" + Num(l.factor);
      return s + (l.bilinear ? " bilinear" : " nearest");
    default:
      return "";
  }
}

}  // namespace

Table Analyze(const Graph& graph, int64_t input, const std::string& net_name) {
  if (input < 1) throw UsageError("--input must be >= 1 (got " + std::to_string(input) + ")");
  Table t;
  t.net = net_name;
  t.input = input;
  const auto& layers = graph.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    Row row;
    row.name = l.name;
    row.op = l.op;
    row.params = Params(l);
    row.inputs = l.inputs;
    if (l.op == Op::kInput) {
      row.n = input;
      t.rows.push_back(row);
      continue;
    }
    const Row& in = t.rows[l.inputs[0]];
    switch (l.op) {
      case Op::kConv:
      case Op::kMaxPool:
      case Op::kAvgPool: {
        const int64_t span = static_cast<int64_t>(l.d) * (l.k - 1);  // effective kernel − 1
        const int64_t room = in.n + 2 * l.p - span - 1;
        if (in.n <= 0 || room < 0) {
          row.n = 0;
          row.note = in.n <= 0
                         ? "empty input"
                         : "input too small: needs n >= " + std::to_string(span + 1 - 2 * l.p);
        } else if (l.ceil_mode) {
          row.n = (room + l.s - 1) / l.s + 1;
          // PyTorch: the last window must start inside the input or the left padding.
          if ((row.n - 1) * l.s >= in.n + l.p) --row.n;
        } else {
          row.n = room / l.s + 1;
        }
        row.r = in.r + static_cast<double>(span) * in.j;
        row.r_min = in.r_min + static_cast<double>(span) * in.j;
        row.j = in.j * l.s;
        row.start = in.start + (static_cast<double>(span) / 2.0 - l.p) * in.j;
        break;
      }
      case Op::kUpsample: {
        row.n = l.size_of >= 0 ? t.rows.at(l.size_of).n
                               : static_cast<int64_t>(std::floor(in.n * l.factor + 1e-9));
        const double ratio = row.n > 0 ? static_cast<double>(in.n) / row.n : 1.0 / l.factor;
        row.j = in.j * ratio;
        // Output unit i samples input position (i + 0.5)·ratio − 0.5 (align_corners = false).
        row.start = in.start + (0.5 * ratio - 0.5) * in.j;
        row.r = in.r + (l.bilinear ? in.j : 0.0);
        row.r_min = in.r_min + (l.bilinear ? in.j : 0.0);
        if (row.n <= 0) row.note = "empty output";
        break;
      }
      case Op::kAdd: {
        row.n = in.n;
        row.r = in.r;
        row.r_min = in.r_min;
        row.j = in.j;
        row.start = in.start;
        std::vector<std::string> problems;
        for (size_t b = 1; b < l.inputs.size(); ++b) {
          const Row& other = t.rows[l.inputs[b]];
          row.r = std::max(row.r, other.r);
          row.r_min = std::min(row.r_min, other.r_min);
          const std::string pair = "'" + in.name + "' vs '" + other.name + "'";
          if (!Same(other.j, in.j)) {
            problems.push_back("jumps " + Num(in.j) + " vs " + Num(other.j) + " (" + pair + ")");
          }
          if (!Same(other.start, in.start)) {
            problems.push_back("centres " + Num(in.start) + " vs " + Num(other.start) + " (" +
                               pair + ")");
          }
          if (other.n != in.n) {
            problems.push_back("sizes " + std::to_string(in.n) + " vs " + std::to_string(other.n) +
                               " (" + pair + ")");
          }
        }
        if (!problems.empty()) {
          std::string msg = "misaligned merge:";
          for (size_t k = 0; k < problems.size(); ++k) msg += (k ? "; " : " ") + problems[k];
          row.note = msg;
        }
        break;
      }
      case Op::kInput:
        break;
    }
    if (!row.note.empty()) t.warnings.push_back("'" + row.name + "': " + row.note);
    row.unproductive = row.r_min > static_cast<double>(input);
    if (row.unproductive && t.border < 0) {
      t.border = static_cast<int>(i);
      row.border = true;
    }
    t.rows.push_back(row);
  }
  return t;
}

void TheoryOptions::validate() const {
  if (input < 1) {
    throw UsageError("--input must be an integer >= 1 (the side of the N×N input), got " +
                     std::to_string(input));
  }
  if (format != "table" && format != "json" && format != "dot") {
    throw UsageError("--format '" + format + "' is not known; allowed: table, json, dot");
  }
  if (!net.empty()) {
    const auto names = NetNames();
    if (std::find(names.begin(), names.end(), net) == names.end()) {
      std::string allowed;
      for (size_t i = 0; i < names.size(); ++i) allowed += (i ? ", " : "") + names[i];
      throw UsageError("--net '" + net + "' is not known; allowed: " + allowed);
    }
  }
}

namespace {

nlohmann::json Number(double v) {
  if (std::abs(v - std::round(v)) < 1e-9 && std::abs(v) < 9e15) {
    return static_cast<int64_t>(std::llround(v));
  }
  return v;
}

std::string Flags(const Row& r) {
  std::string f;
  if (r.border) f += "BORDER ";
  if (r.unproductive) f += "unproductive ";
  if (!r.note.empty()) f += r.note;
  while (!f.empty() && f.back() == ' ') f.pop_back();
  return f;
}

}  // namespace

std::string FormatTable(const Table& t) {
  std::ostringstream o;
  o << "net " << (t.net.empty() ? "(layers)" : t.net) << ", input " << t.input << "x" << t.input
    << ": RF " << Num(t.rf()) << " px, stride " << Num(t.stride()) << ", output " << t.rows.back().n
    << "x" << t.rows.back().n << "\n";
  size_t wname = 5, wparams = 6;
  for (const Row& r : t.rows) {
    wname = std::max(wname, r.name.size());
    wparams = std::max(wparams, r.params.size());
  }
  char buf[1024];
  std::snprintf(buf, sizeof buf, "%4s  %-*s  %-8s  %-*s  %6s  %8s  %8s  %8s  %8s\n", "#",
                static_cast<int>(wname), "layer", "op", static_cast<int>(wparams), "params", "n",
                "r", "r_min", "j", "start");
  o << buf;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const Row& r = t.rows[i];
    std::snprintf(buf, sizeof buf, "%4zu  %-*s  %-8s  %-*s  %6lld  %8s  %8s  %8s  %8s  ", i,
                  static_cast<int>(wname), r.name.c_str(), OpName(r.op), static_cast<int>(wparams),
                  r.params.c_str(), static_cast<long long>(r.n), Num(r.r).c_str(),
                  Num(r.r_min).c_str(), Num(r.j).c_str(), Num(r.start).c_str());
    o << buf << Flags(r) << "\n";
  }
  if (t.border >= 0) {
    o << "border layer: '" << t.rows[t.border].name << "' (from here on the smallest RF exceeds "
      << t.input << " px)\n";
  }
  for (const auto& w : t.warnings) o << "warning: " << w << "\n";
  return o.str();
}

nlohmann::json ToJson(const Table& t) {
  nlohmann::json j;
  j["net"] = t.net;
  j["input"] = t.input;
  j["rf"] = static_cast<int64_t>(std::llround(t.rf()));
  j["stride"] = static_cast<int64_t>(std::llround(t.stride()));
  j["output"] = t.rows.back().n;
  j["border"] = t.border >= 0 ? nlohmann::json(t.rows[t.border].name) : nlohmann::json(nullptr);
  j["warnings"] = t.warnings;
  nlohmann::json layers = nlohmann::json::array();
  for (const Row& r : t.rows) {
    nlohmann::json l;
    l["name"] = r.name;
    l["op"] = OpName(r.op);
    l["params"] = r.params;
    l["inputs"] = r.inputs;
    l["n"] = r.n;
    l["r"] = Number(r.r);
    l["r_min"] = Number(r.r_min);
    l["j"] = Number(r.j);
    l["start"] = Number(r.start);
    l["unproductive"] = r.unproductive;
    if (!r.note.empty()) l["note"] = r.note;
    layers.push_back(l);
  }
  j["layers"] = layers;
  return j;
}

std::string FormatDot(const Table& t) {
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return q + "\"";
  };
  std::ostringstream o;
  o << "digraph rfx {\n";
  o << "  label="
    << quote("net " + (t.net.empty() ? std::string("(layers)") : t.net) + ", input " +
             std::to_string(t.input) + ": RF " + Num(t.rf()) + ", stride " + Num(t.stride()) +
             "; red = unproductive (smallest RF > input)")
    << ";\n";
  o << "  rankdir=TB;\n  node [shape=box, style=filled, fillcolor=white, fontname=Helvetica];\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const Row& r = t.rows[i];
    std::string label = r.name + "\\n" + OpName(r.op);
    if (!r.params.empty()) label += " " + r.params;
    label += "\\nn=" + std::to_string(r.n) + " r=" + Num(r.r);
    if (!Same(r.r_min, r.r)) label += " r_min=" + Num(r.r_min);
    label += " j=" + Num(r.j);
    if (r.border) label += "\\nBORDER LAYER";
    if (!r.note.empty()) label += "\\n" + r.note;
    std::string attrs = "label=\"" + label + "\"";
    if (r.unproductive)
      attrs += ", fillcolor=\"#ff8080\"";
    else if (!r.note.empty())
      attrs += ", fillcolor=\"#ffe080\"";
    if (r.border) attrs += ", penwidth=3, color=\"#b00000\", shape=doubleoctagon";
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
  std::string name = options.net;
  Graph g;
  if (name.empty()) {
    const YAML::Node layers = config.Get("theory.layers");
    if (layers.IsSequence() && layers.size() > 0) {
      g = FromLayerList(layers, config);
      name = "layers";
    } else {
      name = config.GetString("net.arch");
      g = BuildNet(name, config);
    }
  } else {
    g = BuildNet(name, config);
  }
  const Table t = Analyze(g, options.input, name);
  if (options.format == "json") return ToJson(t).dump(2) + "\n";
  if (options.format == "dot") return FormatDot(t);
  return FormatTable(t);
}

}  // namespace rfx::theory
