// Threshold search along a monotone axis: how far a depth sees, found with few trainings
// (sweep.mode threshold), and the worst-case cost of a chain of such searches. Pure math, no
// torch.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace rfx::stats {

// Finds the largest index t in [-1, m) with sees(i) true for all i <= t, assuming sees is
// monotone (true up to t, false after). Gallops from `start` (clamped to [0, m)) outward in
// steps 1, 2, 4, ... then bisects the bracket. -1 = sees nothing, m-1 = sees everything.
// Each index is asked at most once.
int FindThreshold(int m, int start, const std::function<bool(int)>& sees);

// Number of distinct indices FindThreshold asks when the true answer is `t` and it starts at
// `start`.
int SearchCost(int m, int start, int t);

// Worst-case number of cell evaluations of a chain of searches over `m` values, where the
// searches are run in `groups` (consecutive sizes, summing to the chain length); every search
// of a group starts one step past the answer t of the last search of the previous group (index
// t + 1: "does the deeper net see one step further?"; the first group starts at index 0). Assumes
// the answers do not decrease along the chain (a deeper net sees at least as far); `worst_any` (if
// given) receives the bound without that assumption.
int64_t ChainBound(int m, const std::vector<int>& groups, int64_t* worst_any = nullptr);

}  // namespace rfx::stats
