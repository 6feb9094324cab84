#include "rfx/util/strings.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace rfx {

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) s += sep;
    s += parts[i];
  }
  return s;
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // 15 significant digits hold any decimal a person typed with up to 15 digits exactly; past
  // that a double's last bits are rounding noise that a message should not show.
  constexpr int kMaxDigits = 15;
  char buf[32];
  // %g switches to an exponent when the exponent reaches the precision: 10 at one digit is
  // "1e+01". Below 10^15 print at least as many digits as the integer part has.
  const int exponent = value == 0 ? 0 : static_cast<int>(std::floor(std::log10(std::abs(value))));
  for (int digits = 1; digits <= kMaxDigits; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, value);
    if (std::strtod(buf, nullptr) != value) continue;
    if (exponent >= digits && exponent < kMaxDigits) {
      std::snprintf(buf, sizeof buf, "%.*g", exponent + 1, value);
    }
    return buf;
  }
  return buf;  // the 15-digit text
}

}  // namespace rfx
