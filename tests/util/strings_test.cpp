#include "rfx/util/strings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace rfx {
namespace {

TEST(StringsTest, JoinsWithTheSeparator) {
  EXPECT_EQ(Join({}), "");
  EXPECT_EQ(Join({"fcn"}), "fcn");
  EXPECT_EQ(Join({"fcn", "fcn_resnet50"}), "fcn, fcn_resnet50");
  EXPECT_EQ(Join({"a", "b", "c"}, " | "), "a | b | c");
  EXPECT_EQ(Join({"", ""}, "."), ".");
}

TEST(StringsTest, FormatNumberIsShortAndReadsBack) {
  EXPECT_EQ(FormatNumber(0), "0");
  EXPECT_EQ(FormatNumber(2), "2");
  EXPECT_EQ(FormatNumber(10), "10");  // not "1e+01" (the shortest %g that reads back)
  EXPECT_EQ(FormatNumber(-1200), "-1200");
  EXPECT_EQ(FormatNumber(1e15), "1e+15");
  EXPECT_EQ(FormatNumber(-2.5), "-2.5");
  EXPECT_EQ(FormatNumber(0.0003), "0.0003");
  EXPECT_EQ(FormatNumber(1.2), "1.2");
  EXPECT_EQ(FormatNumber(1e300), "1e+300");
  EXPECT_EQ(FormatNumber(123456789), "123456789");  // %g would say 1.23457e+08
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");        // rounding noise past 15 digits is hidden
  EXPECT_EQ(FormatNumber(1.0 / 3.0), "0.333333333333333");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatNumber(std::nan("")), "nan");
  for (double v : {3e-4, 1.8, 0.01, 4096.0, 3.14159265358979, 1e-45, -7e22}) {
    EXPECT_EQ(std::strtod(FormatNumber(v).c_str(), nullptr), v) << FormatNumber(v);
  }
}

}  // namespace
}  // namespace rfx
