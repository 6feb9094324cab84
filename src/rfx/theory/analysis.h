// Analytic receptive fields of a layer graph (docs/design.md#analytic-receptive-fields), per axis
// (height, width).
//
// Per axis, a unit of a layer has an output side n, a receptive field r (largest over paths),
// r_min (smallest over paths), a jump j (input px between adjacent units) and start (the input
// coordinate of the centre of unit 0). The input is n = side, r = r_min = 1, j = 1, start = 0.5
// (pixel i spans [i, i+1)). With D = d(k−1) (the effective kernel minus one):
//
// conv, max/avg pool   n' = floor((n + 2p − D − 1)/s) + 1   (ceil_mode: ceil, and the last
//                      window must start inside the input or the left padding, as PyTorch)
//                      r' = r + D·j,  j' = j·s,  start' = start + (D/2 − p)·j
// transposed conv      n' = (n − 1)s − 2p + D + output_padding + 1,  j' = j/s
//                      Output unit o is fed by the input units i with i·s − p + m·d = o for
//                      taps m in [0, k). With g = gcd(s, d) these i are spaced d/g apart and
//                      there are at most c = ceil(k·g/s) of them (taps in one residue class
//                      mod s/g), so exactly  r' = r + (c − 1)·(d/g)·j   (the largest over o;
//                      the usual (k−1)d/s·j is only an approximation: k4 s2 gives +1·j, not
//                      +1.5·j, and k2 s2 gives +0, not +0.5·j). r_min grows by the same
//                      amount (outputs fed by only floor(k·g/s) taps see one tap less).
//                      Unit o's centre is where the continuous window of i lies centred,
//                      u = (o + p − D/2)/s input units, so start' = start + (p − D/2)/s · j
//                      (for the bilinear kernel k4 s2 p1 this is the weighted centre exactly).
// adaptive avg pool    bin i covers [floor(i·n/S), ceil((i+1)·n/S)); kernel K = the widest
//                      bin, n' = S, j' = j·n/S, r' = r + (K − 1)·j, start' = start + the centre
//                      of bin 0 = start + (ceil(n/S) − 1)/2 · j. Exact when n % S == 0; else
//                      r' is the widest bin's and j' the mean bin spacing. size 1×1 is a
//                      global pooling (below).
// upsample             n' = floor(n·factor) (or the size of node size_of), j' = j·n/n',
//                      start' = start + (0.5·n/n' − 0.5)·j (align_corners = false);
//                      nearest keeps r, bilinear adds j (it reads two neighbours).
// add, concat          n, j, start of the first input; r = max over inputs, r_min = min;
//                      a warning when the inputs' n, j or start disagree (misaligned merge).
// global               flatten / linear / global pooling: n' = 1, the unit "sees everything":
//                      r = r_min = the input side, j = the input side, start = the centre of
//                      the input. Every row after it (or a merge of only such rows) sees
//                      everything too, and such rows are never unproductive.
//
// A layer is unproductive at an input size when its smallest RF exceeds the input on both
// axes (no unit sees anything new; RFA-toolbox's notion, which also asks r_min >= N of the
// layer's inputs; rfx keeps its own r_min > N). Exceeding one axis only is not unproductive:
// the layer still integrates new context along the other. The border layer is the first one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rfx/theory/graph.h"

namespace rfx::theory {

// One axis of one row.
struct AxisState {
  int64_t n = 0;       // output side (0 = the input was too small for this layer)
  double r = 1;        // receptive field (largest path)
  double r_min = 1;    // smallest receptive field over paths (equals r on a chain)
  double j = 1;        // jump (input px between adjacent units)
  double start = 0.5;  // input coordinate of the centre of unit 0
  bool operator==(const AxisState& o) const;
};

// One row of the table: the state after a node.
struct Row {
  std::string name;
  Op op = Op::kConv;
  std::string params;  // "k3 s1 p1", "k3x5 s1 p1x2 d2", "x8 bilinear", "" ...
  std::vector<int> inputs;
  AxisState h, w;                // height and width axes
  bool sees_everything = false;  // a global layer or after one: the whole input
  bool unproductive = false;     // r_min > input side on both axes: nothing new to see
  bool border = false;           // the first unproductive layer
  std::string note;              // misaligned merge, empty output, ...
  const AxisState& axis(int a) const { return a == 0 ? h : w; }
  bool square() const { return h == w; }
};

struct Table {
  std::string net;
  Axes input;             // input side (height, width)
  std::vector<Row> rows;  // rows[0] is the input
  std::vector<std::string> warnings;
  int border = -1;  // index of the border row, -1 if none
  // The output node's (last row's) values on an axis (0 = height, 1 = width).
  double rf(int axis = 0) const { return rows.back().axis(axis).r; }
  double stride(int axis = 0) const { return rows.back().axis(axis).j; }
  // Every row has a non-empty output (n >= 1 on both axes).
  bool valid() const;
};

// The per-layer table of `graph` for an input of input.h × input.w (throws UsageError for a
// side < 1).
Table Analyze(const Graph& graph, Axes input, const std::string& net_name = "");

// The square input sides over which the net is usable (RFA-toolbox's input_resolution_range):
// `min` is the smallest side N at which every layer has a non-empty output and no layer is
// unproductive (every r_min <= N); `max` is the largest RF of any layer (rows that see
// everything excluded) at N = min: beyond it no unit sees the whole input. found = false
// when no N up to `limit` qualifies. The search (doubling, then bisection: ~40 analyses)
// assumes that a usable N stays usable when N grows, true of fixed-kernel nets; adaptive
// pools and upsampling to a node's size can break it.
struct ResolutionRange {
  bool found = false;
  int64_t min = 0;
  int64_t max = 0;
};
ResolutionRange FindResolutionRange(const Graph& graph, int64_t limit = 1 << 20);

}  // namespace rfx::theory
