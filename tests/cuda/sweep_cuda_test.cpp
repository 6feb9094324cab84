// Two sweep workers sharing one CUDA device, through the real executable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cuda_test.h"
#include "rfx/sweep/store.h"
#include "rfx/util/files.h"

namespace rfx {
namespace {

class SweepCudaTest : public test::CudaTest {};

TEST_F(SweepCudaTest, TwoWorkersOnDeviceZero) {
  test::TempDir dir;
  const std::string out = dir / "s";
  const std::string sets =
      " --set sweep.mode=grid --set 'sweep.axes.net.depth=[2,3]'"
      " --set 'sweep.axes.dataset.distance=[4,5]' --set dataset.image_size=32"
      " --set dataset.glyph_scale=0.5 --set train.steps=40 --set train.batch_size=4"
      " --set train.eval_samples=16 --set train.threads=1 --set dataset.threads=1"
      " --set train.log_every=10 --set train.checkpoint_every=0 --set train.device=cuda";
  const auto r = test::RunCommand(test::RfxExe() + " sweep --out " + out +
                                  " --workers 2 --devices 0,0" + sets);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto recs = sweep::ReadRecords(out + "/results.jsonl");
  ASSERT_EQ(recs.size(), 4u) << r.out << r.err;
  std::set<std::string> cells;
  for (const auto& rec : recs) {
    cells.insert(rec["net.depth"].dump() + "/" + rec["dataset.distance"].dump());
    EXPECT_EQ(rec["status"], "ok") << rec.dump();
    EXPECT_EQ(rec["steps"], 40) << rec.dump();
    EXPECT_EQ(rec["device"], "cuda:0") << rec.dump();
  }
  EXPECT_EQ(cells.size(), 4u);
}

}  // namespace
}  // namespace rfx
