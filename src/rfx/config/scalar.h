// How the config reads scalar text: the kind of a default's value (which fixes the kind every
// value of that key must have) and strict whole-string parses. Internal to src/rfx/config.
#pragma once
#include <string>

namespace rfx::config_detail {

enum class ScalarKind { kBool, kInt, kDouble, kString };

// true/True/TRUE/yes/on, false/False/FALSE/no/off.
bool ParseBool(const std::string& text, bool* out);
// A whole string as a base-10 64-bit integer; false on junk or overflow.
bool ParseInt(const std::string& text, long long* out);
// A whole string as a double (strtod syntax); false on junk or a value out of range.
bool ParseDouble(const std::string& text, double* out);

// The first of bool, int, double that parses `text`, else string.
ScalarKind KindOf(const std::string& text);
// "an integer", "a number", ...
const char* KindName(ScalarKind kind);

// Why `text` is not a value of `kind`, "" when it is: "expected an integer, got 'many'", or,
// for a number too large for its type, "value 1e999 is out of the range of a double; ...".
std::string ScalarProblem(ScalarKind kind, const std::string& text);

}  // namespace rfx::config_detail
