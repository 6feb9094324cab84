#include "rfx/config/scalar.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace rfx::config_detail {
namespace {

// Whole-string base-10 integer syntax ("-12", "+3"), whatever its size.
bool LooksInteger(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// A whole-string number that a double cannot hold ("1e999", "1e-999"; strtod says ERANGE).
bool OutOfDoubleRange(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  std::strtod(s.c_str(), &end);
  return *end == '\0' && errno == ERANGE;
}

}  // namespace

bool ParseBool(const std::string& s, bool* out) {
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") {
    if (out) *out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") {
    if (out) *out = false;
    return true;
  }
  return false;
}

bool ParseInt(const std::string& s, long long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  if (out) *out = v;
  return true;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0') return false;
  if (out) *out = v;
  return true;
}

ScalarKind KindOf(const std::string& s) {
  if (ParseBool(s, nullptr)) return ScalarKind::kBool;
  if (ParseInt(s, nullptr)) return ScalarKind::kInt;
  if (ParseDouble(s, nullptr)) return ScalarKind::kDouble;
  return ScalarKind::kString;
}

const char* KindName(ScalarKind k) {
  switch (k) {
    case ScalarKind::kBool:
      return "a boolean (true/false)";
    case ScalarKind::kInt:
      return "an integer";
    case ScalarKind::kDouble:
      return "a number";
    case ScalarKind::kString:
      return "a string";
  }
  return "?";
}

std::string ScalarProblem(ScalarKind kind, const std::string& text) {
  bool fits = true;
  switch (kind) {
    case ScalarKind::kBool:
      fits = ParseBool(text, nullptr);
      break;
    case ScalarKind::kInt:
      if (LooksInteger(text) && !ParseInt(text, nullptr)) {
        return "value " + text + " is out of the range of a 64-bit integer; allowed " +
               std::to_string(INT64_MIN) + ".." + std::to_string(INT64_MAX);
      }
      fits = ParseInt(text, nullptr);
      break;
    case ScalarKind::kDouble:
      if (OutOfDoubleRange(text)) {
        return "value " + text +
               " is out of the range of a double; allowed: magnitudes 2.2e-308 to 1.8e+308, "
               "or 0";
      }
      fits = ParseDouble(text, nullptr);
      break;
    case ScalarKind::kString:
      break;
  }
  if (fits) return "";
  return "expected " + std::string(KindName(kind)) + ", got '" + text + "'";
}

}  // namespace rfx::config_detail
