#include "rfx/nn/layer_spec.h"

#include <cctype>
#include <cmath>
#include <map>

#include "rfx/config/config.h"
#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::nn {

const char* LayerKindText(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kConvTranspose:
      return "conv_transpose";
    case LayerKind::kMaxPool:
      return "maxpool";
    case LayerKind::kAvgPool:
      return "avgpool";
    case LayerKind::kAdaptiveAvgPool:
      return "adaptive_avgpool";
    case LayerKind::kUpsample:
      return "upsample";
    case LayerKind::kBatchNorm:
      return "batchnorm";
    case LayerKind::kActivation:
      return "activation";
    case LayerKind::kResidual:
      return "residual";
    case LayerKind::kConcat:
      return "concat";
  }
  return "conv";
}

const char* UpsampleModeText(UpsampleMode mode) {
  return mode == UpsampleMode::kBilinear ? "bilinear" : "nearest";
}

namespace {

// Static bounds that keep sizes from wrapping; whether a net fits is train/memory.h's check.
constexpr int kMaxSide = 4096;       // k, s, p, d, output_padding
constexpr int kMaxChannels = 65536;  // out, groups, adaptive size

const std::vector<LayerKind> kKinds = {
    LayerKind::kConv,      LayerKind::kConvTranspose,   LayerKind::kMaxPool,
    LayerKind::kAvgPool,   LayerKind::kAdaptiveAvgPool, LayerKind::kUpsample,
    LayerKind::kBatchNorm, LayerKind::kActivation,      LayerKind::kResidual,
    LayerKind::kConcat};

std::string ItemHelp() {
  std::string s = "allowed items: ";
  for (size_t i = 0; i < kKinds.size(); ++i)
    s += (i ? ", " : "") + std::string(LayerKindText(kKinds[i]));
  return s + " (maxpool also as pool; batchnorm and the activations " + ActivationList(true) +
         " also as a bare word), each as {KIND: {fields}}";
}

std::vector<std::string> FieldsOf(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv:
      return {"name", "out", "k", "s", "p", "d", "groups", "bias"};
    case LayerKind::kConvTranspose:
      return {"name", "out", "k", "s", "p", "output_padding", "d", "bias"};
    case LayerKind::kMaxPool:
      return {"name", "k", "s", "p", "d", "ceil"};
    case LayerKind::kAvgPool:
      return {"name", "k", "s", "p", "ceil"};
    case LayerKind::kAdaptiveAvgPool:
      return {"name", "size"};
    case LayerKind::kUpsample:
      return {"name", "factor", "to", "mode"};
    case LayerKind::kBatchNorm:
      return {"name"};
    case LayerKind::kResidual:
    case LayerKind::kConcat:
      return {"name", "body", "shortcut"};
    case LayerKind::kActivation:
      return {};
  }
  return {};
}

std::string Show(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

class Parser {
 public:
  explicit Parser(std::string key) : key_(std::move(key)) {}

  std::vector<LayerSpec> List(const YAML::Node& list, const std::string& where) {
    if (!list.IsSequence()) Fail(where, "expected a list of items, got " + Show(list));
    std::vector<LayerSpec> specs;
    for (size_t i = 0; i < list.size(); ++i) {
      specs.push_back(Item(list[i], where + "[" + std::to_string(i) + "]"));
    }
    return specs;
  }

 private:
  [[noreturn]] void Fail(const std::string& where, const std::string& problem) const {
    throw ConfigError(key_, where + ": " + problem);
  }

  LayerSpec Item(const YAML::Node& item, const std::string& where) {
    LayerSpec spec;
    spec.path = where;
    const int number = ++counter_;
    std::string word;
    YAML::Node fields;
    if (item.IsScalar()) {
      word = item.Scalar();
    } else if (item.IsMap() && item.size() == 1 && item.begin()->first.IsScalar()) {
      word = item.begin()->first.Scalar();
      fields.reset(item.begin()->second);
    } else {
      Fail(where,
           "expected a one-key mapping {KIND: {fields}}, got " + Show(item) + "; " + ItemHelp());
    }
    if (auto bare = FindByText(Activations(true), ActivationText, word)) {  // a bare `relu`
      spec.activation = *bare;
      if (fields.IsDefined() && !fields.IsNull()) {
        Fail(where, "'" + word + "' takes no fields (write it as a bare item or {activation: " +
                        word + "})");
      }
      spec.kind = LayerKind::kActivation;
      spec.name = word + std::to_string(number);
      return spec;
    }
    if (!FindKind(word, &spec.kind)) Fail(where, "unknown layer '" + word + "'; " + ItemHelp());
    const std::string at = where + "." + word;
    if (spec.kind == LayerKind::kActivation) {
      if (!fields.IsScalar())
        Fail(at, "expected one of " + ActivationList(true) + ", got " + Show(fields));
      const auto named = FindByText(Activations(true), ActivationText, fields.Scalar());
      if (!named) {
        Fail(at, "value " + Show(fields) + " is not allowed; allowed: " + ActivationList(true));
      }
      spec.activation = *named;
      spec.name = fields.Scalar() + std::to_string(number);
      return spec;
    }
    if (item.IsScalar() && spec.kind != LayerKind::kBatchNorm) {
      Fail(where, "'" + word + "' needs fields: {" + word + ": {...}}; " + ItemHelp());
    }
    spec.name = word + std::to_string(number);
    const bool branch = spec.kind == LayerKind::kResidual || spec.kind == LayerKind::kConcat;
    if (branch && fields.IsSequence()) {
      spec.body = List(fields, at);
      return spec;
    }
    if (fields.IsDefined() && !fields.IsNull() && !fields.IsMap()) {
      Fail(at, std::string("expected a mapping of fields") +
                   (branch ? " {body, shortcut} or a list of items" : "") + ", got " +
                   Show(fields));
    }
    const YAML::Node& f = fields;  // const: reading a missing field must not add it
    CheckFields(f, spec.kind, at);
    if (f["name"]) Name(f["name"], at + ".name", &spec);
    switch (spec.kind) {
      case LayerKind::kConv:
      case LayerKind::kConvTranspose:
        Conv(f, at, &spec);
        break;
      case LayerKind::kMaxPool:
      case LayerKind::kAvgPool:
        Pool(f, at, &spec);
        break;
      case LayerKind::kAdaptiveAvgPool:
        spec.size = Pair(f, "size", at, 1, kMaxChannels, nullptr);
        break;
      case LayerKind::kUpsample:
        Upsample(f, at, &spec);
        break;
      case LayerKind::kResidual:
      case LayerKind::kConcat:
        if (!f["body"]) Fail(at, "needs body: [items] (or write the item as a list)");
        spec.body = List(f["body"], at + ".body");
        if (f["shortcut"]) spec.shortcut = List(f["shortcut"], at + ".shortcut");
        break;
      case LayerKind::kBatchNorm:
      case LayerKind::kActivation:
        break;
    }
    return spec;
  }

  static bool FindKind(const std::string& word, LayerKind* kind) {
    if (word == "pool") {
      *kind = LayerKind::kMaxPool;
      return true;
    }
    for (LayerKind k : kKinds) {
      if (word == LayerKindText(k)) {
        *kind = k;
        return true;
      }
    }
    return false;
  }

  void CheckFields(const YAML::Node& fields, LayerKind kind, const std::string& at) const {
    if (!fields.IsMap()) return;
    const std::vector<std::string> allowed = FieldsOf(kind);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      const std::string f = it->first.IsScalar() ? it->first.Scalar() : Show(it->first);
      bool ok = false;
      for (const auto& a : allowed) ok = ok || a == f;
      if (!ok) Fail(at, "unknown field '" + f + "'; allowed: " + Join(allowed));
    }
  }

  void Name(const YAML::Node& n, const std::string& at, LayerSpec* spec) {
    const std::string name = n.IsScalar() ? n.Scalar() : "";
    bool ok = !name.empty();
    for (char c : name)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    if (!ok) Fail(at, "value " + Show(n) + " is not a name; allowed: letters, digits, _ and -");
    spec->name = name;
  }

  int Int(const YAML::Node& n, const std::string& at, int min, int max) const {
    long long v = 0;
    if (!n.IsScalar() || !ParseConfigInt(n.Scalar(), &v)) {
      Fail(at, "value " + Show(n) + " is not an integer");
    }
    if (v < min || v > max) {
      Fail(at, "value " + std::to_string(v) + " is out of range; allowed: " + std::to_string(min) +
                   ".." + std::to_string(max));
    }
    return static_cast<int>(v);
  }

  // An int or [h, w]; `fallback` when absent (nullptr: required).
  HW Pair(const YAML::Node& fields, const char* field, const std::string& where, int min, int max,
          const HW* fallback) const {
    const std::string at = where + "." + field;
    const YAML::Node n = fields[field];
    if (!n) {
      if (fallback == nullptr) Fail(at, "required (an integer or [h, w])");
      return *fallback;
    }
    if (n.IsSequence()) {
      if (n.size() != 2) Fail(at, "value " + Show(n) + " is not an integer or [h, w]");
      return HW(Int(n[0], at + "[0]", min, max), Int(n[1], at + "[1]", min, max));
    }
    return HW(Int(n, at, min, max));
  }

  bool Bool(const YAML::Node& fields, const char* field, const std::string& where,
            bool fallback) const {
    const YAML::Node n = fields[field];
    if (!n) return fallback;
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false"))
      return n.Scalar() == "true";
    Fail(where + "." + field, "value " + Show(n) + " is not allowed; allowed: true, false");
  }

  void Conv(const YAML::Node& f, const std::string& at, LayerSpec* spec) const {
    const HW one = 1, zero = 0;
    spec->k = Pair(f, "k", at, 1, kMaxSide, nullptr);
    spec->s = Pair(f, "s", at, 1, kMaxSide, &one);
    spec->d = Pair(f, "d", at, 1, kMaxSide, &one);
    if (f["out"]) spec->out = Int(f["out"], at + ".out", 1, kMaxChannels);
    spec->bias = Bool(f, "bias", at, true);
    const YAML::Node p = f["p"];
    if (spec->kind == LayerKind::kConv && p && p.IsScalar() && p.Scalar() == "same") {
      if (spec->s != HW(1)) {
        Fail(at + ".p", "'same' needs stride 1 (s is " + Text(spec->s) + ")");
      }
      const HW span(spec->d.h * (spec->k.h - 1), spec->d.w * (spec->k.w - 1));
      if (span.h % 2 || span.w % 2) {
        Fail(at + ".p", "'same' needs an odd effective kernel d(k-1)+1 (it is " +
                            Text(HW(span.h + 1, span.w + 1)) + ")");
      }
      spec->p = HW(span.h / 2, span.w / 2);
    } else {
      spec->p = Pair(f, "p", at, 0, kMaxSide, &zero);
    }
    if (spec->kind == LayerKind::kConv) {
      if (f["groups"]) spec->groups = Int(f["groups"], at + ".groups", 1, kMaxChannels);
      return;
    }
    spec->output_padding = Pair(f, "output_padding", at, 0, kMaxSide, &zero);
    const HW& op = spec->output_padding;
    if ((op.h >= spec->s.h && op.h >= spec->d.h) || (op.w >= spec->s.w && op.w >= spec->d.w)) {
      Fail(at + ".output_padding", "value " + Text(op) +
                                       " is too large; allowed: smaller than the stride or "
                                       "the dilation (torch's rule)");
    }
  }

  void Pool(const YAML::Node& f, const std::string& at, LayerSpec* spec) const {
    const HW one = 1, zero = 0;
    spec->k = Pair(f, "k", at, 1, kMaxSide, nullptr);
    spec->s = Pair(f, "s", at, 1, kMaxSide, &spec->k);
    spec->p = Pair(f, "p", at, 0, kMaxSide, &zero);
    spec->d = Pair(f, "d", at, 1, kMaxSide, &one);
    spec->ceil = Bool(f, "ceil", at, false);
    if (spec->p.h > spec->k.h / 2 || spec->p.w > spec->k.w / 2) {
      Fail(at + ".p", "value " + Text(spec->p) + " is too large; allowed: at most k/2 = " +
                          Text(HW(spec->k.h / 2, spec->k.w / 2)) + " (torch's rule)");
    }
  }

  void Upsample(const YAML::Node& f, const std::string& at, LayerSpec* spec) const {
    if (f["factor"] && f["to"]) Fail(at, "give factor or to, not both");
    if (const YAML::Node n = f["factor"]) {
      double v = 0;
      try {
        v = n.as<double>();
      } catch (const YAML::Exception&) {
        Fail(at + ".factor", "value " + Show(n) + " is not a number");
      }
      if (!(v > 0) || !std::isfinite(v) || v > kMaxSide) {
        Fail(at + ".factor", "value " + Show(n) + " is out of range; allowed: > 0 and <= " +
                                 std::to_string(kMaxSide));
      }
      spec->factor = v;
    }
    if (const YAML::Node n = f["to"]) {
      if (!n.IsScalar() || n.Scalar() != "input") {
        Fail(at + ".to", "value " + Show(n) + " is not allowed; allowed: input");
      }
      spec->to_input = true;
    }
    if (const YAML::Node n = f["mode"]) {
      const std::string m = n.IsScalar() ? n.Scalar() : "";
      if (m == UpsampleModeText(UpsampleMode::kNearest)) {
        spec->mode = UpsampleMode::kNearest;
      } else if (m == UpsampleModeText(UpsampleMode::kBilinear)) {
        spec->mode = UpsampleMode::kBilinear;
      } else {
        Fail(at + ".mode", "value " + Show(n) + " is not allowed; allowed: nearest, bilinear");
      }
    }
  }

  static std::string Text(const HW& v) {
    return v.square() ? std::to_string(v.h)
                      : "[" + std::to_string(v.h) + ", " + std::to_string(v.w) + "]";
  }

  std::string key_;
  int counter_ = 0;
};

// Names are module names in the net and row names in theory: unique over the whole list.
void CheckUniqueNames(const std::vector<LayerSpec>& specs, const std::string& key,
                      std::map<std::string, std::string>* seen) {
  for (const LayerSpec& s : specs) {
    const auto [it, fresh] = seen->emplace(s.name, s.path);
    if (!fresh) {
      throw ConfigError(key, s.path + ": the name '" + s.name + "' is already used by " +
                                 it->second + "; names must be unique");
    }
    CheckUniqueNames(s.body, key, seen);
    CheckUniqueNames(s.shortcut, key, seen);
  }
}

}  // namespace

std::vector<LayerSpec> ParseLayerList(const YAML::Node& list, const std::string& key) {
  if (!list.IsDefined() || list.IsNull()) return {};
  std::vector<LayerSpec> specs;
  try {
    specs = Parser(key).List(list, key);
  } catch (const YAML::Exception& e) {  // a shape the checks above did not foresee
    throw ConfigError(key, std::string("cannot read the list: ") + e.what());
  }
  std::map<std::string, std::string> seen;
  CheckUniqueNames(specs, key, &seen);
  return specs;
}

int CountConvs(const std::vector<LayerSpec>& specs) {
  int n = 0;
  for (const LayerSpec& s : specs) {
    n += s.kind == LayerKind::kConv || s.kind == LayerKind::kConvTranspose;
    n += CountConvs(s.body) + CountConvs(s.shortcut);
  }
  return n;
}

}  // namespace rfx::nn
