// Graph builders and their validation.
#include "rfx/theory/graph.h"

#include <string>

#include "rfx/util/error.h"

namespace rfx::theory {

std::string AxesText(const Axes& a) {
  return a.square() ? std::to_string(a.h) : std::to_string(a.h) + "x" + std::to_string(a.w);
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kInput:
      return "input";
    case Op::kConv:
      return "conv";
    case Op::kConvTranspose:
      return "conv_transpose";
    case Op::kMaxPool:
      return "maxpool";
    case Op::kAvgPool:
      return "avgpool";
    case Op::kAdaptiveAvgPool:
      return "adaptive_avgpool";
    case Op::kUpsample:
      return "upsample";
    case Op::kAdd:
      return "add";
    case Op::kConcat:
      return "concat";
    case Op::kGlobal:
      return "global";
  }
  return "?";
}

namespace {

bool Windowed(Op op) {
  return op == Op::kConv || op == Op::kConvTranspose || op == Op::kMaxPool || op == Op::kAvgPool;
}

bool Merge(Op op) { return op == Op::kAdd || op == Op::kConcat; }

void Check(bool ok, const Layer& l, const std::string& what) {
  if (!ok) throw UsageError("layer '" + l.name + "' (" + OpName(l.op) + "): " + what);
}

}  // namespace

Graph::Graph() {
  Layer in;
  in.name = "input";
  in.op = Op::kInput;
  layers_.push_back(in);
}

int Graph::Push(Layer l) {
  const int index = static_cast<int>(layers_.size());
  Check(l.op != Op::kInput, l, "only node 0 is the input");
  if (l.inputs.empty()) l.inputs.push_back(last());
  for (int& i : l.inputs) {
    if (i < 0) i = last();
    Check(i < index, l, "reads node " + std::to_string(i) + ", which is not an earlier node");
  }
  if (Merge(l.op)) {
    Check(l.inputs.size() >= 2, l, "a merge needs at least two inputs");
  } else {
    Check(l.inputs.size() == 1, l, "reads exactly one node");
  }
  if (Windowed(l.op)) {
    for (int a = 0; a < 2; ++a) {
      Check(l.k[a] >= 1 && l.s[a] >= 1 && l.d[a] >= 1 && l.p[a] >= 0, l,
            "k, s, d must be >= 1 and p >= 0 (got k" + AxesText(l.k) + " s" + AxesText(l.s) + " p" +
                AxesText(l.p) + " d" + AxesText(l.d) + ")");
    }
  }
  if (l.op == Op::kConvTranspose) {
    for (int a = 0; a < 2; ++a) {
      Check(l.output_padding[a] >= 0 &&
                (l.output_padding[a] < l.s[a] || l.output_padding[a] < l.d[a]),
            l,
            "output_padding must be >= 0 and smaller than the stride or the dilation (got " +
                AxesText(l.output_padding) + ")");
    }
  }
  if (l.op == Op::kAdaptiveAvgPool) {
    Check(l.size.h >= 1 && l.size.w >= 1, l,
          "output size must be >= 1 (got " + AxesText(l.size) + ")");
  }
  if (l.op == Op::kUpsample) {
    if (l.size_of >= 0) {
      Check(
          l.size_of < index, l,
          "takes the size of node " + std::to_string(l.size_of) + ", which is not an earlier node");
    } else {
      Check(l.factor > 0, l, "factor must be > 0");
    }
  }
  layers_.push_back(std::move(l));
  return index;
}

namespace {

Layer Node(Op op, const std::string& name, int from) {
  Layer l;
  l.name = name;
  l.op = op;
  l.inputs = {from};
  return l;
}

}  // namespace

int Graph::Conv(const std::string& name, Axes k, Axes s, Axes p, Axes d, int from) {
  Layer l = Node(Op::kConv, name, from);
  l.k = k, l.s = s, l.p = p, l.d = d;
  return Push(l);
}

int Graph::ConvTranspose(const std::string& name, Axes k, Axes s, Axes p, Axes output_padding,
                         Axes d, int from) {
  Layer l = Node(Op::kConvTranspose, name, from);
  l.k = k, l.s = s, l.p = p, l.output_padding = output_padding, l.d = d;
  return Push(l);
}

int Graph::MaxPool(const std::string& name, Axes k, Axes s, Axes p, bool ceil_mode, int from) {
  Layer l = Node(Op::kMaxPool, name, from);
  l.k = k, l.s = s, l.p = p, l.ceil_mode = ceil_mode;
  return Push(l);
}

int Graph::AvgPool(const std::string& name, Axes k, Axes s, Axes p, bool ceil_mode, int from) {
  Layer l = Node(Op::kAvgPool, name, from);
  l.k = k, l.s = s, l.p = p, l.ceil_mode = ceil_mode;
  return Push(l);
}

int Graph::AdaptiveAvgPool(const std::string& name, Axes size, int from) {
  Layer l = Node(Op::kAdaptiveAvgPool, name, from);
  l.size = size;
  return Push(l);
}

int Graph::Upsample(const std::string& name, double factor, bool bilinear, int from) {
  Layer l = Node(Op::kUpsample, name, from);
  l.factor = factor;
  l.bilinear = bilinear;
  return Push(l);
}

int Graph::UpsampleTo(const std::string& name, int size_of, bool bilinear, int from) {
  Layer l = Node(Op::kUpsample, name, from);
  l.size_of = size_of;
  l.bilinear = bilinear;
  return Push(l);
}

int Graph::Add(const std::string& name, const std::vector<int>& inputs) {
  Layer l = Node(Op::kAdd, name, -1);
  l.inputs = inputs;
  return Push(l);
}

int Graph::Concat(const std::string& name, const std::vector<int>& inputs) {
  Layer l = Node(Op::kConcat, name, -1);
  l.inputs = inputs;
  return Push(l);
}

int Graph::Global(const std::string& name, int from) { return Push(Node(Op::kGlobal, name, from)); }

}  // namespace rfx::theory
