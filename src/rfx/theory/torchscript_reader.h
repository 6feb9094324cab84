// Reading one node of an inlined TorchScript graph for the theory walker (torchscript.cpp):
// which kind of op it is for a receptive field, its constant arguments, its module path, and
// errors that name the node. Internal to rfx (includes torch): the probes' model target
// (rfx/probe/model.cpp) finds --node modules with ModulePathOf.
#pragma once
#include <torch/script.h>

#include <string>
#include <utility>
#include <vector>

#include "rfx/theory/graph.h"

namespace rfx::theory::ts {

using torch::jit::Node;
using torch::jit::Value;

// How an op moves a field.
enum class OpClass {
  kElementwise,  // the field of its one field-carrying operand (activations, batch norm, ...)
  kMerge,        // element-wise on two field-carrying operands: a merge (add, mul, ...)
  kGlobal,       // every unit sees the whole input (flatten, view, linear, ...)
  kShapeOnly,    // reads a shape (size, dim): carries no field
  kOther,        // anything else: handled by kind or refused
};
// kMerge for merge-capable ops (they are element-wise with one field operand).
OpClass Classify(const std::string& kind);

// The forward graph of `module` (in eval mode) made walkable: inlined, `self.training` false,
// and — for a forward of one tensor, typed 4-d — rank checks, constant loops and their lists
// folded, then constants propagated (scripted F.interpolate and batch norm lose their
// branches). Best effort: what the passes cannot fold stays.
std::shared_ptr<torch::jit::Graph> InlinedForward(const torch::jit::Module& module);

// The module path of an inlined node from its call stack ("layer3.1.conv2"; "" for an op of the
// top module's forward), and whether the innermost module is one of torch.nn's own (then the
// path names the op itself).
std::pair<std::string, bool> ModulePathOf(const Node* node);

class NodeReader {
 public:
  explicit NodeReader(std::string model_path) : path_(std::move(model_path)) {}

  // An int-list argument (a constant or a ListConstruct of constants); one value = both axes.
  Axes Pair(const Node* node, size_t i, const char* what) const;
  int64_t Int(const Node* node, size_t i, const char* what) const;
  bool Bool(const Node* node, size_t i, const char* what) const;
  // A constant double list (upsample scale factors); one value = both axes.
  std::vector<double> Doubles(const Node* node, size_t i, const char* what) const;
  bool IsNone(const Node* node, size_t i) const;

  std::pair<std::string, bool> ModulePath(const Node* node) const { return ModulePathOf(node); }
  // "node 'aten::roll' in module 'layer1' (value %8) at code/__torch__.py:10".
  std::string Where(const Node* node) const;
  [[noreturn]] void Fail(const Node* node, const std::string& problem) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace rfx::theory::ts
