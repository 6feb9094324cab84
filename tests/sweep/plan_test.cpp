#include "rfx/sweep/plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "rfx/util/error.h"

namespace rfx::sweep {
namespace {

Config Sweep(const std::vector<std::string>& sets) {
  std::vector<std::string> all = {"sweep.axes={}"};
  all.insert(all.end(), sets.begin(), sets.end());
  return Config::Load("", all);
}

TEST(SweepOptionsTest, DefaultsWithAnAxisAreValid) {
  const Config c = Sweep({"sweep.axes.dataset.distance=[2,4,8]"});
  const SweepOptions o = SweepOptions::FromConfig(c);
  EXPECT_EQ(o.mode, SweepMode::kThreshold);
  ASSERT_EQ(o.axes.size(), 1u);
  EXPECT_EQ(o.axes[0].key, "dataset.distance");
  EXPECT_EQ(o.axes[0].values.size(), 3u);
  EXPECT_NO_THROW(o.validate());
}

TEST(SweepOptionsTest, RangeExpandsInclusive) {
  const Config c = Sweep({"sweep.axes.dataset.distance={from: 7, to: 48}",
                          "sweep.axes.net.depth={from: 2, to: 10, step: 4}"});
  const SweepOptions o = SweepOptions::FromConfig(c);
  ASSERT_EQ(o.axes.size(), 2u);
  EXPECT_EQ(o.axes[0].values.size(), 42u);
  EXPECT_EQ(o.axes[0].Text(0), "7");
  EXPECT_EQ(o.axes[0].Text(41), "48");
  ASSERT_EQ(o.axes[1].values.size(), 3u);
  EXPECT_EQ(o.axes[1].Text(2), "10");
}

// Regression: integer ranges went through doubles (9007199254740993 became ...992, a value
// near 2^63 became -2^63) and the count overflowed in the message.
TEST(SweepOptionsTest, IntegerRangesAreExactToTheLastInteger) {
  auto texts = [](const std::string& range) {
    std::vector<std::string> out;
    for (const YAML::Node& v : AxisValues("k", YAML::Load(range))) out.push_back(v.Scalar());
    return out;
  };
  EXPECT_EQ(texts("{from: 9007199254740993, to: 9007199254740997}"),
            (std::vector<std::string>{"9007199254740993", "9007199254740994", "9007199254740995",
                                      "9007199254740996", "9007199254740997"}));
  EXPECT_EQ(texts("{from: 9223372036854775800, to: 9223372036854775807, step: 5}"),
            (std::vector<std::string>{"9223372036854775800", "9223372036854775805"}));
  EXPECT_EQ(texts("{from: -9223372036854775808, to: -9223372036854775807}"),
            (std::vector<std::string>{"-9223372036854775808", "-9223372036854775807"}));
  EXPECT_EQ(texts("{from: 9007199254740993, to: 9007199254740993, step: 9223372036854775807}"),
            (std::vector<std::string>{"9007199254740993"}));
  auto error = [](const std::string& range) -> std::string {
    try {
      AxisValues("k", YAML::Load(range));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error("{from: -9223372036854775808, to: 9223372036854775807}")
                .find("range has 18446744073709551616 values; at most 100000"),
            std::string::npos);
  EXPECT_NE(
      error("{from: 0, to: 9223372036854775807}").find("range has 9223372036854775808 values"),
      std::string::npos);
  EXPECT_NE(error("{from: 9007199254740993, to: 9007199254740992}").find("must not exceed"),
            std::string::npos)
      << "equal as doubles, not as integers";
  EXPECT_NE(error("{from: 0, to: 1e300, step: 1e-300}").find("range has inf values"),
            std::string::npos);
  EXPECT_EQ(texts("{from: 0.5, to: 1.5, step: 0.5}"),
            (std::vector<std::string>{"0.5", "1", "1.5"}));
}

// Each bad config names the offending key in a ConfigError (exit 2 in the CLI).
void ExpectBad(const std::vector<std::string>& sets, const std::string& key,
               const std::string& words) {
  try {
    SweepOptions::FromConfig(Sweep(sets));
    ADD_FAILURE() << "no error for key " << key;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(SweepOptionsTest, BadConfigsNameTheKey) {
  ExpectBad({"sweep.axes.net.dept=[2,4]", "sweep.axes.dataset.distance=[1,2]"},
            "sweep.axes.net.dept", "unknown key");
  ExpectBad({"sweep.axes.net.depth=[]", "sweep.axes.dataset.distance=[1,2]"},
            "sweep.axes.net.depth", "empty");
  ExpectBad({"sweep.axes.dataset.distance={from: 9, to: 3}"}, "sweep.axes.dataset.distance",
            "from 9 > to 3");
  ExpectBad({"sweep.axes.net.depth=[2,4]"}, "sweep.threshold.axis", "not one of the sweep axes");
  ExpectBad({"sweep.axes.net.depth=[2,x]", "sweep.mode=grid"}, "sweep.axes.net.depth",
            "expected an integer");
  ExpectBad({"sweep.axes.dataset.distance=[4,2]"}, "sweep.axes.dataset.distance", "increase");
  ExpectBad({"sweep.axes.dataset.distance=[1]", "sweep.mode=random"}, "sweep.mode", "random");
  ExpectBad({"sweep.axes.dataset.distance=[1]", "sweep.repeats=0"}, "sweep.repeats", ">= 1");
  ExpectBad({}, "sweep.axes", "no axes");
}

TEST(PlanTest, GridSizeIsTheProductOfTheAxes) {
  const Plan plan(Sweep({"sweep.mode=grid", "sweep.axes.net.depth=[2,4,6]",
                         "sweep.axes.dataset.distance={from: 1, to: 16}",
                         "sweep.axes.net.skip=[none, input]"}));
  EXPECT_EQ(plan.GridSize(), 3 * 16 * 2);
  const auto cells = plan.GridCells();
  ASSERT_EQ(cells.size(), 96u);
  std::set<Cell> distinct(cells.begin(), cells.end());
  EXPECT_EQ(distinct.size(), 96u);
  std::set<std::string> keys;
  for (const auto& c : cells) keys.insert(plan.CellKey(c, 0));
  EXPECT_EQ(keys.size(), 96u) << "every cell has its own key";
}

TEST(PlanTest, CellConfigSetsAxesAndSeed) {
  const Plan plan(Sweep({"sweep.mode=grid", "sweep.axes.net.depth=[2,8]",
                         "sweep.axes.dataset.distance=[3,5]", "train.seed=10", "sweep.repeats=2"}));
  const Config c = plan.CellConfig({1, 0}, 1);
  EXPECT_EQ(c.GetInt("net.depth"), 8);
  EXPECT_EQ(c.GetInt("dataset.distance"), 3);
  EXPECT_EQ(c.GetInt("train.seed"), 11);
  EXPECT_EQ(c.GetString("sweep.mode"), "threshold") << "sweep section reset to defaults";
  EXPECT_NE(plan.CellKey({1, 0}, 0), plan.CellKey({1, 0}, 1));
}

// Regression: a train.seed axis sets the cell's seed; the repeats offset it, and every
// (cell, repeat) trains its own seed under its own key.
TEST(PlanTest, SeedAxisChoosesTheSeedAndRepeatsOffsetIt) {
  const Plan plan(Sweep(
      {"sweep.mode=grid", "sweep.axes.train.seed=[5, 9]", "sweep.repeats=2", "train.seed=100"}));
  std::set<int64_t> seeds;
  std::set<std::string> keys;
  for (const Cell& cell : plan.GridCells()) {
    for (int r = 0; r < 2; ++r) {
      const int64_t trained = plan.CellConfig(cell, r).GetInt("train.seed");
      EXPECT_EQ(static_cast<uint64_t>(trained), plan.Seed(cell, r));
      seeds.insert(trained);
      keys.insert(plan.CellKey(cell, r));
    }
  }
  EXPECT_EQ(seeds, (std::set<int64_t>{5, 6, 9, 10}));
  EXPECT_EQ(keys.size(), 4u);
}

TEST(PlanTest, SeedsThatTwoCellsWouldShareAreRefused) {
  auto error = [](const std::vector<std::string>& sets) -> std::string {
    try {
      Plan plan(Sweep(sets));
    } catch (const ConfigError& e) {
      return e.key() + ": " + e.what();
    }
    return "";
  };
  // [5, 6] with 2 repeats: repeat 1 of seed 5 is seed 6's repeat 0.
  const std::string close =
      error({"sweep.mode=grid", "sweep.axes.train.seed=[5, 6]", "sweep.repeats=2"});
  EXPECT_NE(close.find("sweep.axes.train.seed"), std::string::npos) << close;
  EXPECT_NE(close.find("values 5 and 6 are closer than sweep.repeats=2"), std::string::npos)
      << close;
  // Adaptive mode gives every training of a distance the next seed.
  const std::string adaptive = error(
      {"sweep.mode=adaptive", "sweep.axes.train.seed=[0, 10]", "sweep.axes.dataset.distance=[2, 4]",
       "sweep.adaptive.max_trainings=20", "sweep.adaptive.min_trainings=4"});
  EXPECT_NE(adaptive.find("closer than sweep.adaptive.max_trainings=20"), std::string::npos)
      << adaptive;
  EXPECT_EQ(error({"sweep.mode=grid", "sweep.axes.train.seed=[5, 7]", "sweep.repeats=2"}), "");
  // Seeds past 2^63 - 1 (a repeat of the largest seed) and negative ones.
  const std::string top = error({"sweep.mode=grid", "sweep.axes.net.depth=[2]",
                                 "train.seed=9223372036854775807", "sweep.repeats=2"});
  EXPECT_NE(top.find("train.seed: "), std::string::npos) << top;
  EXPECT_NE(top.find("allowed 0..9223372036854775806"), std::string::npos) << top;
  const std::string negative = error({"sweep.mode=grid", "sweep.axes.train.seed=[-1, 3]"});
  EXPECT_NE(negative.find("seed -1 is out of range"), std::string::npos) << negative;
}

TEST(SweepOptionsTest, AValueGivenTwiceIsRefused) {
  ExpectBad({"sweep.mode=grid", "sweep.axes.net.depth=[4, 2, 4]"}, "sweep.axes.net.depth",
            "value '4' is given twice");
  ExpectBad({"sweep.mode=grid", "sweep.axes.train.lr=[0.1, 0.10]"}, "sweep.axes.train.lr",
            "value '0.10' is given twice");
  ExpectBad({"sweep.mode=grid", "sweep.axes.net.skip=[none, input, none]"}, "sweep.axes.net.skip",
            "value 'none' is given twice");
  // Integers a double cannot tell apart are two values.
  EXPECT_NO_THROW(SweepOptions::FromConfig(
      Sweep({"sweep.mode=grid", "sweep.axes.train.seed=[9007199254740992, 9007199254740993]"})));
}

TEST(PlanTest, KeyIgnoresThreadsButNotResultKeys) {
  const auto sets =
      std::vector<std::string>{"sweep.axes.net.depth=[2,8]", "sweep.axes.dataset.distance=[3,5]"};
  auto with = [&](const std::string& extra) {
    auto s = sets;
    s.push_back(extra);
    return Plan(Sweep(s)).CellKey({0, 1}, 0);
  };
  const std::string base = Plan(Sweep(sets)).CellKey({0, 1}, 0);
  EXPECT_EQ(with("train.threads=3"), base);
  EXPECT_EQ(with("train.erf_every=10"), base);
  EXPECT_EQ(with("train.erf_samples=4"), base);
  EXPECT_EQ(with("sweep.threshold.accuracy=0.8"), base);
  EXPECT_EQ(with("sweep.axes.net.depth=[2,8,16]"), base) << "extending an axis keeps old keys";
  EXPECT_NE(with("train.steps=10"), base);
  EXPECT_NE(with("net.width=8"), base);
}

// Keys added after sweeps were first written (train.freeze, train.erf_*) leave the cell keys of
// a config that does not use them as they were: the key below is what rfx fcdd479 (before those
// keys) wrote for this cell (`rfx sweep` with these --set flags, results.jsonl).
TEST(PlanTest, KeysOfConfigsWithoutLateKeysAreThoseOfTheReleaseBeforeThem) {
  const Config c = Config::Load(
      "", {"sweep.mode=grid", "sweep.axes.net.depth=[2]", "sweep.axes.dataset.distance=[7]",
           "train.steps=1", "train.eval_samples=8", "dataset.image_size=24", "train.device=cpu"});
  const std::string key = Plan(c).CellKey({0, 0}, 0);
  EXPECT_EQ(key, "983ee9d236ee8fd7");
  Config frozen = c;
  frozen.ApplySet("train.freeze=[0]");
  EXPECT_NE(Plan(frozen).CellKey({0, 0}, 0), key) << "a frozen layer trains another net";
  Config empty = c;
  empty.ApplySet("train.freeze=[]");
  EXPECT_EQ(Plan(empty).CellKey({0, 0}, 0), key) << "the default written out";
}

TEST(PlanTest, SearchesFormChainsAlongDepth) {
  const Plan plan(Sweep({"sweep.axes.dataset.distance={from: 1, to: 16}",
                         "sweep.axes.net.skip=[none, input]", "sweep.axes.net.depth=[2,4,6]"}));
  EXPECT_EQ(plan.axes()[plan.chain_axis_index()].key, "net.depth");
  const auto s = plan.Searches();
  ASSERT_EQ(s.size(), 6u);
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].chain, static_cast<int>(i / 3));
    EXPECT_EQ(s[i].position, static_cast<int>(i % 3));
    EXPECT_EQ(s[i].outer[0], -1);
    EXPECT_EQ(s[i].outer[2], static_cast<int>(i % 3));
    EXPECT_EQ(s[i].outer[1], static_cast<int>(i / 3));
  }
}

TEST(PlanTest, ShardsPartitionExactly) {
  const Plan plan(Sweep({"sweep.mode=grid", "sweep.axes.net.depth={from: 2, to: 12}",
                         "sweep.axes.dataset.distance={from: 1, to: 7}"}));
  const int64_t n = plan.GridSize();
  for (int count : {1, 2, 3, 7, 100}) {
    std::vector<int> owners(n, 0);
    for (int shard = 1; shard <= count; ++shard) {
      for (int64_t i = 0; i < n; ++i) owners[i] += Plan::InShard(i, shard, count) ? 1 : 0;
    }
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(owners[i], 1) << "item " << i << " of " << count;
  }
}

}  // namespace
}  // namespace rfx::sweep
