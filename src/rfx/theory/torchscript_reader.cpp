#include "rfx/theory/torchscript_reader.h"

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/loop_unrolling.h>
#include <torch/csrc/jit/passes/peephole.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/passes/shape_analysis.h>

#include <set>

#include "rfx/util/error.h"

namespace rfx::theory::ts {

OpClass Classify(const std::string& kind) {
  static const std::set<std::string> merges = {
      "aten::add",  "aten::add_", "aten::sub",  "aten::sub_",    "aten::mul",
      "aten::mul_", "aten::div",  "aten::div_", "aten::maximum", "aten::minimum"};
  static const std::set<std::string> elementwise = {"aten::relu",
                                                    "aten::relu_",
                                                    "aten::relu6",
                                                    "aten::gelu",
                                                    "aten::elu",
                                                    "aten::elu_",
                                                    "aten::selu",
                                                    "aten::selu_",
                                                    "aten::celu",
                                                    "aten::leaky_relu",
                                                    "aten::leaky_relu_",
                                                    "aten::tanh",
                                                    "aten::tanh_",
                                                    "aten::sigmoid",
                                                    "aten::sigmoid_",
                                                    "aten::hardtanh",
                                                    "aten::hardtanh_",
                                                    "aten::hardswish",
                                                    "aten::hardswish_",
                                                    "aten::hardsigmoid",
                                                    "aten::hardsigmoid_",
                                                    "aten::silu",
                                                    "aten::silu_",
                                                    "aten::mish",
                                                    "aten::softplus",
                                                    "aten::batch_norm",
                                                    "aten::dropout",
                                                    "aten::dropout_",
                                                    "aten::feature_dropout",
                                                    "aten::feature_dropout_",
                                                    "aten::alpha_dropout",
                                                    "aten::contiguous",
                                                    "aten::clone",
                                                    "aten::detach",
                                                    "aten::neg",
                                                    "aten::abs",
                                                    "aten::exp",
                                                    "aten::log",
                                                    "aten::sqrt",
                                                    "aten::rsqrt",
                                                    "aten::square",
                                                    "aten::pow",
                                                    "aten::clamp",
                                                    "aten::clamp_",
                                                    "aten::to",
                                                    "aten::type_as",
                                                    "aten::rsub"};
  static const std::set<std::string> global = {
      "aten::flatten", "aten::view", "aten::reshape", "aten::linear", "aten::addmm",
      "aten::matmul",  "aten::mm",   "aten::mean",    "aten::sum",    "aten::amax"};
  static const std::set<std::string> shape = {"aten::size",  "aten::dim",    "aten::len",
                                              "prim::shape", "aten::numel",  "prim::device",
                                              "prim::dtype", "aten::is_cuda"};
  if (merges.count(kind)) return OpClass::kMerge;
  if (elementwise.count(kind)) return OpClass::kElementwise;
  if (global.count(kind)) return OpClass::kGlobal;
  if (shape.count(kind)) return OpClass::kShapeOnly;
  return OpClass::kOther;
}

namespace {

// The module is in eval mode: `self.training` (batch norm's and dropout's branches in
// scripted code) is the constant false, so the constant propagation removes those branches.
void FoldTraining(torch::jit::Block& block) {
  for (Node* node : block.nodes()) {
    for (auto* inner : node->blocks()) FoldTraining(*inner);
    if (node->kind() == c10::prim::GetAttr && node->s(c10::attr::name) == "training" &&
        node->output()->type()->kind() == c10::TypeKind::BoolType) {
      torch::jit::WithInsertPoint guard(node);
      node->output()->replaceAllUsesWith(node->owningGraph()->insertConstant(false));
    }
  }
}

// What the legacy shape analysis leaves out (upsample .vec overloads, ...): an op of the
// field that keeps its input's rank gives a tensor of that rank.
void PropagateRank(torch::jit::Block& block) {
  for (Node* node : block.nodes()) {
    for (auto* inner : node->blocks()) PropagateRank(*inner);
    if (node->inputs().empty() || node->outputs().size() != 1) continue;
    auto in = node->input(0)->type()->cast<c10::TensorType>();
    auto out = node->output()->type()->cast<c10::TensorType>();
    if (!in || !out || !in->dim() || out->dim()) continue;
    const std::string kind = node->kind().toQualString();
    const bool keeps_rank = kind.rfind("aten::upsample_", 0) == 0 ||
                            Classify(kind) == OpClass::kElementwise ||
                            Classify(kind) == OpClass::kMerge;
    if (keeps_rank) node->output()->setType(out->withDim(*in->dim()));
  }
}

// Scripted code checks ranks (F.interpolate: `if input.dim() == 4`) and builds lists in
// loops: with the input known to be 4-d, shape propagation and the peephole pass make those
// checks constants, loop unrolling and list-mutation removal make the lists constants, and
// the constant propagation removes the branches. Best effort: a graph the passes cannot
// handle is walked as it is.
std::shared_ptr<torch::jit::Graph> Specialize(std::shared_ptr<torch::jit::Graph> graph) {
  auto type = graph->inputs()[1]->type()->cast<c10::TensorType>();
  if (!type) return graph;
  auto typed = graph->copy();
  try {
    typed->inputs()[1]->setType(type->withDim(4));
    // Each round can expose more: a folded branch leaves a loop, an unrolled loop a list.
    for (int round = 0; round < 4; ++round) {
      torch::jit::PropagateInputShapes(typed);
      PropagateRank(*typed->block());
      bool changed = torch::jit::PeepholeOptimize(typed, /*disable_shape_peepholes=*/false);
      changed |= torch::jit::ConstantPropagation(typed);
      changed |= torch::jit::UnrollConstantLoops(typed);
      changed |= torch::jit::RemoveListMutation(typed);
      if (!changed) break;
    }
  } catch (const std::exception&) {
    return graph;
  }
  return typed;
}

int Narrow(const NodeReader& r, const Node* node, int64_t v, const char* what) {
  if (v < -(1 << 30) || v > (1 << 30)) r.Fail(node, std::string(what) + " is out of range");
  return static_cast<int>(v);
}

}  // namespace

std::shared_ptr<torch::jit::Graph> InlinedForward(const torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph()->copy();
  torch::jit::Inline(*graph);
  FoldTraining(*graph->block());
  if (graph->inputs().size() == 2) graph = Specialize(graph);
  torch::jit::ConstantPropagation(graph);  // folds `if self.inplace:` and the like
  return graph;
}

Axes NodeReader::Pair(const Node* node, size_t i, const char* what) const {
  const Value* v = node->input(i);
  std::vector<int64_t> out;
  auto iv = torch::jit::toIValue(v);
  if (iv && iv->isIntList()) {
    out = iv->toIntVector();
  } else if (iv && iv->isInt()) {
    out = {iv->toInt()};
  } else if (v->node()->kind() == c10::prim::ListConstruct) {
    for (const Value* e : v->node()->inputs()) {
      auto x = torch::jit::toIValue(e);
      if (!x || !x->isInt()) Fail(node, std::string(what) + " is not a constant");
      out.push_back(x->toInt());
    }
  } else {
    Fail(node, std::string(what) + " is not a constant");
  }
  if (out.empty()) return Axes(0, 0);  // pools: stride [] means the kernel
  if (out.size() == 1) out.push_back(out[0]);
  if (out.size() != 2)
    Fail(node,
         std::string(what) + " has " + std::to_string(out.size()) + " values; 2-d ops have 2");
  return Axes(Narrow(*this, node, out[0], what), Narrow(*this, node, out[1], what));
}

int64_t NodeReader::Int(const Node* node, size_t i, const char* what) const {
  auto iv = torch::jit::toIValue(node->input(i));
  if (!iv || !iv->isInt()) Fail(node, std::string(what) + " is not a constant int");
  return iv->toInt();
}

bool NodeReader::Bool(const Node* node, size_t i, const char* what) const {
  auto iv = torch::jit::toIValue(node->input(i));
  if (!iv || !iv->isBool()) Fail(node, std::string(what) + " is not a constant bool");
  return iv->toBool();
}

std::vector<double> NodeReader::Doubles(const Node* node, size_t i, const char* what) const {
  auto iv = torch::jit::toIValue(node->input(i));
  if (!iv || !iv->isDoubleList()) Fail(node, std::string(what) + " are not constant");
  std::vector<double> f = iv->toDoubleVector();
  if (f.empty()) Fail(node, std::string(what) + " are empty");
  if (f.size() == 1) f.push_back(f[0]);
  return f;
}

bool NodeReader::IsNone(const Node* node, size_t i) const {
  auto iv = torch::jit::toIValue(node->input(i));
  return iv && iv->isNone();
}

std::pair<std::string, bool> ModulePathOf(const Node* node) {
  std::string path;
  bool torch_nn = false;
  auto cs = node->callstack();
  if (!cs) return {path, torch_nn};
  auto cur = cs;
  while (cur) {
    auto mi = (*cur)->module_instance();
    // Method calls on the same module (Conv2d._conv_forward) carry the instance name "SELF".
    if (mi && mi->instance_name() != "SELF" && mi->instance_name() != "self") {
      path += (path.empty() ? "" : ".") + mi->instance_name();
      const auto type = mi->class_type();
      torch_nn = type && type->name() &&
                 type->name()->qualifiedName().find("__torch__.torch.nn.modules.") == 0;
    }
    cur = (*cur)->callee();
  }
  return {path, torch_nn};
}

std::string NodeReader::Where(const Node* node) const {
  std::string s = "node '" + std::string(node->kind().toQualString()) + "'";
  const auto path = ModulePath(node).first;
  if (!path.empty()) s += " in module '" + path + "'";
  if (!node->outputs().empty()) s += " (value %" + node->output(0)->debugName() + ")";
  if (auto flc = node->sourceRange().file_line_col()) {
    s += " at " + std::get<0>(*flc) + ":" + std::to_string(std::get<1>(*flc));
  }
  return s;
}

void NodeReader::Fail(const Node* node, const std::string& problem) const {
  throw UsageError("--model " + path_ + ": " + Where(node) + ": " + problem);
}

}  // namespace rfx::theory::ts
