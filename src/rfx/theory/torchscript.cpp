// rfx theory --model: the walk over the inlined forward graph and the spatial ops
// (convolutions, pools, adaptive pools, upsampling); merges and channel plumbing are in
// torchscript_walker.cpp.
#include "rfx/theory/torchscript.h"

#include <torch/script.h>

#include "rfx/theory/torchscript_walker.h"
#include "rfx/util/error.h"
#include "rfx/util/run_paths.h"

namespace rfx::theory {
namespace ts {
namespace {

const char* kSupported =
    "supported: convolutions (incl. transposed and dilated), max/avg pools, adaptive pools, "
    "upsample nearest/bilinear, add/mul merges, cat on channels, flatten/view/linear/mean, "
    "element-wise activations, batch norm, dropout, scalar arithmetic, channel slices/chunks, "
    "and channels-last blocks (permute, layer_norm, linear, permute back)";

}  // namespace

void Walker::Visit(Node* node) {
  const std::string kind = node->kind().toQualString();
  const OpClass cls = ts::Classify(kind);
  if (kind == "aten::size" && node->inputs().size() == 2 && field_.count(node->input(0))) {
    sizes_[node->output()] = {FieldOf(node->input(0)), r_.Int(node, 1, "the dim")};
    return;
  }
  if ((kind == "prim::NumToTensor" || kind == "aten::Int" || kind == "aten::ScalarImplicit") &&
      sizes_.count(node->input(0))) {
    sizes_[node->output()] = sizes_.at(node->input(0));
    return;
  }
  if (!UsesField(node) || cls == OpClass::kShapeOnly) return;
  if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
    std::vector<int> items;
    for (Value* v : node->inputs()) {
      if (!field_.count(v)) r_.Fail(node, "a list mixing tensors with and without a field");
      items.push_back(FieldOf(v));
    }
    lists_[node->output()] = items;
    return;
  }
  if (kind == "prim::DictConstruct") {  // {"out": x, "aux": y}: the model's outputs
    std::vector<int> items;
    for (size_t i = 1; i < node->inputs().size(); i += 2) {
      if (field_.count(node->input(i))) items.push_back(FieldOf(node->input(i)));
    }
    lists_[node->output()] = items;
    return;
  }
  if ((kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") &&
      uniform_.count(node->input(0))) {  // the pieces of a channel chunk / split
    for (Value* out : node->outputs()) field_[out] = uniform_.at(node->input(0));
    return;
  }
  if ((kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") && lists_.count(node->input(0))) {
    const auto& items = lists_.at(node->input(0));
    for (size_t i = 0; i < node->outputs().size() && i < items.size(); ++i) {
      field_[node->output(i)] = items[i];
    }
    return;
  }
  if (ChannelsLast(node, kind, cls)) return;
  if (kind == "aten::_convolution" || kind == "aten::convolution" || kind == "aten::conv2d" ||
      kind == "aten::conv_transpose2d") {
    return Conv(node, kind);
  }
  if (kind == "aten::max_pool2d" || kind == "aten::max_pool2d_with_indices" ||
      kind == "aten::avg_pool2d") {
    return Pool(node, kind);
  }
  if (kind == "aten::adaptive_avg_pool2d" || kind == "aten::adaptive_max_pool2d") {
    return AdaptivePool(node, kind);
  }
  if (kind == "aten::upsample_nearest2d" || kind == "aten::upsample_bilinear2d") {
    return Upsample(node, kind);
  }
  if (kind == "aten::cat") return Cat(node);
  if (ChannelOp(node, kind)) return;
  const bool reduction = kind == "aten::mean" || kind == "aten::sum" || kind == "aten::amax";
  if (reduction && !ReducesSpace(node)) return Bind(node, FieldOf(node->input(0)));
  if (cls == OpClass::kGlobal) {
    if (!field_.count(node->input(0))) r_.Fail(node, "the field is not its first operand");
    std::string op = kind.substr(6);
    return Bind(node, g_.Global(Name(node, op), FieldOf(node->input(0))));
  }
  if (cls == OpClass::kElementwise || cls == OpClass::kMerge) {
    std::vector<int> fields;
    for (Value* v : node->inputs()) {
      if (field_.count(v)) fields.push_back(FieldOf(v));
    }
    if (fields.size() == 1) return Bind(node, fields[0]);
    if (fields.size() == 2 && cls == OpClass::kMerge) {
      std::string op = kind.substr(6);
      if (op.back() == '_') op.pop_back();
      return Bind(node, g_.Add(Name(node, op), fields));
    }
  }
  if (kind == "prim::If" || kind == "prim::Loop") {
    r_.Fail(node,
            "control flow on the image tensor: rfx theory reads straight-line graphs "
            "(torch.jit.trace the model, or script it without branches on tensors)");
  }
  r_.Fail(node, "rfx theory cannot reason about this op's receptive field (" +
                    std::string(kSupported) + ")");
}

// mean / sum / amax over H or W (or over everything) sees everything; over channels it is
// element-wise in space.
bool Walker::ReducesSpace(Node* node) const {
  if (node->inputs().size() < 2) return true;
  const auto dims = torch::jit::toIValue(node->input(1));
  if (!dims || !dims->isIntList()) return true;
  for (int64_t d : dims->toIntVector()) {
    if (d == 2 || d == 3 || d == -1 || d == -2) return true;
  }
  return false;
}

void Walker::Conv(Node* node, const std::string& kind) {
  auto weight = Resolve(node->input(1));
  if (!weight || !weight->isTensor()) {
    r_.Fail(node, "the weight is not a parameter or constant of the module");
  }
  const auto shape = weight->toTensor().sizes();
  if (shape.size() != 4) {
    r_.Fail(node, std::to_string(static_cast<int64_t>(shape.size()) - 2) +
                      "-d convolution; only 2-d ones are read");
  }
  const Axes k(static_cast<int>(shape[2]), static_cast<int>(shape[3]));
  const Axes s = r_.Pair(node, 3, "stride");
  Axes p, d, op = 0;
  bool transposed = kind == "aten::conv_transpose2d";
  if (kind == "aten::conv2d") {
    d = r_.Pair(node, 5, "dilation");
    auto pad = torch::jit::toIValue(node->input(4));
    if (pad && pad->isString()) {  // padding='same' | 'valid'
      p = 0;
      if (pad->toStringRef() == "same") {
        if ((d.h * (k.h - 1)) % 2 || (d.w * (k.w - 1)) % 2) {
          r_.Fail(node, "padding='same' with an even effective kernel pads one side more");
        }
        p = Axes(d.h * (k.h - 1) / 2, d.w * (k.w - 1) / 2);
      }
    } else {
      p = r_.Pair(node, 4, "padding");
    }
  } else if (transposed) {  // (input, weight, bias, stride, padding, output_padding, groups, d)
    p = r_.Pair(node, 4, "padding");
    op = r_.Pair(node, 5, "output_padding");
    d = r_.Pair(node, 7, "dilation");
  } else {  // (input, weight, bias, stride, padding, dilation, transposed, output_padding, ...)
    p = r_.Pair(node, 4, "padding");
    d = r_.Pair(node, 5, "dilation");
    transposed = r_.Bool(node, 6, "transposed");
    op = r_.Pair(node, 7, "output_padding");
  }
  const int from = FieldOf(node->input(0));
  if (transposed) {
    return Bind(node, g_.ConvTranspose(Name(node, "conv_transpose"), k, s, p, op, d, from));
  }
  Bind(node, g_.Conv(Name(node, "conv"), k, s, p, d, from));
}

void Walker::Pool(Node* node, const std::string& kind) {
  const bool max = kind != "aten::avg_pool2d";
  Layer l;
  l.op = max ? Op::kMaxPool : Op::kAvgPool;
  l.k = r_.Pair(node, 1, "kernel_size");
  l.s = r_.Pair(node, 2, "stride");
  if (l.s == Axes(0, 0)) l.s = l.k;  // stride=[]: the kernel
  l.p = r_.Pair(node, 3, "padding");
  l.d = max ? r_.Pair(node, 4, "dilation") : Axes(1);
  l.ceil_mode = r_.Bool(node, max ? 5 : 4, "ceil_mode");
  l.name = Name(node, max ? "maxpool" : "avgpool");
  l.inputs = {FieldOf(node->input(0))};
  Bind(node, g_.Push(l));
}

void Walker::AdaptivePool(Node* node, const std::string& kind) {
  const Axes out = r_.Pair(node, 1, "output_size");
  const int from = FieldOf(node->input(0));
  const std::string name = Name(node, "adaptive_pool");
  if (out == Axes(1)) return Bind(node, g_.Global(name, from));
  if (kind == "aten::adaptive_max_pool2d") {
    // Max and average adaptive pools have the same windows.
    const Axes n = SizeAt(from);
    if (n.h % out.h || n.w % out.w) {
      r_.Fail(node, "adaptive max pool to " + AxesText(out) + " from " + AxesText(n) +
                        " (not a divisor: uneven windows)");
    }
    return Bind(node, g_.MaxPool(name, Axes(n.h / out.h, n.w / out.w),
                                 Axes(n.h / out.h, n.w / out.w), 0, false, from));
  }
  Bind(node, g_.AdaptiveAvgPool(name, out, from));
}

void Walker::Upsample(Node* node, const std::string& kind) {
  const bool bilinear = kind == "aten::upsample_bilinear2d";
  const size_t n_in = node->inputs().size();
  const bool vec = n_in == (bilinear ? 4u : 3u);  // .vec: (input, size?, [align,] scales?)
  if (bilinear && r_.Bool(node, 2, "align_corners")) {
    r_.Fail(node, "align_corners=True is not modelled (the theory samples at pixel centres)");
  }
  const int from = FieldOf(node->input(0));
  const std::string name = Name(node, "upsample");
  if (!r_.IsNone(node, 1)) {
    const Node* list = node->input(1)->node();
    if (list->kind() == c10::prim::ListConstruct && list->inputs().size() == 2 &&
        sizes_.count(list->input(0)) && sizes_.count(list->input(1))) {
      // interpolate(x, size=y.shape[-2:]): the size of another tensor, at any input size.
      const SizeRef h = sizes_.at(list->input(0)), w = sizes_.at(list->input(1));
      if (h.node != w.node || (h.dim != 2 && h.dim != -2) || (w.dim != 3 && w.dim != -1)) {
        r_.Fail(node, "the output size is not the (H, W) of one tensor");
      }
      return Bind(node, g_.UpsampleTo(name, h.node, bilinear, from));
    }
    // A constant size: the factor at this input size.
    const Axes out = r_.Pair(node, 1, "output_size"), n = SizeAt(from);
    const double fh = static_cast<double>(out.h) / n.h, fw = static_cast<double>(out.w) / n.w;
    if (fh != fw) {
      r_.Fail(node, "output size " + AxesText(out) + " from " + AxesText(n) +
                        ": different factors per axis are not modelled");
    }
    return Bind(node, g_.Upsample(name, fh, bilinear, from));
  }
  if (!vec) r_.Fail(node, "neither an output size nor scale factors");
  const auto f = r_.Doubles(node, n_in - 1, "the scale factors");
  if (f[0] != f[1]) r_.Fail(node, "different scale factors per axis are not modelled");
  Bind(node, g_.Upsample(name, f[0], bilinear, from));
}

}  // namespace ts

Graph FromTorchScript(const std::string& path, Axes input) {
  if (input.h < 1 || input.w < 1) {
    throw UsageError("--input must have sides >= 1 (got " + AxesText(input) + ")");
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.size() > 300) what = what.substr(0, 300) + "...";
    throw UsageError("--model " + path +
                     ": cannot load it as a TorchScript file (torch.jit.save of a traced or "
                     "scripted module): " +
                     what);
  }
  if (!module.find_method("forward")) {
    throw UsageError(NotTorchScriptMessage(path, "--config DIR/config.yaml"));
  }
  module.eval();
  return ts::Walker(path, module, input).Run();
}

}  // namespace rfx::theory
