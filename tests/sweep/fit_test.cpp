#include "rfx/sweep/fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "rfx/util/error.h"

namespace rfx::sweep {
namespace {

using nlohmann::json;

json Record(int depth, int distance, const std::string& status, double accuracy,
            json learned_at = nullptr) {
  json r = {{"net.depth", depth},
            {"dataset.distance", distance},
            {"status", status},
            {"accuracy", accuracy},
            {"key", std::to_string(depth) + "-" + std::to_string(distance)}};
  if (learned_at.is_number() || learned_at.is_string()) {
    r["check_every"] = 100;
    r["learned_at"] = learned_at.is_number() ? learned_at : json(nullptr);
  }
  return r;
}

TEST(FitOutcomesTest, FailedTrainingsAreNotOutcomesAndAreCounted) {
  const std::vector<json> recs = {Record(4, 7, "ok", 0.95), Record(4, 8, "failed", 0.0),
                                  Record(4, 9, "diverged", 0.0), Record(4, 10, "ok", 0.5)};
  int failed = -1, unchecked = -1;
  const auto out =
      Outcomes(recs, "net.depth", "dataset.distance", 0.9, 0, json::object(), &failed, &unchecked);
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(unchecked, 0);
  ASSERT_EQ(out.at(4).size(), 3u);
  EXPECT_TRUE(out.at(4)[0].learned);
  EXPECT_EQ(out.at(4)[1].distance, 9);
  EXPECT_FALSE(out.at(4)[1].learned) << "diverged is an outcome: not learned";
  EXPECT_FALSE(out.at(4)[2].learned);
}

TEST(FitOutcomesTest, ABudgetCountsOnlyWhatWasLearnedByThen) {
  const std::vector<json> recs = {Record(4, 7, "ok", 0.95, 300), Record(4, 8, "ok", 0.95, 2400),
                                  Record(4, 9, "ok", 0.5, "never"),
                                  Record(4, 10, "ok", 0.95)};  // no checks
  int failed = 0, unchecked = 0;
  const auto out = Outcomes(recs, "net.depth", "dataset.distance", 0.9, 1000, json::object(),
                            &failed, &unchecked);
  EXPECT_EQ(unchecked, 1);
  ASSERT_EQ(out.at(4).size(), 3u);
  EXPECT_TRUE(out.at(4)[0].learned);
  EXPECT_FALSE(out.at(4)[1].learned) << "learned at 2400 > budget 1000";
  EXPECT_FALSE(out.at(4)[2].learned);
  // Without a budget the late learner counts.
  const auto all =
      Outcomes(recs, "net.depth", "dataset.distance", 0.9, 0, json::object(), &failed, &unchecked);
  EXPECT_TRUE(all.at(4)[1].learned);
  EXPECT_EQ(all.at(4).size(), 4u);
}

TEST(FitOutcomesTest, FixedAxesSelectTheirGroup) {
  std::vector<json> recs = {Record(4, 7, "ok", 0.95), Record(4, 7, "ok", 0.2)};
  recs[0]["net.width"] = 8;
  recs[1]["net.width"] = 32;
  const auto out = Outcomes(recs, "net.depth", "dataset.distance", 0.9, 0, {{"net.width", 32}},
                            nullptr, nullptr);
  ASSERT_EQ(out.at(4).size(), 1u);
  EXPECT_FALSE(out.at(4)[0].learned);
}

TEST(FitOptionsTest, BadLevelsAndBudgetsAreUsageErrors) {
  FitOptions o;
  EXPECT_NO_THROW(o.validate());
  o.sweep_level = false;
  for (double bad : {-0.5, 0.0, 1.5, std::nan("")}) {
    o.level = bad;
    EXPECT_THROW(o.validate(), UsageError) << bad;
  }
  o.level = 0.9;
  o.budget = -5;
  EXPECT_THROW(o.validate(), UsageError);
}

}  // namespace
}  // namespace rfx::sweep
