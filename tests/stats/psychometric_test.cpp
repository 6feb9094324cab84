#include "rfx/stats/psychometric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "rfx/util/error.h"

namespace rfx::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// `n` trials at each distance of [lo, hi] with round(n·P) of them learned: data on which the
// ML estimate is (nearly) the truth.
void AddIdeal(std::vector<Trial>& out, int lo, int hi, int n, double d50, double slope,
              double lapse) {
  for (int d = lo; d <= hi; ++d) {
    const int k = static_cast<int>(std::lround(n * LearnProbability(d, d50, slope, lapse)));
    for (int i = 0; i < n; ++i) out.push_back({static_cast<double>(d), i < k});
  }
}

// Every distance of [lo, hi], `n` times, all learned or all not.
std::vector<Trial> Constant(int lo, int hi, int n, bool learned) {
  std::vector<Trial> t;
  for (int d = lo; d <= hi; ++d) {
    for (int i = 0; i < n; ++i) t.push_back({static_cast<double>(d), learned});
  }
  return t;
}

TEST(Psychometric, LogLikelihoodByHand) {
  const std::vector<Trial> t = {{8, true}, {10, false}, {14, true}};
  // d50 = 10, s = 2: z = 1, 0, −2. λ = 0.1: log(0.9·σ(1)) + log(1 − 0.45) + log(0.9·σ(−2)).
  EXPECT_NEAR(LogLikelihood(t, 10, 2, 0.1), -3.248747730632468, 1e-12);
  EXPECT_NEAR(LogLikelihood(t, 10, 2, 0.0), -3.1333368791211407, 1e-12);
  EXPECT_EQ(LogLikelihood({}, 10, 2, 0.1), 0.0);
  // A success where P = 0 is impossible.
  EXPECT_EQ(LogLikelihood({{5, true}}, -kInf, 1, 0.1), -kInf);
}

TEST(Psychometric, ProbabilityAndInformation) {
  EXPECT_NEAR(LearnProbability(7, 7, 1.5, 0.1), 0.45, 1e-15);
  EXPECT_NEAR(LearnProbability(0, 7, 1, 0), 1 / (1 + std::exp(-7.0)), 1e-15);
  // λ = 0: I = σ(1 − σ)/s², 0.25/s² at d50.
  EXPECT_NEAR(D50Information(7, 7, 2, 0), 0.25 / 4, 1e-15);
  const double p = 1 / (1 + std::exp(-1.0));
  EXPECT_NEAR(D50Information(5, 7, 2, 0), p * (1 - p) / 4, 1e-15);
  // A lapse lowers the information.
  EXPECT_LT(D50Information(5, 7, 2, 0.1), D50Information(5, 7, 2, 0));
}

TEST(Psychometric, NormalQuantile) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.001), -3.090232306167814, 1e-11);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-9);
  EXPECT_EQ(NormalQuantile(0.9), -NormalQuantile(1 - 0.9));
}

TEST(Psychometric, RecoversIdealData) {
  // Shared slope 1.5, lapse 0.05, 200 trials per distance.
  std::map<double, std::vector<Trial>> data;
  const std::map<double, double> truth = {{4, 6.0}, {9, 9.3}, {16, 12.7}};
  for (const auto& [depth, d50] : truth) AddIdeal(data[depth], 1, 20, 200, d50, 1.5, 0.05);
  const PsychometricFit fit = FitPsychometric(data);
  ASSERT_EQ(fit.depths.size(), 3u);
  EXPECT_NEAR(fit.slope, 1.5, 0.05);
  EXPECT_NEAR(fit.lapse, 0.05, 0.005);
  for (const DepthEstimate& e : fit.depths) {
    SCOPED_TRACE(e.depth);
    const double d50 = truth.at(e.depth);
    EXPECT_EQ(e.censored, Censoring::kNone);
    EXPECT_NEAR(e.d50, d50, 0.05);
    EXPECT_LT(e.ci_lo, d50);
    EXPECT_GT(e.ci_hi, d50);
    EXPECT_LT(e.ci_hi - e.ci_lo, 0.6);
    EXPECT_NEAR(e.se(), (e.ci_hi - e.ci_lo) / (2 * 1.959963984540054), 1e-12);
    EXPECT_EQ(e.trainings, 4000);
    EXPECT_EQ(e.slope, fit.slope);
    EXPECT_EQ(e.lapse, fit.lapse);
  }
  EXPECT_EQ(fit.d50_ml.size(), 3u);
  EXPECT_TRUE(std::isfinite(fit.log_likelihood));
}

TEST(Psychometric, PerDepthSlopes) {
  std::map<double, std::vector<Trial>> data;
  AddIdeal(data[2], 1, 20, 200, 7, 0.8, 0);
  AddIdeal(data[8], 1, 20, 200, 12, 2.5, 0);
  PsychometricOptions o;
  o.shared_slope = false;
  const PsychometricFit fit = FitPsychometric(data, o);
  EXPECT_TRUE(std::isnan(fit.slope));
  ASSERT_EQ(fit.depths.size(), 2u);
  EXPECT_NEAR(fit.depths[0].slope, 0.8, 0.05);
  EXPECT_NEAR(fit.depths[1].slope, 2.5, 0.1);
  EXPECT_NEAR(fit.depths[0].d50, 7, 0.05);
  EXPECT_NEAR(fit.depths[1].d50, 12, 0.1);
  EXPECT_LT(fit.depths[0].ci_lo, 7);
  EXPECT_GT(fit.depths[0].ci_hi, 7);
  EXPECT_LT(fit.lapse, 0.01);
}

TEST(Psychometric, NoLapseWhenDisabled) {
  std::map<double, std::vector<Trial>> data;
  AddIdeal(data[3], 1, 20, 50, 8, 1, 0.1);
  PsychometricOptions o;
  o.lapse_max = 0;
  const PsychometricFit fit = FitPsychometric(data, o);
  EXPECT_EQ(fit.lapse, 0.0);
  EXPECT_EQ(fit.depths.at(0).lapse, 0.0);
}

TEST(Psychometric, Censoring) {
  std::map<double, std::vector<Trial>> data;
  AddIdeal(data[4], 3, 17, 3, 8, 1, 0);
  AddIdeal(data[9], 3, 17, 3, 11, 1, 0);
  data[2] = Constant(3, 17, 3, true);    // learns every distance
  data[30] = Constant(3, 17, 3, false);  // learns none
  const PsychometricFit fit = FitPsychometric(data);
  ASSERT_EQ(fit.depths.size(), 4u);
  const DepthEstimate& above = fit.depths[0];
  EXPECT_EQ(above.censored, Censoring::kAbove);
  EXPECT_EQ(above.d50, 17);
  EXPECT_EQ(above.ci_hi, kInf);
  // The profile bound lies above 17 here (three successes at 17 say d50 > 17.3); the interval
  // reported still holds the bound.
  EXPECT_EQ(above.ci_lo, 17);
  EXPECT_EQ(above.se(), kInf);
  const DepthEstimate& below = fit.depths[3];
  EXPECT_EQ(below.censored, Censoring::kBelow);
  EXPECT_EQ(below.d50, 3);
  EXPECT_EQ(below.ci_lo, -kInf);
  EXPECT_EQ(below.ci_hi, 3);
  EXPECT_EQ(fit.depths[1].censored, Censoring::kNone);
  EXPECT_EQ(fit.depths[2].censored, Censoring::kNone);
  EXPECT_STREQ(CensoringText(Censoring::kAbove), "above");
  EXPECT_STREQ(CensoringText(Censoring::kBelow), "below");
  EXPECT_STREQ(CensoringText(Censoring::kNone), "");
  const nlohmann::json j = ToJson(above);
  EXPECT_EQ(j["censored"], "above");
  EXPECT_TRUE(j["ci"][1].is_null());
  EXPECT_EQ(j["ci"][0], above.ci_lo);
  EXPECT_TRUE(ToJson(fit.depths[1])["censored"].is_null());
  EXPECT_EQ(j["d50"], 17.0);
}

TEST(Psychometric, LapsesAreNotBelow) {
  // Depth 5 learns 9 of 10 at every distance; depth 6 fails once, at the smallest distance,
  // and learns everything else. Both see the whole range: the failures are lapses.
  std::map<double, std::vector<Trial>> data;
  AddIdeal(data[2], 3, 12, 10, 6, 1, 0.1);
  AddIdeal(data[3], 3, 12, 10, 8, 1, 0.1);
  AddIdeal(data[4], 3, 12, 10, 10, 1, 0.1);
  for (int d = 3; d <= 12; ++d) {
    for (int i = 0; i < 10; ++i) data[5].push_back({static_cast<double>(d), i != 0});
  }
  data[6] = Constant(3, 12, 3, true);
  data[6][0].learned = false;
  const PsychometricFit fit = FitPsychometric(data);
  EXPECT_GT(fit.lapse, 0.03);
  EXPECT_EQ(fit.depths[3].censored, Censoring::kAbove);
  EXPECT_EQ(fit.depths[4].censored, Censoring::kAbove);
  EXPECT_EQ(fit.depths[4].ci_hi, kInf);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fit.depths[i].censored, Censoring::kNone) << i;
}

TEST(Psychometric, WarmStartMatchesColdStart) {
  std::map<double, std::vector<Trial>> data;
  for (int depth = 2; depth <= 10; depth += 2) {
    AddIdeal(data[depth], 3, 17, 4, 3 * std::sqrt(depth), 1, 0.05);
  }
  PsychometricOptions o;
  o.intervals = false;
  const PsychometricFit cold = FitPsychometric(data, o);
  EXPECT_TRUE(std::isnan(cold.depths[0].ci_lo));
  EXPECT_TRUE(std::isnan(cold.depths[0].se()));
  // Start from a perturbed fit: the same optimum.
  PsychometricFit start = cold;
  start.slope *= 1.5, start.lapse = 0.15;
  for (double& d : start.d50_ml) d += 0.7;
  const PsychometricFit warm = FitPsychometric(data, o, start);
  EXPECT_NEAR(warm.slope, cold.slope, 1e-3);
  EXPECT_NEAR(warm.lapse, cold.lapse, 1e-3);
  for (size_t i = 0; i < cold.depths.size(); ++i) {
    EXPECT_NEAR(warm.depths[i].d50, cold.depths[i].d50, 1e-3) << i;
  }
}

TEST(Psychometric, EmptyAndBadInput) {
  EXPECT_TRUE(FitPsychometric({}).depths.empty());
  std::map<double, std::vector<Trial>> data;
  data[3] = {};
  EXPECT_TRUE(FitPsychometric(data).depths.empty());
  data[4] = {{std::nan(""), true}};
  EXPECT_THROW(FitPsychometric(data), UsageError);
}

TEST(Psychometric, Validate) {
  EXPECT_NO_THROW(PsychometricOptions().validate());
  auto expect_bad = [](PsychometricOptions o, const std::string& key) {
    try {
      o.validate();
      ADD_FAILURE() << "no error for " << key;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  PsychometricOptions o;
  o.ci_level = 1;
  expect_bad(o, "psychometric.ci_level");
  o.ci_level = std::nan("");
  expect_bad(o, "psychometric.ci_level");
  o = {};
  o.lapse_max = -0.1;
  expect_bad(o, "psychometric.lapse_max");
  o.lapse_max = 0.5;
  expect_bad(o, "psychometric.lapse_max");
  // FitPsychometric validates.
  EXPECT_THROW(FitPsychometric({}, o), UsageError);
}

}  // namespace
}  // namespace rfx::stats
