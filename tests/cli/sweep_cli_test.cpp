// End-to-end tests of rfx sweep / merge / fit through the real executable.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "rfx/sweep/run.h"
#include "rfx/sweep/store.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

using nlohmann::json;
using test::RunCommand;

std::string Rfx(const std::string& args) { return std::string(rfx::test::RfxExe()) + " " + args; }

// Each bad sweep config exits 2 and names the key.
void ExpectUsage(const std::string& args, const std::string& words) {
  test::TempDir dir;
  const auto r = RunCommand(Rfx("sweep --out " + dir / "s" + " " + args));
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(words), std::string::npos) << args << "\n" << r.err;
  EXPECT_FALSE(FileExists(dir / "s/results.jsonl"));
}

TEST(SweepCliTest, BadConfigsExitTwoNamingTheKey) {
  const std::string dist = " --set 'sweep.axes.dataset.distance=[1,2]'";
  ExpectUsage("--set 'sweep.axes.net.dept=[2,4]'" + dist, "sweep.axes.net.dept");
  ExpectUsage("--set 'sweep.axes.net.depth=[]'" + dist, "sweep.axes.net.depth");
  ExpectUsage("--set 'sweep.axes.dataset.distance={from: 9, to: 3}'",
              "sweep.axes.dataset.distance");
  ExpectUsage("--set 'sweep.axes.net.depth=[2,4]'", "sweep.threshold.axis");
  ExpectUsage("--shard 3/2" + dist, "--shard");
  // Regression: this range made a cell net.depth=-9223372036854775808.
  ExpectUsage(
      "--set sweep.mode=grid --set 'sweep.axes={net.depth: {from: 9223372036854775800, "
      "to: 9223372036854775807, step: 5}}'",
      "net.depth=9223372036854775800");
}

TEST(SweepCliTest, BadConfigFromAFileNamesItsLine) {
  test::TempDir dir;
  WriteFileAtomic(dir / "exp.yaml",
                  "sweep:\n  mode: grid\n  axes:\n    net.depth: [2, 4]\n"
                  "    dataset.distance: {from: 9, to: 3}\n");
  const auto r = RunCommand(Rfx("sweep --config " + dir / "exp.yaml" + " --out " + dir / "s"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("sweep.axes.dataset.distance"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 5"), std::string::npos) << r.err;
}

TEST(SweepCliTest, DryRunOfThePapersRangesIsAtMostAFifthOfTheGrid) {
  const auto r = RunCommand(Rfx(std::string("sweep --config ") + rfx::test::SourceDir() +
                                "/experiments/e_depth_vs_distance.yaml --out /nonexistent/x "
                                "--dry-run --no-measure --json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["mode"], "threshold");
  EXPECT_EQ(j["searches"], 47);
  EXPECT_EQ(j["grid_trainings"], 47 * 42);
  EXPECT_LE(j["trainings_bound"].get<int>() * 5, 47 * 42) << j.dump();
  EXPECT_FALSE(FileExists("/nonexistent/x")) << "a dry run writes nothing";
}

// Synthetic shards written through the library, merged and fitted through the CLI.
TEST(SweepCliTest, MergeIsIdempotentAndFitReadsTheMergedResults) {
  test::TempDir dir;
  const Config c = Config::Load(
      "", {"dataset.glyph_scale=0.1", "sweep.mode=grid", "sweep.axes.net.depth=[2,4,8,16,32]",
           "sweep.axes.dataset.distance={from: 2, to: 13}"});
  sweep::Evaluator eval = [](const Config& cell, const sweep::CellTask&) {
    train::TrainResult r;
    const double seen = std::sqrt(static_cast<double>(cell.GetInt("net.depth"))) * 2;
    r.accuracy = cell.GetInt("dataset.distance") <= std::lround(seen) + 1 ? 0.95 : 0.5;
    return r;
  };
  for (int i = 1; i <= 2; ++i) {
    sweep::SweepRunOptions o;
    o.out_dir = dir.path();
    o.shard = i;
    o.shard_count = 2;
    o.progress = false;
    sweep::RunSweep(c, o, eval);
  }
  auto m1 = RunCommand(Rfx("merge " + dir.path()));
  ASSERT_EQ(m1.exit_code, 0) << m1.err;
  const std::string jsonl = ReadFile(dir / "results.jsonl");
  const std::string csv = ReadFile(dir / "results.csv");
  EXPECT_EQ(ReadCompleteLines(dir / "results.jsonl").size(), 60u);
  auto m2 = RunCommand(Rfx("merge " + dir.path()));
  ASSERT_EQ(m2.exit_code, 0) << m2.err;
  EXPECT_EQ(ReadFile(dir / "results.jsonl"), jsonl);
  EXPECT_EQ(ReadFile(dir / "results.csv"), csv);

  const auto f = RunCommand(Rfx("fit " + dir.path() + " --json"));
  ASSERT_EQ(f.exit_code, 0) << f.err;
  const json j = json::parse(f.out);
  ASSERT_EQ(j["thresholds"].size(), 5u);
  EXPECT_EQ(j["thresholds"][0]["depth"], 2);
  // d50 of a noiseless step lies between the last distance learned and the first not learned.
  EXPECT_GE(j["thresholds"][0]["distance"].get<double>(), 4);
  EXPECT_LE(j["thresholds"][0]["distance"].get<double>(), 5);
  EXPECT_GE(j["thresholds"][4]["distance"].get<double>(), 12);
  EXPECT_LE(j["thresholds"][4]["distance"].get<double>(), 13);
  EXPECT_NEAR(j["models"]["power"]["p"].get<double>(), 0.5, 0.15);
  EXPECT_EQ(j["depths"].size(), 5u);
  EXPECT_EQ(j["preferred"], "sqrt");
  EXPECT_EQ(j["models"]["power"]["p_ci"].size(), 2u);
  for (const char* m : {"sqrt", "linear"}) {
    EXPECT_TRUE(j["models"][m].contains("a") && j["models"][m].contains("b") &&
                j["models"][m].contains("r2") && j["models"][m].contains("aic"));
  }
  const auto text = RunCommand(Rfx("fit " + dir.path()));
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("power"), std::string::npos);
  EXPECT_NE(text.out.find("preferred over"), std::string::npos) << text.out;
  EXPECT_EQ(RunCommand(Rfx("fit " + dir / "nothing")).exit_code, 2);
}

// Regression: `fit --budget 0` was accepted where -1 was refused, `--accuracy ''` read as 0,
// and CLI11's "Could not convert" said nothing of what is allowed.
TEST(SweepCliTest, FitFlagsSayWhatIsAllowed) {
  test::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--budget 0", "--budget '0' is not allowed; allowed: an integer 1..9223372036854775807"},
      {"--budget 1.5", "--budget '1.5' is not allowed; allowed: an integer 1.."},
      {"--accuracy ''", "--accuracy '' is not allowed; allowed: a number in (0, 1]"},
      {"--accuracy 1.01", "--accuracy '1.01' is not allowed"},
      {"--accuracy nan", "--accuracy 'nan' is not allowed"}};
  for (const auto& [flags, words] : cases) {
    const auto r = RunCommand(Rfx("fit " + dir.path() + " " + flags));
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << flags << "\n" << r.err;
  }
}

// A real tiny sweep, killed with SIGKILL mid-way and rerun: nothing lost, nothing duplicated.
TEST(SweepCliTest, ResumeAfterKillLosesAndDuplicatesNothing) {
  test::TempDir dir;
  const std::string out = dir / "s";
  const std::string sets =
      " --set sweep.mode=grid --set 'sweep.axes.net.depth=[2,3]'"
      " --set 'sweep.axes.dataset.distance={from: 4, to: 7}' --set dataset.image_size=32"
      " --set dataset.glyph_scale=0.5"
      " --set train.steps=40 --set train.batch_size=4 --set train.eval_samples=16"
      " --set train.threads=1 --set dataset.threads=1 --set train.device=cpu"
      " --set train.log_every=10 --set train.checkpoint_every=0";
  const std::string cmd = Rfx("sweep --out " + out + " --workers 2" + sets);
  // Start it in the background and kill -9 once a few cells are recorded.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  size_t seen = 0;
  int status = 0;
  bool reaped = false;
  while (std::chrono::steady_clock::now() < deadline) {
    seen =
        FileExists(out + "/results.jsonl") ? ReadCompleteLines(out + "/results.jsonl").size() : 0;
    if (seen >= 3) break;
    if (::waitpid(pid, &status, WNOHANG) == pid) {  // it ended (or failed) on its own
      reaped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!reaped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_GE(seen, 3u) << "the sweep recorded too little before the deadline";
  const size_t before = ReadCompleteLines(out + "/results.jsonl").size();
  ASSERT_LT(before, 8u) << "killed too late to test resuming";

  const auto r = RunCommand(Rfx("sweep --out " + out + sets));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(before) + " reused"), std::string::npos) << r.out;
  const auto recs = sweep::ReadRecords(out + "/results.jsonl");
  std::set<std::string> keys, cells;
  for (const auto& rec : recs) {
    keys.insert(rec["key"].get<std::string>());
    cells.insert(rec["net.depth"].dump() + "/" + rec["dataset.distance"].dump());
    EXPECT_EQ(rec["status"], "ok") << rec.dump();
    EXPECT_EQ(rec["steps"], 40);
    EXPECT_GE(rec["accuracy"].get<double>(), 0.0);
    EXPECT_LE(rec["accuracy"].get<double>(), 1.0);
  }
  EXPECT_EQ(recs.size(), 8u);
  EXPECT_EQ(keys.size(), 8u);
  EXPECT_EQ(cells.size(), 8u);
  // Rerunning again trains nothing; a changed config is refused.
  const auto again = RunCommand(Rfx("sweep --out " + out + sets));
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("0 trainings run, 8 reused"), std::string::npos) << again.out;
  const auto changed = RunCommand(Rfx("sweep --out " + out + sets + " --set train.steps=41"));
  EXPECT_EQ(changed.exit_code, 2);
  EXPECT_NE(changed.err.find("train.steps"), std::string::npos) << changed.err;
}

// Regression: `sweep.axes={train.seed: [5, 6]}` with 2 repeats exited 0 with 2 records,
// both labelled 5, trained with seeds 0 and 1. Now a cell trains its axis value + the repeat
// (the record's loss is that of `rfx train` with that seed), and seeds two cells would share
// are refused.
TEST(SweepCliTest, ASweepAlongTrainSeedTrainsTheAxisSeeds) {
  test::TempDir dir;
  const std::string tiny = test::kTinyTrain + " --set sweep.mode=grid --set sweep.repeats=2";
  const auto clash = RunCommand(
      Rfx("sweep --out " + dir / "clash" + tiny + " --set 'sweep.axes={train.seed: [5, 6]}'"));
  EXPECT_EQ(clash.exit_code, 2) << clash.err;
  EXPECT_NE(clash.err.find("sweep.axes.train.seed"), std::string::npos) << clash.err;
  EXPECT_NE(clash.err.find("both would train seed 6"), std::string::npos) << clash.err;
  EXPECT_FALSE(FileExists(dir / "clash/results.jsonl"));

  const auto r = RunCommand(
      Rfx("sweep --out " + dir / "s" + tiny + " --set 'sweep.axes={train.seed: [5, 7]}'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 trainings run, 0 reused"), std::string::npos) << r.out;
  const auto recs = sweep::ReadRecords(dir / "s/results.jsonl");
  ASSERT_EQ(recs.size(), 4u);
  std::set<std::pair<int64_t, int64_t>> labelled;  // (axis value, seed)
  json seed8;
  for (const auto& rec : recs) {
    labelled.insert({rec["train.seed"].get<int64_t>(), rec["seed"].get<int64_t>()});
    if (rec["seed"] == 8) seed8 = rec;
  }
  EXPECT_EQ(labelled, (std::set<std::pair<int64_t, int64_t>>{{5, 5}, {5, 6}, {7, 7}, {7, 8}}));
  const auto t =
      RunCommand(Rfx("train" + test::kTinyTrain + " --set train.seed=8 --out " + dir / "t"));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json trained = json::parse(test::Slurp(dir / "t/result.json"));
  EXPECT_EQ(seed8["loss"], trained["loss"]) << seed8.dump() << "\n" << trained.dump();
  EXPECT_EQ(seed8["accuracy"], trained["accuracy"]);
}

}  // namespace
}  // namespace rfx
