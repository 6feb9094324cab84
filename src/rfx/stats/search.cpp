#include "rfx/stats/search.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <vector>

namespace rfx::stats {

int FindThreshold(int m, int start, const std::function<bool(int)>& sees) {
  if (m <= 0) return -1;
  const int s = std::clamp(start, 0, m - 1);
  int lo = -1, hi = m;  // sees(lo) true (or lo = -1), sees(hi) false (or hi = m)
  if (sees(s)) {
    lo = s;
    for (int k = 1;; ++k) {
      const long long step = 1LL << std::min(k - 1, 40);
      const int p = static_cast<int>(std::min<long long>(s + step, m - 1));
      if (p == lo) break;  // lo == m - 1: sees everything
      if (sees(p)) {
        lo = p;
      } else {
        hi = p;
        break;
      }
    }
    if (lo == m - 1) return lo;
  } else {
    hi = s;
    for (int k = 1;; ++k) {
      if (hi == 0) return -1;  // sees nothing
      const long long step = 1LL << std::min(k - 1, 40);
      const int p = static_cast<int>(std::max<long long>(s - step, 0));
      if (sees(p)) {
        lo = p;
        break;
      }
      hi = p;
    }
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    if (sees(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int SearchCost(int m, int start, int t) {
  std::set<int> asked;
  FindThreshold(m, start, [&](int i) {
    asked.insert(i);
    return i <= t;
  });
  return static_cast<int>(asked.size());
}

int64_t ChainBound(int m, const std::vector<int>& groups, int64_t* worst_any) {
  if (m <= 0) {
    if (worst_any) *worst_any = 0;
    return 0;
  }
  // Outcomes t in [-1, m); index t+1.
  const int n = m + 1;
  std::vector<std::vector<int>> cost(n, std::vector<int>(n));
  int worst_one = 0;
  for (int h = -1; h < m; ++h) {
    for (int t = -1; t < m; ++t) {
      cost[h + 1][t + 1] = SearchCost(m, std::min(h + 1, m - 1), t);
      worst_one = std::max(worst_one, cost[h + 1][t + 1]);
    }
  }
  int64_t searches = 0;
  for (int g : groups) searches += g;
  if (worst_any) *worst_any = searches * worst_one;
  constexpr int64_t kNeg = std::numeric_limits<int64_t>::min() / 4;
  // W[t]: worst total so far when the last search of the previous group answered t.
  // Before the first group the "answer" is -1 (start at index 0) and anything may follow.
  std::vector<int64_t> W(n, kNeg);
  W[0] = 0;
  bool first = true;
  for (int g : groups) {
    std::vector<int64_t> next(n, kNeg);
    for (int h = 0; h < n; ++h) {
      if (W[h] == kNeg) continue;
      // F[t]: worst cost of the group's searches so far, the last answering t; answers are
      // non-decreasing and (after the first group) at least h.
      const int lo = first ? 0 : h;
      std::vector<int64_t> F(n, kNeg);
      for (int t = lo; t < n; ++t) F[t] = cost[h][t];
      for (int j = 1; j < g; ++j) {
        std::vector<int64_t> G(n, kNeg);
        int64_t best = kNeg;
        for (int t = lo; t < n; ++t) {
          best = std::max(best, F[t]);
          if (best != kNeg) G[t] = best + cost[h][t];
        }
        F.swap(G);
      }
      for (int t = lo; t < n; ++t) {
        if (F[t] != kNeg) next[t] = std::max(next[t], W[h] + F[t]);
      }
    }
    W.swap(next);
    first = false;
  }
  int64_t worst = 0;
  for (int64_t w : W) worst = std::max(worst, w);
  return worst;
}

}  // namespace rfx::stats
