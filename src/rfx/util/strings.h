// Small text helpers shared by every component's messages: one place each.
#pragma once
#include <string>
#include <vector>

namespace rfx {

// "a, b, c" (parts joined by `sep`; "" for none).
std::string Join(const std::vector<std::string>& parts, const std::string& sep = ", ");

// A number as a person would write it in a message: the shortest "%g"-style text (at most 15
// significant digits) that reads back as the same double, so 0.0003 stays "0.0003", 1e300 is
// "1e+300", 2 is "2", and a sum like 0.1 + 0.2 shows as "0.3". Non-finite: "inf", "-inf", "nan".
std::string FormatNumber(double value);

}  // namespace rfx
