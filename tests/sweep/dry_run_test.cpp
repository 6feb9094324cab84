// The measured time estimate behind `rfx sweep --dry-run`: real (tiny) trainings.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/sweep/train_eval.h"

namespace rfx::sweep {
namespace {

// One cell of a tiny net on a 32² canvas, 40 steps; `extra` adds --set pairs.
Config OneCell(std::vector<std::string> extra) {
  std::vector<std::string> sets = {
      "sweep.mode=grid",       "sweep.axes.net.depth=[2]", "sweep.axes.dataset.distance=[8]",
      "net.width=4",           "dataset.image_size=32",    "train.steps=40",
      "train.eval_samples=16", "train.early_stop.every=0", "train.erf_every=0"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return Config::Load("", sets);
}

TEST(DryRunTest, TheEstimateCountsEarlyStoppingChecksAndErfSnapshots) {
  // 20 checks of 512 samples (or 20 snapshots of 256) cost far more than 40 steps of 8: an
  // estimate that left them out (as it did) stays near the plain one.
  // Each estimate is the faster of two (another process on the machine only adds time: one
  // slowed plain estimate made this fail beside a build).
  auto best = [](const Config& c) {
    return std::min(MeasureCellSeconds(c), MeasureCellSeconds(c));
  };
  const double plain = best(OneCell({}));
  ASSERT_GT(plain, 0);
  const double checked =
      best(OneCell({"train.early_stop.every=2", "train.early_stop.samples=512"}));
  EXPECT_GT(checked, 2 * plain) << "plain " << plain << " s, with checks " << checked << " s";
  const double snapped = best(OneCell({"train.erf_every=2", "train.erf_samples=256"}));
  EXPECT_GT(snapped, 2 * plain) << "plain " << plain << " s, with snapshots " << snapped << " s";
}

}  // namespace
}  // namespace rfx::sweep
