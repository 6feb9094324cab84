// `rfx slurm --submit` on a real Slurm: a private one-node cluster (munged, slurmctld, slurmd)
// started by scripts/slurm_local.sh for this test, a tiny real sweep in two array tasks, the
// merge job after them; then the same sweep run locally must give the same records, and a
// resubmission must train nothing again.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "rfx/sweep/store.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

const std::string kRfx = rfx::test::RfxExe();
const std::string kScript = std::string(rfx::test::SourceDir()) + "/scripts/slurm_local.sh";
const std::string kSweep =
    " --set sweep.mode=grid --set 'sweep.axes.net.depth=[1,6]'"
    " --set 'sweep.axes.dataset.distance=[7,9]' --set dataset.image_size=32"
    " --set train.steps=40 --set train.eval_samples=32 --set train.threads=1"
    " --set dataset.threads=1 --set train.device=cpu";

class LocalSlurm {
 public:
  explicit LocalSlurm(const std::string& dir) : dir_(dir) {
    const auto r = test::RunCommand(kScript + " start " + dir_);
    started_ = r.exit_code == 0;
    error_ = r.err;
    env_ = "SLURM_CONF=" + dir_ + "/slurm.conf ";
  }
  ~LocalSlurm() { test::RunCommand(kScript + " stop " + dir_); }
  bool started() const { return started_; }
  const std::string& error() const { return error_; }
  // A command line run against this cluster.
  std::string With(const std::string& cmd) const { return env_ + cmd; }

  // Waits until none of `jobs` is queued or running.
  bool WaitFor(const std::string& jobs, int seconds) const {
    for (int i = 0; i < seconds * 5; ++i) {
      const auto q = test::RunCommand(With("squeue -h -j " + jobs));
      if (q.exit_code == 0 && q.out.empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

 private:
  std::string dir_, env_, error_;
  bool started_ = false;
};

std::map<std::string, nlohmann::json> ByKey(const std::string& dir) {
  std::map<std::string, nlohmann::json> m;
  for (auto& r : sweep::ReadDirRecords(dir)) m[r["key"].get<std::string>()] = r;
  return m;
}

// A private cluster per test and a sweep directory on it.
class SlurmCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "the private Slurm daemons need root: run the tests as root (CI does)";
    }
    slurm_ = std::make_unique<LocalSlurm>(tmp_ / "cluster");
    ASSERT_TRUE(slurm_->started()) << slurm_->error();
  }

  struct Jobs {
    std::string array, merge;
    std::string both() const { return array + "," + merge; }
  };
  // `rfx slurm --submit` of `sweep` in 2 shards into sw_.
  Jobs Submit(const std::string& sweep, const std::string& sbatch = "") {
    const auto r = test::RunCommand(slurm_->With(kRfx + " slurm --out " + sw_ + " --shards 2" +
                                                 sweep + " --submit --json" + sbatch));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["shards"], 2);
    return {j["array_job"].get<std::string>(), j["merge_job"].get<std::string>()};
  }

  // The same sweep in one local process gives the same cells with the same numbers.
  void ExpectSameAsLocal(const std::string& sweep, size_t cells) {
    const auto local = test::RunCommand(kRfx + " sweep --out " + tmp_ / "local" + sweep);
    ASSERT_EQ(local.exit_code, 0) << local.err;
    const auto a = ByKey(sw_), b = ByKey(tmp_ / "local");
    ASSERT_EQ(b.size(), cells);
    ASSERT_EQ(a.size(), cells);
    for (const auto& [key, rec] : b) {
      ASSERT_TRUE(a.count(key)) << key;
      EXPECT_EQ(a.at(key)["accuracy"], rec["accuracy"]) << key;
      EXPECT_EQ(a.at(key)["loss"], rec["loss"]) << key;
      EXPECT_EQ(a.at(key)["status"], "ok") << key;
    }
  }

  test::TempDir tmp_;
  std::unique_ptr<LocalSlurm> slurm_;
  const std::string sw_ = tmp_ / "sw";
};

TEST_F(SlurmCliTest, ShardsMergeToTheLocalSweepAndResubmittingResumes) {
  const Jobs first = Submit(kSweep, " -- --time=00:10:00");
  ASSERT_TRUE(slurm_->WaitFor(first.both(), 300)) << "jobs still queued after 300 s";
  ASSERT_TRUE(FileExists(sw_ + "/fit.json")) << ReadFile(sw_ + "/slurm/merge.log");
  EXPECT_EQ(ReadCompleteLines(sw_ + "/shard-1-of-2.jsonl").size(), 2u);
  EXPECT_EQ(ReadCompleteLines(sw_ + "/shard-2-of-2.jsonl").size(), 2u);
  EXPECT_EQ(ReadCompleteLines(sw_ + "/results.jsonl").size(), 4u);
  const auto fit = nlohmann::json::parse(ReadFile(sw_ + "/fit.json"));
  EXPECT_EQ(fit["thresholds"].size(), 2u);
  ExpectSameAsLocal(kSweep, 4);

  // Resubmitting resumes: the shards find their cells done, the merge adds nothing.
  const std::string before = ReadFile(sw_ + "/results.jsonl");
  ASSERT_TRUE(slurm_->WaitFor(Submit(kSweep).both(), 300));
  EXPECT_EQ(ReadFile(sw_ + "/results.jsonl"), before);
  EXPECT_EQ(ReadCompleteLines(sw_ + "/slurm/jobs.jsonl").size(), 2u);
  const std::string log1 = ReadFile(sw_ + "/slurm/shard-1-of-2.log");
  EXPECT_NE(log1.find("2 trainings run, 0 reused"), std::string::npos) << log1;
  EXPECT_NE(log1.find("0 trainings run, 2 reused"), std::string::npos) << log1;
}

// scancel in the middle (Slurm's SIGTERM, then SIGKILL): resubmitting finishes the sweep with
// every cell exactly once and the numbers of an uninterrupted local run.
TEST_F(SlurmCliTest, ACancelledArrayResumesWithoutLossOrDuplicates) {
  const std::string sweep = kSweep + " --set train.steps=400 --set 'sweep.axes.net.depth=[1,6,8]'";
  const Jobs first = Submit(sweep);
  // Cancel once the first cell is on disk and before the last.
  bool some = false;
  for (int i = 0; i < 600 && !some; ++i) {
    some = !sweep::ReadDirRecords(sw_).empty();
    if (!some) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(some) << "no cell finished within 60 s";
  ASSERT_EQ(test::RunCommand(slurm_->With("scancel " + first.array)).exit_code, 0);
  ASSERT_TRUE(slurm_->WaitFor(first.both(), 120));
  const size_t cut = sweep::ReadDirRecords(sw_).size();
  EXPECT_LT(cut, 6u) << "the cancel came too late to test anything";
  std::printf("cancelled with %zu of 6 cells on disk\n", cut);

  ASSERT_TRUE(slurm_->WaitFor(Submit(sweep).both(), 300));
  ExpectSameAsLocal(sweep, 6);
  // On disk: each key once in the merged file and once across the shard files.
  EXPECT_EQ(sweep::ReadRecords(sw_ + "/results.jsonl").size(), 6u);
  EXPECT_EQ(sweep::ReadRecords(sw_ + "/shard-1-of-2.jsonl").size() +
                sweep::ReadRecords(sw_ + "/shard-2-of-2.jsonl").size(),
            6u);
}

// A cluster that cannot start (a real fault: another process holds slurmctld's port) fails with
// exit 1 and shows the last lines of each daemon's log. The old `tail -5 FILE FILE` showed
// nothing on coreutils 9 ("option used in invalid context").
TEST(SlurmCli, AClusterThatCannotStartShowsEachLog) {
  if (::geteuid() != 0) GTEST_SKIP() << "the private Slurm daemons need root";
  test::TempDir tmp;
  const std::string dir = tmp / "cluster";
  ASSERT_EQ(test::RunCommand("mkdir -p " + dir).exit_code, 0);
  // slurm_local.sh's port for this directory: 20000 + (cksum of its path mod 20000) * 2.
  const auto sum = test::RunCommand("printf '%s' " + dir + " | cksum | cut -d' ' -f1");
  ASSERT_EQ(sum.exit_code, 0);
  const int port = 20000 + static_cast<int>(std::stoll(sum.out) % 20000) * 2;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << "port " << port;
  ASSERT_EQ(::listen(fd, 1), 0);
  // The socket accepts and never answers: each sinfo would wait out its MessageTimeout.
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = test::RunCommand("RFX_SLURM_START_TIMEOUT=3 " + kScript + " start " + dir);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  test::RunCommand(kScript + " stop " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("did not come up in 3 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("slurmctld.log (last 5 lines)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("slurmd.log (last 5 lines)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("invalid context"), std::string::npos) << r.err;
  // The limit is a deadline (3 s, plus one bounded sinfo and the daemons' start and stop), not
  // a count of tries: counted tries took 421 s here.
  EXPECT_LT(waited, 30.0);
}

TEST(SlurmCli, BadShardsAreExit2WithTheFlag) {
  test::TempDir tmp;
  const auto r = test::RunCommand(kRfx + " slurm --out " + tmp / "sw" + " --shards 9" + kSweep);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--shards '9' is more than the sweep's"), std::string::npos) << r.err;
  const auto extra = test::RunCommand(kRfx + " slurm --out " + tmp / "sw" + " --shards 2" + kSweep +
                                      " -- --array=1-3");
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_NE(extra.err.find("sbatch option (after --) '--array=1-3' is not allowed"),
            std::string::npos)
      << extra.err;
  const auto devices = test::RunCommand(kRfx + " slurm --out " + tmp / "sw" + " --shards 2" +
                                        kSweep + " --devices gpu0");
  EXPECT_EQ(devices.exit_code, 2);
  EXPECT_NE(devices.err.find("--devices 'gpu0' must be"), std::string::npos) << devices.err;
}

}  // namespace
}  // namespace rfx
