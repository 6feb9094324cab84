#include "rfx/stats/search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace rfx::stats {
namespace {

// ---- threshold search on a synthetic monotone oracle ----

TEST(FindThresholdTest, ExactOnEveryOutcomeInLogarithmicEvaluations) {
  for (int m : {1, 2, 3, 16, 42, 1000}) {
    const int bound = 2 * static_cast<int>(std::ceil(std::log2(m + 1))) + 2;
    for (int start : {0, m / 3, m - 1}) {
      for (int t = -1; t < m; ++t) {
        std::set<int> asked;
        int calls = 0;
        const int got = FindThreshold(m, start, [&](int i) {
          EXPECT_GE(i, 0);
          EXPECT_LT(i, m);
          asked.insert(i);
          ++calls;
          return i <= t;
        });
        ASSERT_EQ(got, t) << "m " << m << " start " << start;
        EXPECT_EQ(calls, static_cast<int>(asked.size())) << "no index asked twice";
        EXPECT_LE(calls, bound) << "m " << m << " start " << start << " t " << t;
      }
    }
  }
}

TEST(FindThresholdTest, SeesNothingAndSeesEverything) {
  int calls = 0;
  EXPECT_EQ(FindThreshold(42, 0, [&](int) { return ++calls, false; }), -1);
  EXPECT_EQ(calls, 1) << "from the smallest value, one failure settles 'sees nothing'";
  calls = 0;
  EXPECT_EQ(FindThreshold(42, 20, [&](int) { return ++calls, true; }), 41);
  EXPECT_LE(calls, 7);
  calls = 0;
  EXPECT_EQ(FindThreshold(42, 20, [&](int) { return ++calls, false; }), -1);
  EXPECT_LE(calls, 7);
  EXPECT_EQ(FindThreshold(0, 0, [](int) { return true; }), -1);
}

TEST(FindThresholdTest, StartingNearTheAnswerIsCheap) {
  // A deeper net's search starts one step past the shallower one's answer (20): a small step
  // costs few cells, far fewer than a search from scratch.
  EXPECT_EQ(SearchCost(42, 21, 20), 2);  // same threshold
  EXPECT_EQ(SearchCost(42, 21, 21), 2);  // one step further
  EXPECT_EQ(SearchCost(42, 21, 22), 3);
  EXPECT_LE(SearchCost(42, 21, 25), 7);
  EXPECT_GT(SearchCost(42, 0, 21), 2 * SearchCost(42, 21, 21));
}

TEST(ChainBoundTest, MatchesBruteForceOnSmallCases) {
  // Exhaustive worst case over every non-decreasing answer sequence.
  for (int m : {1, 3, 5}) {
    for (const std::vector<int>& groups :
         {std::vector<int>{1, 1, 1}, std::vector<int>{2, 1}, std::vector<int>{1, 2, 1}}) {
      int len = 0;
      for (int g : groups) len += g;
      int64_t worst = 0;
      std::vector<int> t(len, -1);
      while (true) {
        // cost of this sequence
        int64_t cost = 0;
        int pos = 0, hint = -1;
        for (int g : groups) {
          for (int j = 0; j < g; ++j) cost += SearchCost(m, std::min(hint + 1, m - 1), t[pos + j]);
          pos += g;
          hint = t[pos - 1];
        }
        worst = std::max(worst, cost);
        // next non-decreasing sequence in [-1, m)
        int i = len - 1;
        while (i >= 0 && t[i] == m - 1) --i;
        if (i < 0) break;
        ++t[i];
        for (int j = i + 1; j < len; ++j) t[j] = t[i];
      }
      EXPECT_EQ(ChainBound(m, groups), worst) << "m " << m;
    }
  }
}

TEST(ChainBoundTest, PaperRangesCostAtMostAFifthOfTheGrid) {
  // Depths 2..48 (47 searches), distances 7..48 (42 values): grid 1974 trainings.
  int64_t any = 0;
  const int64_t bound = ChainBound(42, std::vector<int>(47, 1), &any);
  EXPECT_LE(bound * 5, 47 * 42) << bound;
  EXPECT_GE(any, bound);
}

}  // namespace
}  // namespace rfx::stats
