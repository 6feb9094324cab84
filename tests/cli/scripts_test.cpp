// The scripts: reproduce.sh's argument checks, its --list, and real runs through it (a
// forward-pass experiment, a two-training sweep and a small-CNN study, sizes overridden so they
// take seconds).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <vector>

#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

const std::string kScripts = std::string(rfx::test::SourceDir()) + "/scripts/";
const std::string kReproduce =
    "RFX=" + std::string(rfx::test::RfxExe()) + " bash " + kScripts + "reproduce.sh";

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(ScriptsTest, ReproduceRefusesBadOptionsBeforeDoingAnything) {
  test::TempDir dir;
  auto run = [&](const std::string& args) {
    return test::RunCommand(kReproduce + " --out " + dir / "out " + args);
  };
  auto r = run("--slurm x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--slurm 'x'"), std::string::npos) << r.err;
  r = run("--fast");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--fast'"), std::string::npos) << r.err;
  r = run("--workers 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--workers '0' must be a number of trainings >= 1"), std::string::npos)
      << r.err;
  r = run("--scale laptop");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--scale 'laptop' is not allowed; allowed: cpu, paper"), std::string::npos)
      << r.err;
  r = run("02 99");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown experiment '99'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("01_plain_xavier"), std::string::npos) << "lists the allowed names";
  EXPECT_NE(r.err.find("16_resnet50_trained "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cnn_pooling"), std::string::npos) << "the small-CNN studies too";
  EXPECT_FALSE(FileExists(dir / "out")) << "nothing written";
}

TEST(ScriptsTest, ReproduceListsEveryExperimentWithItsQuestionAndCosts) {
  const auto r = test::RunCommand(kReproduce + " --list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"01_plain_xavier", "02_input_skip_xavier", "07_forward_decomposed",
                           "14_dot360_width", "16_resnet50_trained", "views"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
  }
  // 16 experiments and 5 small-CNN studies, each with a cost line per scale read from its two
  // YAML headers.
  size_t cpu = 0, paper = 0;
  for (size_t p = 0; (p = r.out.find("    cpu:   ", p)) != std::string::npos; ++p) ++cpu;
  for (size_t p = 0; (p = r.out.find("    paper: ", p)) != std::string::npos; ++p) ++paper;
  EXPECT_EQ(cpu, 21u);
  EXPECT_EQ(paper, 21u);
  EXPECT_NE(r.out.find("cnn_freeze  [arch]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("≤ 1880 trainings of ≤ 3000 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("How far can an input-skip FCN (xavier) learn to see"), std::string::npos);
}

TEST(ScriptsTest, ReproduceRunsAForwardExperimentAndATinySweep) {
  test::TempDir dir;
  const std::string out = dir / "out";
  // Experiment 06 (constant 0.01, plain FCN) on depths 1..8 of a 33² impulse: the centre row is
  // the trinomial row of (1+x+x²)^N over its centre coefficient, so the radius (first distance
  // below 0.0012) is N+1 up to depth 7 (edge 1/393 = 0.0025) and 8 at depth 8 (1/1107 < 0.0012,
  // 8/1107 above).
  auto r = test::RunCommand(kReproduce + " 6 --out " + out + " --probe '--depths 1:8 --size 33'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string fwd = out + "/06_forward_plain_constant/";
  EXPECT_TRUE(FileExists(fwd + "forward_image.png"));
  EXPECT_TRUE(FileExists(fwd + "forward_radius.png"));
  const std::string summary = Slurp(fwd + "summary.txt");
  EXPECT_NE(summary.find("radii (depth: px): 1: 2; 2: 3; 3: 4; 4: 5; 5: 6; 6: 7; 7: 8; 8: 8"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("wall time"), std::string::npos) << summary;

  // Experiment 05 (random xavier weights, '#| seeds: 8'): one probe per seed, the mean radius
  // per depth with its CI over the seeds, c and p with theirs.
  r = test::RunCommand(kReproduce + " 5 --out " + out + " --probe '--depths 1:6 --size 41'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string x = out + "/05_forward_input_skip_xavier/";
  EXPECT_TRUE(FileExists(x + "forward_seed_0/radii.csv"));
  EXPECT_TRUE(FileExists(x + "forward_seed_7/radii.csv"));
  EXPECT_FALSE(FileExists(x + "forward_seed_8"));
  EXPECT_TRUE(FileExists(x + "forward_radius.png"));
  const std::string s5 = Slurp(x + "summary.txt");
  EXPECT_NE(s5.find("over 8 seeds grows as N^"), std::string::npos) << s5;
  EXPECT_NE(s5.find("mean radius (depth: px [95% CI over seeds]): 1: "), std::string::npos) << s5;
  EXPECT_NE(s5.find("c·√N: c = "), std::string::npos) << s5;

  // Experiment 02 shrunk to a grid of 2 trainings of 10 steps; then rerun: nothing retrains.
  const std::string tiny =
      " 02_input_skip_xavier --out " + out +
      " -- --set sweep.mode=grid --set 'sweep.axes.net.depth=[2]'"
      " --set 'sweep.axes.dataset.distance=[7, 9]' --set train.steps=10"
      " --set train.eval_samples=16 --set train.early_stop.every=0 --set dataset.image_size=24";
  r = test::RunCommand(kReproduce + tiny);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sw = out + "/02_input_skip_xavier/";
  EXPECT_TRUE(FileExists(sw + "sweep/results.jsonl"));
  EXPECT_TRUE(FileExists(sw + "fit.json"));
  EXPECT_TRUE(FileExists(sw + "sweep_threshold.png"));
  EXPECT_TRUE(FileExists(sw + "sweep_accuracy.png"));
  const std::string s2 = Slurp(sw + "summary.txt");
  EXPECT_NE(s2.find("verdict: "), std::string::npos) << s2;
  EXPECT_NE(s2.find("d50 per depth (dataset.distance): 2: "), std::string::npos) << s2;
  EXPECT_NE(s2.find("(2 trainings)"), std::string::npos) << s2;
  r = test::RunCommand(kReproduce + tiny);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("0 trainings run, 2 reused"), std::string::npos) << r.out << r.err;

  // A sweep rfx refuses stops the script with rfx's exit code, naming the sweep.
  r = test::RunCommand(kReproduce + " 03 --out " + out + " -- --set train.steps=-5");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("train.steps"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the sweep " + out + "/03_input_skip_shifted/sweep failed (exit 2)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(FileExists(out + "/03_input_skip_shifted/summary.txt"));
}

TEST(ScriptsTest, ReproduceRunsASmallCnnStudyWithItsFieldBeforeAndAfterTraining) {
  test::TempDir dir;
  const std::string out = dir / "out";
  // The bottleneck study (variants width16, width1) shrunk: per variant a grid of 2 trainings of
  // 10 steps, 4 seeds of the cell (distance 8) with the ERF at steps 0 and 10, and a profile.
  const std::string tiny =
      " cnn_bottleneck --workers 2 --out " + out +
      " -- --set sweep.mode=grid --set 'sweep.axes.dataset.distance=[7, 9]' --set train.steps=10"
      " --set train.eval_samples=16 --set train.early_stop.every=0 --set dataset.image_size=24"
      " --set train.erf_samples=2";
  auto r = test::RunCommand(kReproduce + tiny);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string x = out + "/cnn_bottleneck/";
  for (const std::string& label : std::vector<std::string>{"width16", "width1"}) {
    EXPECT_TRUE(FileExists(x + "fit_" + label + ".json")) << label;
    EXPECT_TRUE(FileExists(x + "sweep_" + label + "/results.jsonl")) << label;
    EXPECT_TRUE(FileExists(x + "profile_" + label + ".json")) << label;
    EXPECT_FALSE(FileExists(x + "erf_" + label + "_seed_4")) << "4 seeds: 0..3";
  }
  // σ_y before training in the summary is the mean of the 4 seeds' step-0 snapshots.
  double sum = 0;
  for (int s = 0; s < 4; ++s) {
    const auto lines = ReadCompleteLines(x + "erf_width1_seed_" + std::to_string(s) + "/erf.jsonl");
    ASSERT_EQ(lines.size(), 2u) << "steps 0 and 10 only";
    EXPECT_NE(lines[0].find("\"step\":0"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("\"step\":10"), std::string::npos) << lines[1];
    sum += nlohmann::json::parse(lines[0])["sigma"]["y"].get<double>();
  }
  char before[32];
  std::snprintf(before, sizeof before, "ERF σ_y %.2f [", sum / 4);
  const std::string summary = Slurp(x + "summary.txt");
  const size_t row = summary.find("\nwidth1: d50 (depth: px) 8: ");
  ASSERT_NE(row, std::string::npos) << summary;
  EXPECT_NE(summary.find(before, row), std::string::npos) << before << "\n" << summary;
  EXPECT_NE(summary.find("of 4 seeds ≥ 0.9)", row), std::string::npos) << summary;
  EXPECT_NE(summary.find(" ms (24x24, 1 threads)", row), std::string::npos) << summary;
  const cv::Mat img = cv::imread(x + "arch.png", cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_GE(img.cols, 800);
  // Rerun: nothing retrains.
  r = test::RunCommand(kReproduce + tiny);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("0 trainings run, 2 reused"), std::string::npos) << r.err;
  EXPECT_EQ(Slurp(x + "summary.txt").substr(0, row), summary.substr(0, row));

  // A cell training that never finished (its directory without result.json) starts over and,
  // seeded, gives the same summary; one that cannot run (its directory is a file) is named,
  // left out of the means, and the script exits 1 after finishing everything else.
  std::filesystem::remove(x + "erf_width1_seed_2/result.json");
  std::filesystem::remove_all(x + "erf_width16_seed_1");
  std::ofstream(x + "erf_width16_seed_1") << "not a directory";
  r = test::RunCommand(kReproduce + tiny);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the cell training " + x + "erf_width16_seed_1 failed"), std::string::npos)
      << r.err;
  EXPECT_TRUE(FileExists(x + "erf_width1_seed_2/result.json"));
  const std::string after = Slurp(x + "summary.txt");
  auto width1_row = [](const std::string& text) {
    const size_t at = text.find("\nwidth1: ");
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at + 1) - at);
  };
  EXPECT_EQ(width1_row(after), width1_row(summary)) << "width1, its seed 2 retrained";
  EXPECT_FALSE(width1_row(after).empty());
  EXPECT_NE(after.find("of 3 seeds ≥ 0.9)"), std::string::npos) << after;
}

TEST(ScriptsTest, TheSmallCnnStudiesSeedIntervalCoversAKnownMean) {
  // summarize_arch.mean_ci on 4,000 simulated studies of n seeds, σ_y ~ N(3, 0.5²) (known mean 3):
  // the 95% t interval holds 3 in 93-97% of them for 2, 4 and 8 seeds (a normal 1.96 would
  // cover about 70% at 2 seeds and 86% at 4), and an interval is cut at a bound it cannot cross.
  const std::string py =
      "import random, sys\n"
      "sys.path.insert(0, '" +
      kScripts +
      "')\n"
      "from summarize_arch import mean_ci\n"
      "rng = random.Random(7)\n"
      "for n in (2, 4, 8):\n"
      "    hits = sum(lo <= 3.0 <= hi for lo, hi in (mean_ci([rng.gauss(3.0, 0.5)\n"
      "               for _ in range(n)])[1:] for _ in range(4000)))\n"
      "    print(n, hits / 4000)\n"
      "print('cut', mean_ci([0.1, 0.2, 3.0], 0)[1], mean_ci([0.95, 1.0], 0, 1)[2])\n";
  test::TempDir dir;
  { std::ofstream(dir / "cov.py") << py; }
  const auto r = test::RunCommand("/usr/bin/python3 " + dir / "cov.py");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  for (int n : {2, 4, 8}) {
    int seeds = 0;
    double coverage = 0;
    ASSERT_TRUE(in >> seeds >> coverage) << r.out;
    EXPECT_EQ(seeds, n);
    EXPECT_GE(coverage, 0.93) << n << " seeds";
    EXPECT_LE(coverage, 0.97) << n << " seeds";
  }
  std::string word;
  double lo = -1, hi = -1;
  ASSERT_TRUE(in >> word >> lo >> hi) << r.out;
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
}

// The numbers of a map CSV, row by row.
std::vector<double> CsvNumbers(const std::string& path) {
  std::string text = Slurp(path);
  std::replace(text.begin(), text.end(), '\n', ',');
  std::vector<double> v;
  std::stringstream in(text);
  std::string cell;
  while (std::getline(in, cell, ',')) {
    if (!cell.empty()) v.push_back(std::stod(cell));
  }
  return v;
}

TEST(ScriptsTest, PlotErfTrainingDrawsTheFieldThroughATrainingThatTheProbeConfirms) {
  test::TempDir dir;
  const std::string run = dir / "run";
  const std::string sets =
      " --set dataset.image_size=32 --set dataset.distance=7 --set net.depth=4"
      " --set train.steps=12 --set train.eval_samples=16 --set train.device=cpu"
      " --set train.threads=1 --set dataset.threads=1 --set train.erf_samples=4";
  const std::string train = std::string(rfx::test::RfxExe()) + " train" + sets;
  // Stopped after step 8: snapshots 0, 4, 8; the probe on its model.pt gives step 8's map.
  auto r = test::RunCommand(train + " --set train.erf_every=4 --stop-at 8 --out " + run);
  ASSERT_EQ(r.exit_code, 1) << r.err;  // stopped, resumable
  r = test::RunCommand(std::string(rfx::test::RfxExe()) + " probe gradient --checkpoint " + run +
                       " --samples 4 --bootstrap 0 --set train.device=cpu --out " + dir / "p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<double> mine = CsvNumbers(run + "/erf/step-8.csv");
  const std::vector<double> probe = CsvNumbers(dir / "p/erf_map.csv");
  ASSERT_EQ(mine.size(), 32u * 32u);
  ASSERT_EQ(mine.size(), probe.size());
  double top = 0, diff = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    top = std::max(top, probe[i]);
    diff = std::max(diff, std::abs(mine[i] - probe[i]));
  }
  EXPECT_GT(top, 0);
  EXPECT_LT(diff, 1e-6 * top);
  r = test::RunCommand(train + " --set train.erf_every=4 --resume --out " + run);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = ReadCompleteLines(run + "/erf.jsonl");
  ASSERT_EQ(lines.size(), 4u);  // steps 0, 4, 8, 12: none twice
  EXPECT_NE(lines[3].find("\"step\":12"), std::string::npos) << lines[3];

  const std::string png = dir / "erf.png";
  r = test::RunCommand("/usr/bin/python3 " + kScripts + "plot_erf_training.py " + run + " --out " +
                       png);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const cv::Mat img = cv::imread(png, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty()) << png;
  EXPECT_GE(img.cols, 800);  // a strip of 4 maps over two plots
  EXPECT_GE(img.rows, 500);
  cv::Mat grey;
  img.convertTo(grey, CV_64F);
  cv::Scalar mean, sd;
  cv::meanStdDev(grey.reshape(1), mean, sd);
  EXPECT_GT(sd[0], 20) << "not a blank image";
  // No snapshots: says so, exit non-zero.
  r = test::RunCommand("/usr/bin/python3 " + kScripts + "plot_erf_training.py " + dir / "p");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("train.erf_every"), std::string::npos) << r.err;

  // Bad keys exit 2 naming the key, before anything is written.
  for (const std::string& bad :
       std::vector<std::string>{"train.erf_every=-1", "train.erf_samples=0"}) {
    r = test::RunCommand(train + " --set " + bad + " --out " + dir / "bad");
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find(bad.substr(0, bad.find('='))), std::string::npos) << r.err;
  }
  EXPECT_FALSE(FileExists(dir / "bad/config.yaml"));
}

TEST(ScriptsTest, SlurmLocalNeedsACommandAndADirectory) {
  const auto r = test::RunCommand("bash " + kScripts + "slurm_local.sh start");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rfx
