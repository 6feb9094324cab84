// Analyze: the per-axis recurrences of analysis.h over a layer graph.
#include "rfx/theory/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::theory {

bool AxisState::operator==(const AxisState& o) const {
  return n == o.n && r == o.r && r_min == o.r_min && j == o.j && start == o.start;
}

bool Table::valid() const {
  return std::all_of(rows.begin(), rows.end(),
                     [](const Row& r) { return r.h.n >= 1 && r.w.n >= 1; });
}

namespace {

bool Same(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a)); }

std::string Params(const Layer& l) {
  std::string s;
  switch (l.op) {
    case Op::kConv:
    case Op::kConvTranspose:
    case Op::kMaxPool:
    case Op::kAvgPool:
      s = "k" + AxesText(l.k) + " s" + AxesText(l.s) + " p" + AxesText(l.p);
      if (l.d != Axes(1)) s += " d" + AxesText(l.d);
      if (l.output_padding != Axes(0)) s += " op" + AxesText(l.output_padding);
      if (l.ceil_mode) s += " ceil";
      return s;
    case Op::kAdaptiveAvgPool:
      return "size " + AxesText(l.size);
    case Op::kUpsample:
      s = l.size_of >= 0 ? "to size of node " + std::to_string(l.size_of)
                         : "x" + FormatNumber(l.factor);
      return s + (l.bilinear ? " bilinear" : " nearest");
    default:
      return "";
  }
}

// The most units an axis may have: sizes are followed exactly in 64-bit integers, and 2^46 leaves
// room for a stride or bin count (<= 2^16) times a size. Six 4096x upsamples of 10^6 made
// -9223372036854775808 units and "empty output", exit 0.
constexpr int64_t kMaxUnits = int64_t{1} << 46;

const char* AxisName(int a) { return a == 0 ? "height" : "width"; }

// `n` units on axis `a` of layer `l`'s output, refused (UsageError) beyond kMaxUnits.
int64_t Units(const Layer& l, int a, long double n) {
  if (n > static_cast<long double>(kMaxUnits)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4Lg", n);
    throw UsageError("layer '" + l.name + "' makes the " + AxisName(a) + " " + buf +
                     " units, more than rfx follows (2^46 = " + std::to_string(kMaxUnits) +
                     "); give a smaller --input, or smaller factors and strides");
  }
  return static_cast<int64_t>(n);
}

// Conv and max/avg pool on one axis.
AxisState Window(const Layer& l, int a, const AxisState& in, std::string* note) {
  const int64_t k = l.k[a], s = l.s[a], p = l.p[a], d = l.d[a];
  const int64_t span = d * (k - 1);  // effective kernel − 1
  const int64_t room = Units(l, a, static_cast<long double>(in.n) + 2.0L * p) - span - 1;
  AxisState out;
  if (in.n <= 0) {
    out.n = 0;
    *note = "empty input";
  } else if (room < 0) {
    out.n = 0;
    *note = "input too small: needs n >= " + std::to_string(span + 1 - 2 * p);
  } else if (l.ceil_mode) {
    out.n = (room + s - 1) / s + 1;
    // PyTorch: the last window must start inside the input or the left padding.
    if ((out.n - 1) * s >= in.n + p) --out.n;
  } else {
    out.n = room / s + 1;
  }
  out.r = in.r + static_cast<double>(span) * in.j;
  out.r_min = in.r_min + static_cast<double>(span) * in.j;
  out.j = in.j * static_cast<double>(s);
  out.start = in.start + (static_cast<double>(span) / 2.0 - static_cast<double>(p)) * in.j;
  return out;
}

// Transposed conv on one axis (analysis.h derives the formulas).
AxisState Transposed(const Layer& l, int a, const AxisState& in, std::string* note) {
  const int64_t k = l.k[a], s = l.s[a], p = l.p[a], d = l.d[a], op = l.output_padding[a];
  const int64_t span = d * (k - 1);
  AxisState out;
  out.n = in.n <= 0
              ? 0
              : Units(l, a, static_cast<long double>(in.n - 1) * s - 2.0L * p + span + op + 1);
  if (in.n <= 0) {
    *note = "empty input";
  } else if (out.n <= 0) {
    out.n = 0;
    *note = "empty output: padding " + std::to_string(p) + " removes every unit";
  }
  const int64_t g = std::gcd(s, d);
  const int64_t taps = (k * g + s - 1) / s;  // most input units feeding one output unit
  const double grow = static_cast<double>((taps - 1) * (d / g)) * in.j;
  out.r = in.r + grow;
  out.r_min = in.r_min + grow;
  out.j = in.j / static_cast<double>(s);
  out.start = in.start + (static_cast<double>(p) - static_cast<double>(span) / 2.0) / s * in.j;
  return out;
}

AxisState Adaptive(const Layer& l, int a, const AxisState& in, std::string* note) {
  const int64_t size = l.size[a], n = in.n;
  AxisState out;
  if (n <= 0) {
    out.n = 0;
    *note = "empty input";
    return out;
  }
  int64_t widest = 0;
  for (int64_t i = 0; i < size; ++i) {
    const int64_t begin = i * n / size, end = ((i + 1) * n + size - 1) / size;
    widest = std::max(widest, end - begin);
  }
  const int64_t first = (n + size - 1) / size;  // bin 0 is [0, ceil(n/S))
  out.n = size;
  out.r = in.r + static_cast<double>(widest - 1) * in.j;
  out.r_min = in.r_min + static_cast<double>(widest - 1) * in.j;
  out.j = in.j * static_cast<double>(n) / static_cast<double>(size);
  out.start = in.start + static_cast<double>(first - 1) / 2.0 * in.j;
  return out;
}

AxisState Upsample(const Layer& l, int a, const AxisState& in, const std::vector<Row>& rows,
                   std::string* note) {
  AxisState out;
  out.n = l.size_of >= 0
              ? rows.at(l.size_of).axis(a).n
              : Units(l, a, std::floor(static_cast<long double>(in.n) * l.factor + 1e-9L));
  const double ratio = out.n > 0 ? static_cast<double>(in.n) / out.n : 1.0 / l.factor;
  out.j = in.j * ratio;
  // Output unit i samples input position (i + 0.5)·ratio − 0.5 (align_corners = false).
  out.start = in.start + (0.5 * ratio - 0.5) * in.j;
  out.r = in.r + (l.bilinear ? in.j : 0.0);
  out.r_min = in.r_min + (l.bilinear ? in.j : 0.0);
  if (out.n <= 0) *note = "empty output";
  return out;
}

// The whole input on one axis of side `side`.
AxisState Everything(int64_t n, int side) {
  AxisState out;
  out.n = n;
  out.r = out.r_min = out.j = side;
  out.start = side / 2.0;
  return out;
}

// Merge (add / concat) on one axis: the first input's geometry, r max, r_min min; the ways
// the inputs disagree go to `problems`.
AxisState MergeAxis(const Layer& l, int a, const std::vector<Row>& rows,
                    std::vector<std::string>* problems) {
  const Row& first = rows[l.inputs[0]];
  const AxisState& in = first.axis(a);
  AxisState out = in;
  for (size_t b = 1; b < l.inputs.size(); ++b) {
    const Row& row = rows[l.inputs[b]];
    const AxisState& other = row.axis(a);
    out.r = std::max(out.r, other.r);
    out.r_min = std::min(out.r_min, other.r_min);
    const std::string pair = " ('" + first.name + "' vs '" + row.name + "')";
    if (!Same(other.j, in.j)) {
      problems->push_back("jumps " + FormatNumber(in.j) + " vs " + FormatNumber(other.j) + pair);
    }
    if (!Same(other.start, in.start)) {
      problems->push_back("centres " + FormatNumber(in.start) + " vs " + FormatNumber(other.start) +
                          pair);
    }
    if (other.n != in.n) {
      problems->push_back("sizes " + std::to_string(in.n) + " vs " + std::to_string(other.n) +
                          pair);
    }
  }
  return out;
}

// One note from the two axes' notes: once when they agree, else each with its axis.
std::string Combine(const std::string& h, const std::string& w) {
  if (h == w) return h;
  std::vector<std::string> parts;
  if (!h.empty()) parts.push_back("height: " + h);
  if (!w.empty()) parts.push_back("width: " + w);
  return Join(parts, "; ");
}

}  // namespace

Table Analyze(const Graph& graph, Axes input, const std::string& net_name) {
  if (input.h < 1 || input.w < 1) {
    throw UsageError("the input side must be >= 1 (got " + AxesText(input) + ")");
  }
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
      row.h.n = input.h;
      row.w.n = input.w;
      t.rows.push_back(row);
      continue;
    }
    const Row& in = t.rows[l.inputs[0]];
    std::string note[2];
    AxisState* out[2] = {&row.h, &row.w};
    const bool global = l.op == Op::kGlobal || (l.op == Op::kAdaptiveAvgPool && l.size == Axes(1));
    if (l.op == Op::kAdd || l.op == Op::kConcat) {
      std::vector<std::string> problems[2];
      row.sees_everything = true;
      for (int b : l.inputs) row.sees_everything = row.sees_everything && t.rows[b].sees_everything;
      for (int a = 0; a < 2; ++a) {
        *out[a] = MergeAxis(l, a, t.rows, &problems[a]);
        if (!problems[a].empty()) note[a] = "misaligned merge: " + Join(problems[a], "; ");
      }
    } else {
      row.sees_everything = global || in.sees_everything;
      for (int a = 0; a < 2; ++a) {
        const AxisState& x = in.axis(a);
        switch (l.op) {
          case Op::kConv:
          case Op::kMaxPool:
          case Op::kAvgPool:
            *out[a] = Window(l, a, x, &note[a]);
            break;
          case Op::kConvTranspose:
            *out[a] = Transposed(l, a, x, &note[a]);
            break;
          case Op::kAdaptiveAvgPool:
            *out[a] = Adaptive(l, a, x, &note[a]);
            break;
          case Op::kUpsample:
            *out[a] = Upsample(l, a, x, t.rows, &note[a]);
            break;
          case Op::kGlobal:
            *out[a] = Everything(x.n > 0 ? 1 : 0, input[a]);
            if (x.n <= 0) note[a] = "empty input";
            break;
          default:
            break;
        }
      }
    }
    if (row.sees_everything) {
      for (int a = 0; a < 2; ++a) out[a]->r = out[a]->r_min = input[a];
      if (global) {
        for (int a = 0; a < 2; ++a) *out[a] = Everything(out[a]->n, input[a]);
      }
    }
    row.note = Combine(note[0], note[1]);
    if (!row.note.empty()) t.warnings.push_back("'" + row.name + "': " + row.note);
    row.unproductive = !row.sees_everything && row.h.r_min > input.h && row.w.r_min > input.w;
    if (row.unproductive && t.border < 0) {
      t.border = static_cast<int>(i);
      row.border = true;
    }
    t.rows.push_back(row);
  }
  return t;
}

ResolutionRange FindResolutionRange(const Graph& graph, int64_t limit) {
  auto usable = [&](int64_t side) {
    const Table t = Analyze(graph, static_cast<int>(side));
    return t.valid() && t.border < 0;
  };
  ResolutionRange range;
  int64_t hi = 1;
  while (hi < limit && !usable(hi)) hi = std::min(hi * 2, limit);
  if (!usable(hi)) return range;
  int64_t lo = hi / 2;  // not usable (or 0)
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (usable(mid) ? hi : lo) = mid;
  }
  range.found = true;
  range.min = hi;
  double largest = 0;
  for (const Row& r : Analyze(graph, static_cast<int>(hi)).rows) {
    if (!r.sees_everything) largest = std::max(largest, std::min(r.h.r, r.w.r));
  }
  range.max = static_cast<int64_t>(std::floor(largest + 1e-9));
  return range;
}

}  // namespace rfx::theory
