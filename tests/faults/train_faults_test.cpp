// Faults of one training, reproduced for real: a full disk while a checkpoint is
// written, a truncated checkpoint, SIGTERM during the final evaluation, and input that used to
// be accepted silently.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_util.h"

namespace rfx {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExe = rfx::test::RfxExe();
const std::string& kTiny = test::kTinyTrain;
using test::Slurp;

std::vector<std::string> TempFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.path().filename().string().find(".tmp") != std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

// A real size-limited tmpfs (needs root, as CI runs).
class Tmpfs {
 public:
  explicit Tmpfs(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::geteuid() == 0 &&
               ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(TrainFaults, DiskFullWhileCheckpointingIsACleanErrorAndResumesOnceFreed) {
  test::TempDir dir;
  Tmpfs disk(dir / "disk", "24m");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a size-limited tmpfs";
  const std::string out = dir / "disk/run";
  // depth 16, width 64: a checkpoint (weights + Adam state) of about 6 MB.
  const std::string wide =
      kTiny + " --set net.depth=16 --set net.width=64 --set train.checkpoint_every=2";
  auto first = test::RunCommand(kExe + " train" + wide + " --stop-at 2 --out " + out);
  ASSERT_EQ(first.exit_code, 1) << first.err;  // stopped at step 2, checkpoint saved
  const std::string saved = Slurp(out + "/checkpoint.pt");
  ASSERT_GT(saved.size(), 4u << 20);
  {  // fill the disk, leaving less than one checkpoint free
    std::ofstream fill(dir / "disk/fill", std::ios::binary);
    const std::string block(1 << 20, 'x');
    for (int i = 0; i < 64 && fill.good(); ++i) fill << block << std::flush;
  }
  fs::resize_file(dir / "disk/fill", fs::file_size(dir / "disk/fill") - (2u << 20));
  auto full = test::RunCommand(kExe + " train" + wide + " --resume --out " + out);
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_NE(full.err.find("no space left on device: " + out), std::string::npos) << full.err;
  EXPECT_EQ(full.err.find("terminate called"), std::string::npos) << full.err;
  EXPECT_EQ(Slurp(out + "/checkpoint.pt"), saved) << "the earlier checkpoint is intact";
  EXPECT_TRUE(TempFiles(dir / "disk").empty());
  fs::remove(dir / "disk/fill");
  auto again = test::RunCommand(kExe + " train" + wide + " --resume --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(Slurp(out + "/result.json"))["steps"], 12);
}

TEST(TrainFaults, ATruncatedCheckpointIsMovedAsideAndTheRunStartsOver) {
  test::TempDir dir;
  const std::string out = dir / "run";
  auto cut = test::RunCommand(kExe + " train" + kTiny + " --stop-at 8 --out " + out);
  ASSERT_EQ(cut.exit_code, 1) << cut.err;
  const std::string bytes = Slurp(out + "/checkpoint.pt");
  std::ofstream(out + "/checkpoint.pt", std::ios::binary | std::ios::trunc)
      << bytes.substr(0, bytes.size() / 3);
  auto resumed = test::RunCommand(kExe + " train" + kTiny + " --resume --out " + out);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("checkpoint.pt.bad"), std::string::npos) << resumed.err;
  EXPECT_TRUE(fs::exists(out + "/checkpoint.pt.bad"));
  const json r = json::parse(Slurp(out + "/result.json"));
  EXPECT_EQ(r["status"], "ok");
  EXPECT_EQ(r["steps"], 12);
  // Started over: equal to an uninterrupted run of the same config.
  auto clean = test::RunCommand(kExe + " train" + kTiny + " --out " + dir / "clean");
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(r["accuracy"], json::parse(Slurp(dir / "clean/result.json"))["accuracy"]);
  EXPECT_EQ(r["loss"], json::parse(Slurp(dir / "clean/result.json"))["loss"]);
}

// Regression: a kill -9 during a save left checkpoint.pt.tmp.HOST.PID.N behind (3 runs of
// 12) and --resume never removed it; sweep cells collected them. The files below are what such a
// kill leaves; a resume (holding the run's lock) removes the run's own temp files, nothing else.
TEST(TrainFaults, AResumeRemovesTheTempFilesOfAKilledSave) {
  test::TempDir dir;
  const std::string out = dir / "run";
  auto cut = test::RunCommand(kExe + " train" + kTiny + " --stop-at 8 --out " + out);
  ASSERT_EQ(cut.exit_code, 1) << cut.err;
  const std::string ckpt = Slurp(out + "/checkpoint.pt");
  std::ofstream(out + "/checkpoint.pt.tmp.vm.4242.0", std::ios::binary) << ckpt.substr(0, 100);
  std::ofstream(out + "/result.json.tmp.vm.4242.1") << "{";
  std::ofstream(out + "/notes.txt") << "mine\n";
  std::ofstream(out + "/notes.txt.tmp.vm.1.2") << "not rfx's\n";
  auto resumed = test::RunCommand(kExe + " train" + kTiny + " --resume --out " + out);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_FALSE(fs::exists(out + "/checkpoint.pt.tmp.vm.4242.0"));
  EXPECT_FALSE(fs::exists(out + "/result.json.tmp.vm.4242.1"));
  EXPECT_EQ(Slurp(out + "/notes.txt"), "mine\n");
  EXPECT_TRUE(fs::exists(out + "/notes.txt.tmp.vm.1.2")) << "not a run file's temp";
  EXPECT_EQ(json::parse(Slurp(out + "/result.json"))["steps"], 12);
}

TEST(TrainFaults, SigtermDuringTheFinalEvaluationStopsWithinSeconds) {
  test::TempDir dir;
  const std::string out = dir / "run";
  // One step, then 200k evaluation samples (many seconds): the signal arrives in the evaluation.
  const std::string args =
      " --set dataset.image_size=32 --set dataset.distance=7"
      " --set net.depth=2 --set train.steps=1 --set train.eval_samples=200000"
      " --set train.device=cpu --set train.threads=1 --set dataset.threads=1";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = kExe + " train" + args + " --out " + out + " >/dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until the training step is done (metrics written), then give evaluation a moment.
  for (int i = 0; i < 600 && !fs::exists(out + "/metrics.jsonl"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The whole evaluation takes tens of seconds; stopping between batches takes milliseconds, plus
  // writing result.json and exiting, which a loaded machine (a parallel ctest) can stretch.
  EXPECT_LT(seconds, 5.0) << "the stop flag is checked between evaluation batches";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const json r = json::parse(Slurp(out + "/result.json"));
  EXPECT_EQ(r["status"], "failed");
  EXPECT_NE(r["message"].get<std::string>().find("final evaluation"), std::string::npos);
}

TEST(TrainFaults, SilentlyAcceptedInputIsRefused) {
  test::TempDir dir;
  for (const char* bad : {" --stop-at 0", " --stop-at -1"}) {
    auto r = test::RunCommand(kExe + " train" + kTiny + bad + " --out " + dir / "x");
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--stop-at"), std::string::npos) << r.err;
  }
  auto empty = test::RunCommand(kExe + " train" + kTiny + " --out ''");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("--out"), std::string::npos) << empty.err;
  // --resume on a directory that is not a run (a sweep's root, say) writes nothing there.
  fs::create_directories(dir / "sweep");
  std::ofstream(dir / "sweep/results.jsonl") << "{}\n";
  auto resume = test::RunCommand(kExe + " train" + kTiny + " --resume --out " + dir / "sweep");
  EXPECT_EQ(resume.exit_code, 2) << resume.err;
  EXPECT_NE(resume.err.find("not a run directory"), std::string::npos) << resume.err;
  EXPECT_FALSE(fs::exists(dir / "sweep/config.yaml"));
  // train.threads beyond 4x the CPUs we may use.
  auto threads =
      test::RunCommand(kExe + " train" + kTiny + " --set train.threads=100000 --out " + dir / "t");
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_NE(threads.err.find("train.threads"), std::string::npos) << threads.err;
}

TEST(TrainFaults, ResumingWithAnotherConfigIsItsOwnExitCode) {
  test::TempDir dir;
  const std::string out = dir / "run";
  ASSERT_EQ(test::RunCommand(kExe + " train" + kTiny + " --stop-at 4 --out " + out).exit_code, 1);
  auto other =
      test::RunCommand(kExe + " train" + kTiny + " --set train.steps=20 --resume --out " + out);
  EXPECT_EQ(other.exit_code, 3) << other.err;  // train::kExitResumeConflict
  EXPECT_NE(other.err.find("steps"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace rfx
