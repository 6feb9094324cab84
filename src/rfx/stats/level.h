// The confidence level of every interval rfx reports: the d50s and exponents of a sweep, the
// adaptive rule's credible interval, the probes' bootstrap CIs (docs/statistics.md).
#pragma once

namespace rfx::stats {

constexpr double kCiLevel = 0.95;

}  // namespace rfx::stats
