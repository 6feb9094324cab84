// The fcn's skip variants (net.skip), their text in one place. Header-only, so that theory and
// the benchmarks name them without linking the nets.
#pragma once
#include <cstdint>
#include <string>

#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"

namespace rfx::nn {

// The input skip's 1×1 convs start at kSkipGain / n_in, n_in the channels they read (the
// paper's value): each starts as 0.9 × the mean of its input channels (docs/design.md#nets).
constexpr double kSkipGain = 0.9;
inline double SkipStartWeight(int64_t n_in) { return kSkipGain / static_cast<double>(n_in); }

enum class SkipKind {
  kNone,      // a plain stack
  kInput,     // the paper's input projection (1×1 chain of the raw input added every skip_step)
  kResidual,  // identity residual blocks of skip_step layers
};

inline const char* SkipKindText(SkipKind kind) {
  switch (kind) {
    case SkipKind::kNone:
      return "none";
    case SkipKind::kInput:
      return "input";
    case SkipKind::kResidual:
      return "residual";
  }
  return "none";
}

// The kind named `text`; ConfigError for `key` naming what is allowed otherwise.
inline SkipKind ParseSkipKind(const std::string& text, const std::string& key = "net.skip") {
  const auto kinds = {SkipKind::kNone, SkipKind::kInput, SkipKind::kResidual};
  if (auto kind = FindByText(kinds, SkipKindText, text)) return *kind;
  throw ConfigError(
      key, "value '" + text + "' is not allowed; allowed: " + TextList(kinds, SkipKindText));
}

}  // namespace rfx::nn
