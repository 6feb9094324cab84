// rfx theory --model, the walker's (torchscript_walker.h) merges and channel plumbing — channel
// concatenation, slices, chunks and splits, reshapes that keep H and W, and channels-last blocks
// (ConvNeXt's permute, layer_norm over channels, linear, permute back).
#include "rfx/theory/torchscript_walker.h"

#include <torch/script.h>

#include "rfx/util/error.h"

namespace rfx::theory::ts {

void Walker::Cat(Node* node) {
  const int64_t dim = r_.Int(node, 1, "dim");
  if (dim != 1 && dim != -3) {
    r_.Fail(node, "cat along dim " + std::to_string(dim) + "; only channels (dim 1) are read");
  }
  if (!lists_.count(node->input(0))) r_.Fail(node, "the concatenated tensors are not a list");
  const std::vector<int> items = lists_.at(node->input(0));
  if (items.size() == 1) return Bind(node, items[0]);
  Bind(node, g_.Concat(Name(node, "cat"), items));
}

// Ops on channels (or the batch) only, which keep every unit's field: slices, chunks and
// splits along dim 0 or 1, and view / reshape to (..., H, W) with H, W the sizes of the
// tensor itself (channel shuffles, group merges). False when the op is not one of them.
bool Walker::ChannelOp(Node* node, const std::string& kind) {
  if (!field_.count(node->input(0))) return false;
  const int from = FieldOf(node->input(0));
  auto off_space = [&](int64_t dim) { return dim == 0 || dim == 1 || dim == -3 || dim == -4; };
  if (kind == "prim::ConstantChunk") {
    if (!off_space(node->i(c10::Symbol::attr("dim")))) return false;
    for (Value* out : node->outputs()) field_[out] = from;
    return true;
  }
  if (kind == "aten::slice" && off_space(r_.Int(node, 1, "dim"))) {
    field_[node->output()] = from;
    return true;
  }
  const bool pieces = kind == "aten::chunk" || kind == "aten::unsafe_chunk" ||
                      kind == "aten::split" || kind == "aten::split_with_sizes" ||
                      kind == "aten::unsafe_split";
  if (pieces && node->outputs().size() == 1 && off_space(r_.Int(node, 2, "dim"))) {
    uniform_[node->output()] = from;
    return true;
  }
  if (kind != "aten::view" && kind != "aten::reshape") return false;
  const Node* shape = node->input(1)->node();
  if (shape->kind() != c10::prim::ListConstruct || shape->inputs().size() < 4) return false;
  const size_t n = shape->inputs().size();
  if (!sizes_.count(shape->input(n - 2)) || !sizes_.count(shape->input(n - 1))) return false;
  const SizeRef h = sizes_.at(shape->input(n - 2)), w = sizes_.at(shape->input(n - 1));
  if (h.node != from || w.node != from || (h.dim != 2 && h.dim != -2) ||
      (w.dim != 3 && w.dim != -1)) {
    return false;
  }
  field_[node->output()] = from;
  return true;
}

bool Walker::ChannelsLast(Node* node, const std::string& kind, OpClass cls) {
  std::vector<int> last, first;  // the operands' fields, channels-last and N×C×H×W
  for (const Value* v : node->inputs()) {
    if (nhwc_.count(v)) last.push_back(nhwc_.at(v));
    if (field_.count(v)) first.push_back(field_.at(v));
  }
  auto dims = [&] { return torch::jit::toIValue(node->input(1)); };
  if (kind == "aten::permute" && first.size() == 1 && field_.count(node->input(0))) {
    const auto d = dims();
    if (d && d->isIntList() && d->toIntVector() == std::vector<int64_t>{0, 2, 3, 1}) {
      nhwc_[node->output()] = first[0];
      return true;
    }
    return false;  // any other permute: refused by the caller
  }
  if (last.empty()) return false;
  if (!first.empty()) r_.Fail(node, "mixes channels-last and N×C×H×W tensors");
  if (kind == "aten::permute") {
    const auto d = dims();
    if (!d || !d->isIntList() || d->toIntVector() != std::vector<int64_t>{0, 3, 1, 2}) {
      r_.Fail(node, "a permute of a channels-last tensor other than (0, 3, 1, 2)");
    }
    field_[node->output()] = last[0];
    return true;
  }
  bool keeps = kind == "aten::linear" || cls == OpClass::kElementwise || cls == OpClass::kMerge;
  if (kind == "aten::layer_norm") {  // normalised over the last dims: C only keeps the field
    const auto shape = dims();
    keeps = shape && shape->isIntList() && shape->toIntVector().size() == 1;
  }
  const bool on_channels = kind == "aten::linear" || kind == "aten::layer_norm";
  if (!keeps || (on_channels && !nhwc_.count(node->input(0)))) {
    r_.Fail(node,
            "on a channels-last (permuted) tensor only layer_norm over channels, linear, "
            "element-wise ops, merges and permute(0, 3, 1, 2) are read");
  }
  if (last.size() == 1 || cls != OpClass::kMerge) {
    nhwc_[node->output()] = last[0];
  } else {
    std::string op = kind.substr(6);
    if (op.back() == '_') op.pop_back();
    nhwc_[node->output()] = g_.Add(Name(node, op), last);
  }
  if (kind.back() == '_') nhwc_[node->input(0)] = nhwc_.at(node->output());
  return true;
}

}  // namespace rfx::theory::ts
