// The activations of the nets (net.activation, the layer list's `activation` items), their
// text in one place. Header-only and torch-free, so theory and the config code name them
// without linking the nets; Activate() (net.h) applies one.
#pragma once
#include <string>
#include <vector>

#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"

namespace rfx::nn {

enum class Activation { kRelu, kGelu, kElu, kSelu, kTanh, kIdentity };

inline const char* ActivationText(Activation a) {
  switch (a) {
    case Activation::kRelu:
      return "relu";
    case Activation::kGelu:
      return "gelu";
    case Activation::kElu:
      return "elu";
    case Activation::kSelu:
      return "selu";
    case Activation::kTanh:
      return "tanh";
    case Activation::kIdentity:
      return "identity";
  }
  return "relu";
}

// Every activation; net.activation allows all but the identity (an fcn without activations
// is `rfx probe forward --linear`).
inline std::vector<Activation> Activations(bool with_identity) {
  std::vector<Activation> all = {Activation::kRelu, Activation::kGelu, Activation::kElu,
                                 Activation::kSelu, Activation::kTanh};
  if (with_identity) all.push_back(Activation::kIdentity);
  return all;
}

inline std::string ActivationList(bool with_identity) {
  return TextList(Activations(with_identity), ActivationText);
}

// The activation named `text`; ConfigError for `key` naming what is allowed otherwise.
inline Activation ParseActivation(const std::string& text, const std::string& key,
                                  bool with_identity) {
  if (auto a = FindByText(Activations(with_identity), ActivationText, text)) return *a;
  throw ConfigError(
      key, "value '" + text + "' is not allowed; allowed: " + ActivationList(with_identity));
}

}  // namespace rfx::nn
