#include "rfx/nn/freeze.h"

#include <algorithm>
#include <set>

#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::nn {

namespace {

bool Under(const std::string& parameter, const std::string& module) {
  return parameter.size() > module.size() && parameter.compare(0, module.size(), module) == 0 &&
         parameter[module.size()] == '.';
}

std::string LastPart(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

// "convs.0, convs.1, convs.2, …, convs.15" (the first few and the last).
std::string Some(const std::vector<std::string>& names) {
  constexpr size_t kShown = 4;
  if (names.size() <= kShown + 1) return Join(names, ", ");
  std::vector<std::string> shown(names.begin(), names.begin() + kShown);
  shown.push_back("…");
  shown.push_back(names.back());
  return Join(shown, ", ");
}

class Resolver {
 public:
  Resolver(Net& net, std::string key) : key_(std::move(key)), layers_(net.layers()) {
    for (const auto& item : net.named_modules("", /*include_self=*/false)) {
      modules_.push_back(item.key());
    }
    for (const auto& item : net.named_parameters()) parameters_.push_back(item.key());
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (!layers_[i].module.empty()) {
        frozen_layers_.push_back(std::to_string(i) + " " + layers_[i].name);
        layer_names_.push_back(layers_[i].name);
      }
    }
  }

  // The module path (or the parameter name) `ref` selects.
  std::string Resolve(const LayerRef& ref) const {
    if (ref.index >= 0) {
      if (ref.index >= static_cast<int64_t>(layers_.size())) {
        Fail(ref, "is out of range; allowed: 0.." + std::to_string(layers_.size() - 1) +
                      " (the net's layers) or a name such as " + Some(layer_names_));
      }
      return LayerModule(ref, layers_[ref.index]);
    }
    for (const NetLayer& layer : layers_) {
      if (layer.name == ref.name) return LayerModule(ref, layer);
    }
    if (Has(modules_, ref.name) || Has(parameters_, ref.name)) return ref.name;
    std::vector<std::string> ends;
    for (const std::string& m : modules_) {
      if (LastPart(m) == ref.name) ends.push_back(m);
    }
    if (ends.size() == 1) return ends[0];
    if (ends.size() > 1) {
      Fail(ref, "names " + std::to_string(ends.size()) + " modules (" + Some(ends) +
                    "); give the full path");
    }
    Fail(ref, "is no layer, module or parameter of this net; allowed: a layer index 0.." +
                  std::to_string(layers_.size() - 1) + " or a name such as " + Some(layer_names_) +
                  " (module paths as in model.pt, e.g. " + Some(modules_) + ")");
  }

  const std::vector<std::string>& parameters() const { return parameters_; }

 private:
  std::string LayerModule(const LayerRef& ref, const NetLayer& layer) const {
    if (layer.module.empty()) {
      Fail(ref, "is layer '" + layer.name +
                    "', which has no parameters; layers with parameters: " + Some(frozen_layers_));
    }
    return layer.module;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  [[noreturn]] void Fail(const LayerRef& ref, const std::string& problem) const {
    const std::string value = ref.index >= 0 ? ref.text() : "'" + ref.name + "'";
    throw ConfigError(key_, "value " + value + " " + problem);
  }

  std::string key_;
  std::vector<NetLayer> layers_;
  std::vector<std::string> modules_, parameters_, layer_names_, frozen_layers_;
};

}  // namespace

std::vector<std::string> FrozenParameterNames(Net& net, const std::vector<LayerRef>& refs,
                                              const std::string& key) {
  const Resolver resolver(net, key);
  std::set<std::string> chosen;
  for (const LayerRef& ref : refs) {
    const std::string path = resolver.Resolve(ref);
    for (const std::string& p : resolver.parameters()) {
      if (p == path || Under(p, path)) chosen.insert(p);
    }
  }
  std::vector<std::string> names;
  for (const std::string& p : resolver.parameters()) {
    if (chosen.count(p)) names.push_back(p);
  }
  return names;
}

void Freeze(Net& net, const std::vector<LayerRef>& refs, const std::string& key) {
  if (refs.empty()) return;
  const std::vector<std::string> names = FrozenParameterNames(net, refs, key);
  auto params = net.named_parameters();
  for (const std::string& name : names) params[name].set_requires_grad(false);
  if (TrainableParameters(net).empty()) {
    std::vector<std::string> texts;
    for (const LayerRef& r : refs) texts.push_back(r.text());
    throw ConfigError(key, "value [" + Join(texts, ", ") +
                               "] freezes every parameter of the net; nothing would train");
  }
}

std::vector<at::Tensor> TrainableParameters(const torch::nn::Module& net) {
  std::vector<at::Tensor> out;
  for (const auto& p : net.parameters()) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

}  // namespace rfx::nn
