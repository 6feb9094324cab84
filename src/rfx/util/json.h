// JSON helpers shared by every component's result files: one place each.
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>

namespace rfx {

// A double as JSON: the number when finite, null otherwise (JSON has no inf or NaN, and a
// missing estimate must read back as "none", not as a number).
inline nlohmann::json FiniteOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace rfx
