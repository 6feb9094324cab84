// The TorchScript probe target and the forward / gradient probes run on it.
#include "rfx/probe/model.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/utils.h>  // NoGradGuard, AutoGradMode

#include <algorithm>
#include <chrono>

#include "rfx/probe/common.h"
#include "rfx/theory/torchscript.h"
#include "rfx/theory/torchscript_reader.h"
#include "rfx/util/error.h"
#include "rfx/util/run_paths.h"

namespace rfx::probe {

std::vector<int64_t> ParseInputShape(const std::string& text) {
  std::vector<int64_t> out;
  std::string cur;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != ',') {
      cur += text[i];
      continue;
    }
    const bool digits =
        !cur.empty() && cur.size() <= 5 && cur.find_first_not_of("0123456789") == std::string::npos;
    out.push_back(digits ? std::stoll(cur) : 0);
    cur.clear();
  }
  const bool ok = out.size() == 3 && out[0] >= 1 && out[0] <= 4096 && out[1] >= 1 &&
                  out[1] <= 16384 && out[2] >= 1 && out[2] <= 16384;
  if (!ok) {
    throw UsageError("--input-shape '" + text +
                     "' is not an input shape; allowed: C,H,W (e.g. 3,224,224) with C in "
                     "1 … 4096 and H, W in 1 … 16384");
  }
  return out;
}

namespace {

std::string FileName(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// The forward graph cut at the output of the last op run inside module `name`.
std::shared_ptr<torch::jit::Function> CutAtNode(torch::jit::Module& module,
                                                const ModelOptions& options) {
  auto graph = module.get_method("forward").graph()->copy();
  torch::jit::Inline(*graph);
  torch::jit::Value* found = nullptr;
  std::vector<std::string> paths;  // the modules there are, in order, for the error
  for (torch::jit::Node* n : graph->nodes()) {
    const std::string path = theory::ts::ModulePathOf(n).first;
    if (path.empty()) continue;
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
    const bool inside = path == options.node || path.rfind(options.node + ".", 0) == 0;
    if (inside && n->outputs().size() == 1 &&
        n->output()->type()->isSubtypeOf(*c10::TensorType::get())) {
      found = n->output();
    }
  }
  if (found == nullptr) {
    std::string list;
    for (size_t i = 0; i < paths.size() && i < 40; ++i) list += (i ? ", " : "") + paths[i];
    if (paths.size() > 40) list += ", … (" + std::to_string(paths.size()) + " in all)";
    throw UsageError("--node '" + options.node + "': no tensor op of " + options.path +
                     " runs inside a module of that name; modules: " +
                     (list.empty() ? "(none: the forward calls no submodule)" : list));
  }
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(found);
  torch::jit::EliminateDeadCode(graph);
  return std::make_shared<torch::jit::GraphFunction>("rfx_probe_node", graph, nullptr);
}

// The first tensor of a model's output (a tensor, or a tuple / list starting with one).
at::Tensor FirstTensor(const c10::IValue& v, const std::string& what) {
  if (v.isTensor()) return v.toTensor();
  if (v.isTuple() && !v.toTupleRef().elements().empty()) {
    return FirstTensor(v.toTupleRef().elements()[0], what);
  }
  if (v.isList() && v.toListRef().size() > 0) return FirstTensor(v.toListRef()[0], what);
  throw UsageError(what + " returns " + v.tagKind() +
                   ", not a tensor (or a tuple or list starting with one)");
}

void CheckOutput(const at::Tensor& out, int channel, const std::string& what) {
  if (out.dim() != 4) {
    throw UsageError(what + " gives a " + std::to_string(out.dim()) +
                     "-d output; the probes read a B×C×H×W map (use --node for a spatial "
                     "layer of a classifier)");
  }
  if (channel < 0 || channel >= out.size(1)) {
    throw UsageError("--channel " + std::to_string(channel) + " is out of range; " + what +
                     " has " + std::to_string(out.size(1)) + " output channels");
  }
}

std::vector<int64_t> InputShape(const ModelOptions& model, int size) {
  if (!model.input_shape.empty()) return model.input_shape;
  if (size < 1) throw UsageError("--model needs --input-shape C,H,W (or --size S for 1,S,S)");
  return {1, size, size};
}

}  // namespace

namespace {

torch::jit::Module Load(const std::string& path, c10::Device device) {
  try {
    torch::jit::Module m = torch::jit::load(path, device);
    if (!m.find_method("forward"))
      throw UsageError(NotTorchScriptMessage(
          path,
          "--config DIR/config.yaml (its architecture; rfx probe gradient also takes "
          "--checkpoint DIR, its trained weights)"));
    return m;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.size() > 300) what = what.substr(0, 300) + "...";
    throw UsageError("--model " + path +
                     ": cannot load it as a TorchScript file (torch.jit.save of a traced or "
                     "scripted module): " +
                     what);
  }
}

}  // namespace

std::vector<std::string> ModelChildren(const std::string& file, const std::string& path) {
  torch::jit::Module m = Load(file, c10::Device(c10::kCPU));
  std::string rest = path;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string name = rest.substr(0, dot);
    bool found = false;
    for (const auto& child : m.named_children()) {
      if (child.name == name) {
        m = child.value;
        found = true;
        break;
      }
    }
    if (!found) return {};
    rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
  }
  std::vector<std::string> out;
  for (const auto& child : m.named_children()) {
    out.push_back(path.empty() ? child.name : path + "." + child.name);
  }
  return out;
}

ModelTarget::ModelTarget(const ModelOptions& options, c10::Device device, at::ScalarType dtype) {
  module_ = Load(options.path, device);
  path_ = options.path;
  module_.to(device, dtype);
  module_.eval();
  description_ = "model " + FileName(options.path);
  if (!options.node.empty()) {
    node_fn_ = CutAtNode(module_, options);
    description_ += ", node " + options.node;
  }
}

at::Tensor ModelTarget::Forward(const at::Tensor& x) {
  std::vector<c10::IValue> stack = {x};
  c10::IValue out;
  try {
    if (node_fn_) {
      stack.insert(stack.begin(), module_._ivalue());
      out = (*node_fn_)(std::move(stack));
    } else {
      out = module_.forward(std::move(stack));
    }
  } catch (const std::exception& e) {  // c10::Error, or the interpreter's runtime_error
    // TorchScript's message ends with the Python-side error ("RuntimeError: Given groups=1,
    // weight of size ..."); the usual cause is an input the model does not take.
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == '"')) what.pop_back();
    const size_t cut = what.rfind('\n');
    if (cut != std::string::npos) what = what.substr(cut + 1);
    throw UsageError("--model " + path_ + " fails on an input of shape " +
                     std::to_string(x.size(1)) + "×" + std::to_string(x.size(2)) + "×" +
                     std::to_string(x.size(3)) + " (check --input-shape C,H,W): " + what);
  }
  return FirstTensor(out, description_);
}

theory::Table ModelTable(const ModelOptions& model, int h, int w) {
  return theory::Analyze(theory::FromTorchScript(model.path, theory::Axes(h, w)),
                         theory::Axes(h, w));
}

int RowIndexOf(const theory::Table& table, const std::string& node) {
  if (node.empty()) return static_cast<int>(table.rows.size()) - 1;
  for (size_t i = table.rows.size(); i-- > 1;) {
    const std::string& n = table.rows[i].name;
    if (n == node || n.rfind(node + ".", 0) == 0) return static_cast<int>(i);
  }
  return -1;
}

const theory::Row& ReadRow(const theory::Table& table, const ModelOptions& model) {
  const int i = RowIndexOf(table, model.node);
  if (i >= 0) return table.rows[i];
  throw UsageError("--node '" + model.node + "' names no layer of the analytic graph of " +
                   model.path);
}

Placement PlaceInModel(const ModelOptions& model, const Position& at, int h, int w) {
  return PlaceAt(ReadRow(ModelTable(model, h, w), model), at, h, w);
}

ForwardResult RunModelForward(const Config& config, const ForwardOptions& options,
                              const ModelOptions& model) {
  ForwardOptions checked = options;
  checked.channel = 0;  // the model's channel count is checked on its output
  checked.validate();
  if (!options.depths.empty() || options.linear || !options.incremental) {
    throw UsageError("--depths, --linear and --fresh apply to net.arch fcn, not to --model");
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Setup setup = MakeSetup(config, options.dtype);
  ModelTarget target(model, setup.device, setup.dtype);
  const auto shape = InputShape(model, options.size);
  std::optional<Placement> place;
  if (options.position) {
    place = PlaceInModel(model, *options.position, static_cast<int>(shape[1]),
                         static_cast<int>(shape[2]));
  }
  const Position in = place ? place->input : Position{shape[1] / 2, shape[2] / 2};
  torch::NoGradGuard no_grad;
  at::Tensor x = at::zeros({1, shape[0], shape[1], shape[2]},
                           at::TensorOptions().dtype(setup.dtype).device(setup.device));
  x.select(2, in.row).select(2, in.col).fill_(1.0);  // every channel
  const at::Tensor out = target.Forward(x);
  CheckOutput(out, options.channel, target.description());
  ForwardResult r;
  r.arch = target.description();
  r.init = "as saved";
  r.dtype = options.dtype;
  r.device = setup.device.str();
  r.method = "model";
  r.method_note = "output " + std::to_string(out.size(2)) + "×" + std::to_string(out.size(3)) +
                  " for input " + std::to_string(shape[0]) + "×" + std::to_string(shape[1]) + "×" +
                  std::to_string(shape[2]) + "; radius in output units";
  r.size = static_cast<int>(shape[2]);
  r.level = options.level;
  r.placement = place;
  if (place) {
    r.depths.push_back(ProfileAt(out, options.channel, *place, 0, options.level));
  } else {
    const int64_t cy = out.size(2) / 2, cx = out.size(3) / 2;
    r.depths.push_back(
        RowProfile(out[0][options.channel][cy].slice(0, cx, out.size(3)), 0, options.level));
  }
  r.wall_s = SecondsSince(t0);
  return r;
}

GradientResult RunModelGradient(const Config& config, const GradientOptions& options,
                                const ModelOptions& model) {
  GradientOptions checked = options;
  checked.channel = 0;
  checked.validate();
  if (options.input == "task" || !options.checkpoint.empty()) {
    throw UsageError("--model probes take noise inputs or --inputs DIR, and no --checkpoint");
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Setup setup = MakeSetup(config, options.dtype);
  ModelTarget target(model, setup.device, setup.dtype);
  const auto shape = InputShape(model, options.size);
  const GradientSampler sample = [&](const at::Tensor& inputs, const std::optional<Position>& at) {
    torch::AutoGradMode grad_mode(true);
    at::Tensor x = inputs.detach().clone();
    x.set_requires_grad(true);
    const at::Tensor out = target.Forward(x);
    CheckOutput(out, options.channel, target.description());
    return ReadOutGradient(x, out, options.channel, options.agg, options.replknet, at);
  };
  const Placer place = [&](int h, int w) { return PlaceInModel(model, *options.position, h, w); };
  GradientResult r;
  const InputGeometry geometry{static_cast<int>(shape[0]), static_cast<int>(shape[1]),
                               static_cast<int>(shape[2])};
  AccumulateGradient(config, options, setup, geometry, place, sample, r);
  r.source = target.description();
  r.wall_s = SecondsSince(t0);
  return r;
}

}  // namespace rfx::probe
