// The TorchScript walker of rfx theory --model (torchscript.cpp: the walk and the spatial ops;
// torchscript_walker.cpp: merges and channel plumbing). Internal to rfx/theory.
#pragma once
#include <torch/script.h>

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "rfx/theory/analysis.h"
#include "rfx/theory/graph.h"
#include "rfx/theory/torchscript_reader.h"
#include "rfx/util/error.h"

namespace rfx::theory::ts {

// An int value that is dimension `dim` of the tensor at graph node `node` (aten::size).
struct SizeRef {
  int node = 0;
  int64_t dim = 0;
};

class Walker {
 public:
  Walker(const std::string& path, torch::jit::Module module, Axes input)
      : r_(path), module_(std::move(module)), input_(input) {}

  Graph Run() {
    auto graph = ts::InlinedForward(module_);
    if (graph->inputs().size() != 2) {
      throw UsageError("--model " + r_.path() + ": forward takes " +
                       std::to_string(graph->inputs().size() - 1) +
                       " inputs; rfx theory reads models of one image tensor");
    }
    self_ = graph->inputs()[0];
    field_[graph->inputs()[1]] = 0;
    for (Node* node : graph->nodes()) Visit(node);
    return g_;
  }

 private:
  bool Carries(const Value* v) const {
    return field_.count(v) || lists_.count(v) || uniform_.count(v) || nhwc_.count(v);
  }
  bool UsesField(const Node* node) const {
    for (const Value* v : node->inputs()) {
      if (Carries(v)) return true;
    }
    for (const auto* block : node->blocks()) {
      for (const Node* inner : block->nodes()) {
        if (UsesField(inner)) return true;
      }
    }
    return false;
  }
  int FieldOf(const Value* v) const { return field_.at(v); }
  // The table is a temporary: keep it alive while reading its row (a reference into
  // Analyze(...).rows would dangle at the end of the statement).
  Axes SizeAt(int node) const {
    const Table table = Analyze(g_, input_);
    const Row& row = table.rows.at(node);
    return Axes(static_cast<int>(row.h.n), static_cast<int>(row.w.n));
  }

  // A module attribute (prim::GetAttr chains from self) or a constant.
  c10::optional<c10::IValue> Resolve(Value* v) const {
    if (v == self_) return c10::IValue(module_._ivalue());
    Node* n = v->node();
    if (n->kind() == c10::prim::GetAttr) {
      auto parent = Resolve(n->input(0));
      if (!parent || !parent->isObject()) return c10::nullopt;
      return parent->toObject()->getAttr(n->s(c10::attr::name));
    }
    return torch::jit::toIValue(v);
  }

  // "layer3.1.conv2" for torch.nn modules, "layer1.0.add" for an op inside a block, else the
  // op and an index ("flatten_0").
  std::string Name(const Node* node, const std::string& op) {
    const auto [path, torch_nn] = r_.ModulePath(node);
    std::string name = path.empty() ? op : torch_nn ? path : path + "." + op;
    const int seen = used_[name]++;
    if (seen > 0 || path.empty()) name += "_" + std::to_string(seen);
    return name;
  }
  void Bind(Node* node, int index) {
    field_[node->output(0)] = index;
    // In-place ops (add_, relu_) mutate their first operand: later uses of it see the result.
    const std::string kind = node->kind().toQualString();
    if (kind.back() == '_' && field_.count(node->input(0))) field_[node->input(0)] = index;
  }

  void Visit(Node* node);

  // Ops on channels (or the batch) only, which keep every unit's field: slices, chunks and
  // splits along dim 0 or 1, and view / reshape to (..., H, W) with H, W the sizes of the
  // tensor itself (channel shuffles, group merges). False when the op is not one of them.
  bool ChannelOp(Node* node, const std::string& kind);

  // mean / sum / amax over H or W (or over everything) sees everything; over channels it is
  // element-wise in space.
  bool ReducesSpace(Node* node) const;

  void Conv(Node* node, const std::string& kind);

  void Pool(Node* node, const std::string& kind);

  void AdaptivePool(Node* node, const std::string& kind);

  void Upsample(Node* node, const std::string& kind);

  void Cat(Node* node);

  // Channels-last blocks (ConvNeXt): permute(0, 2, 3, 1) of an N×C×H×W field gives an
  // N×H×W×C one; on it layer_norm over C, linear (over C), element-wise ops and merges keep
  // the field, and permute(0, 3, 1, 2) returns to N×C×H×W. Any other op of a channels-last
  // tensor is refused. True when the node was one of these.
  bool ChannelsLast(Node* node, const std::string& kind, OpClass cls);

  ts::NodeReader r_;
  torch::jit::Module module_;
  Axes input_;
  Value* self_ = nullptr;
  Graph g_;
  std::unordered_map<const Value*, int> field_;               // tensor -> graph node
  std::unordered_map<const Value*, std::vector<int>> lists_;  // list of tensors -> nodes
  std::unordered_map<const Value*, int> uniform_;             // chunks of one tensor -> node
  std::unordered_map<const Value*, int> nhwc_;                // channels-last tensor -> node
  std::unordered_map<const Value*, SizeRef> sizes_;           // int -> tensor dimension
  std::map<std::string, int> used_;                           // layer names given so far
};

}  // namespace rfx::theory::ts
