// The layer list (nn/layer_spec.h) as a theory graph: the conversion shared by `theory.layers`
// and `net.arch: layers`, so the analytic table describes the very net that trains.
#include "rfx/theory/layers.h"

#include "rfx/nn/layer_spec.h"
#include "rfx/util/error.h"

namespace rfx::theory {

namespace {

Axes Ax(const nn::HW& v) { return Axes(v.h, v.w); }

// Adds `specs` reading node `from`; returns the node that holds their output.
int AddSpecs(Graph& g, const std::vector<nn::LayerSpec>& specs, int from) {
  int x = from;
  for (const nn::LayerSpec& s : specs) {
    switch (s.kind) {
      case nn::LayerKind::kConv:
        x = g.Conv(s.name, Ax(s.k), Ax(s.s), Ax(s.p), Ax(s.d), x);
        break;
      case nn::LayerKind::kConvTranspose:
        x = g.ConvTranspose(s.name, Ax(s.k), Ax(s.s), Ax(s.p), Ax(s.output_padding), Ax(s.d), x);
        break;
      case nn::LayerKind::kMaxPool:
      case nn::LayerKind::kAvgPool: {
        // Push, not MaxPool(): a max pool may be dilated.
        Layer l;
        l.name = s.name;
        l.op = s.kind == nn::LayerKind::kMaxPool ? Op::kMaxPool : Op::kAvgPool;
        l.k = Ax(s.k), l.s = Ax(s.s), l.p = Ax(s.p), l.d = Ax(s.d), l.ceil_mode = s.ceil;
        l.inputs = {x};
        x = g.Push(l);
        break;
      }
      case nn::LayerKind::kAdaptiveAvgPool:
        x = g.AdaptiveAvgPool(s.name, Ax(s.size), x);
        break;
      case nn::LayerKind::kUpsample: {
        const bool bilinear = s.mode == nn::UpsampleMode::kBilinear;
        x = s.to_input ? g.UpsampleTo(s.name, 0, bilinear, x)
                       : g.Upsample(s.name, s.factor, bilinear, x);
        break;
      }
      case nn::LayerKind::kBatchNorm:
      case nn::LayerKind::kActivation:
        break;  // element-wise: no node, the field does not move
      case nn::LayerKind::kResidual:
      case nn::LayerKind::kConcat: {
        const int body = AddSpecs(g, s.body, x);
        const int shortcut = s.shortcut.empty() ? x : AddSpecs(g, s.shortcut, x);
        // (the net concatenates the shortcut first)
        x = s.kind == nn::LayerKind::kResidual ? g.Add(s.name, {body, shortcut})
                                               : g.Concat(s.name, {shortcut, body});
        break;
      }
    }
  }
  return x;
}

}  // namespace

Graph FromLayerSpecs(const std::vector<nn::LayerSpec>& specs, const std::string& key) {
  Graph g;
  try {
    AddSpecs(g, specs, 0);
  } catch (const ConfigError&) {
    throw;
  } catch (const UsageError& e) {
    throw ConfigError(key, e.what());
  }
  return g;
}

Graph FromLayerList(const YAML::Node& list, const Config& config, const std::string& key) {
  try {
    const std::vector<nn::LayerSpec> specs = nn::ParseLayerList(list, key);
    if (specs.empty()) {
      throw ConfigError(key, "expected a non-empty list of items, e.g. [{conv: {k: 3, p: 1}}]");
    }
    return FromLayerSpecs(specs, key);
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
}

}  // namespace rfx::theory
