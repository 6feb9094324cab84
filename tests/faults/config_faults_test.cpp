// Hostile configuration: values with no sane bound, numbers that
// wrap or overflow their type, files that are not config files, keys given twice. Each must
// end in exit code 2 naming the key (or the file), quickly, with nothing written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "rfx/config/config.h"
#include "rfx/data/batch_source.h"
#include "rfx/nn/init.h"
#include "rfx/nn/net.h"
#include "rfx/runtime/device.h"
#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

const std::string kExe = rfx::test::RfxExe();
// A tiny CPU run, so that a check that is missing costs seconds, not hours; `timeout` turns a
// hang into a failure.
const std::string kTiny =
    " --set dataset.image_size=32 --set dataset.distance=7 --set net.depth=2"
    " --set train.steps=1 --set train.eval_samples=1 --set train.device=cpu"
    " --set train.threads=1 --set dataset.threads=1";

// `rfx train` with extra arguments into a fresh directory; the run directory must not appear.
test::CommandResult Train(const std::string& args, const test::TempDir& dir) {
  const auto r = test::RunCommand("timeout 120 " + kExe + " train" + kTiny + " " + args +
                                  " --out " + dir / "run");
  EXPECT_FALSE(std::filesystem::exists(dir / "run")) << "a refused config wrote a run";
  return r;
}

void ExpectUsage(const test::CommandResult& r, const std::string& needle1,
                 const std::string& needle2 = "") {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(needle1), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(needle2), std::string::npos) << r.err;
}

TEST(ConfigFaults, ADirectoryAsConfigIsRefused) {
  test::TempDir dir;
  ExpectUsage(Train("--config " + dir.path(), dir), "'" + dir.path() + "' is a directory");
}

TEST(ConfigFaults, DevZeroAsConfigIsRefusedWithoutReadingIt) {
  test::TempDir dir;
  ExpectUsage(Train("--config /dev/zero", dir), "'/dev/zero' is a character device");
}

TEST(ConfigFaults, AFifoAsConfigIsRefusedWithoutWaitingForAWriter) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  ExpectUsage(Train("--config " + dir / "fifo", dir), "is a pipe (FIFO)");
}

TEST(ConfigFaults, AnOversizedConfigIsRefused) {
  test::TempDir dir;
  WriteFileAtomic(dir / "big.yaml", "# " + std::string(5 << 20, 'x') + "\n");
  ExpectUsage(Train("--config " + dir / "big.yaml", dir), "larger than 4 MiB");
}

TEST(ConfigFaults, ADuplicateKeyNamesBothLines) {
  test::TempDir dir;
  WriteFileAtomic(dir / "exp.yaml", "net:\n  depth: 3\n  width: 8\n  depth: 5\n");
  ExpectUsage(Train("--config " + dir / "exp.yaml", dir), "'net.depth'",
              "appears twice in one mapping (lines 2 and 4)");
}

TEST(ConfigFaults, AnIntegerBeyondIntIsOutOfRangeNotNegative) {
  test::TempDir dir;
  const auto r = Train("--set net.depth=2147483648", dir);
  ExpectUsage(r, "'net.depth'", "value 2147483648 is out of range");
  EXPECT_EQ(r.err.find("-2147483648 is"), std::string::npos) << r.err;
  // Regression: the message named int's range (-2147483648..2147483647), not the key's.
  ExpectUsage(r, "'net.depth'", "allowed: 1..4096");
  ExpectUsage(Train("--set net.width=-2147483649", dir), "'net.width'", "allowed: 1..4096");
  for (const char* key : {"train.eval_samples", "train.log_every"}) {
    ExpectUsage(Train(std::string("--set ") + key + "=2147483648", dir), key,
                "value 2147483648 is out of range; allowed 1..2147483647");
  }
  ExpectUsage(Train("--set train.checkpoint_every=-2147483649", dir), "'train.checkpoint_every'",
              "allowed 0..2147483647");
  ExpectUsage(Train("--set train.erf_samples=2147483648", dir), "'train.erf_samples'",
              "allowed 1..1000000");
  ExpectUsage(Train("--set train.threads=2147483648", dir), "'train.threads'",
              "allowed 0 (all CPUs) to " + std::to_string(4 * HardwareThreads()));
}

TEST(ConfigFaults, UnboundedSizesAreRefusedUpFront) {
  test::TempDir dir;
  ExpectUsage(Train("--set net.depth=100000", dir), "'net.depth'", "allowed: 1..4096");
  ExpectUsage(Train("--set net.width=100000", dir), "'net.width'", "allowed: 1..4096");
  ExpectUsage(Train("--set dataset.image_size=100000", dir), "'dataset.image_size'");
  ExpectUsage(Train("--set dataset.threads=100000", dir), "'dataset.threads'",
              "allowed 0.." + std::to_string(4 * HardwareThreads()));
  ExpectUsage(Train("--set dataset.prefetch=100000", dir), "'dataset.prefetch'", "1..64");
}

// Regression: 9 nested levels of 10 aliases, ~700 bytes, expand to 10^9 layers: `rfx train`
// grew to 22 GB until the OOM killer ended it, `rfx theory` hung. Refused at parse time.
std::string AliasBomb() {
  std::string s = "net:\n  arch: layers\n  layers:\n    - &a0 relu\n";
  for (int level = 1; level <= 9; ++level) {
    s += "    - &a" + std::to_string(level) + " {residual: [";
    for (int i = 0; i < 10; ++i) s += (i ? ", *a" : "*a") + std::to_string(level - 1);
    s += "]}\n";
  }
  return s;
}

TEST(ConfigFaults, AnAliasBombIsRefusedNamingTheKey) {
  test::TempDir dir;
  const std::string bomb = AliasBomb();
  ASSERT_LT(bomb.size(), 800u);  // the was 616 bytes
  WriteFileAtomic(dir / "bomb.yaml", bomb);
  ExpectUsage(Train("--config " + dir / "bomb.yaml", dir), "'net.layers'",
              "expands to more than 1048576 YAML nodes");
  const auto theory = test::RunCommand("timeout 60 " + kExe + " theory --config " +
                                       dir / "bomb.yaml" + " --input 32");
  ExpectUsage(theory, "'net.layers'", "expands to more than 1048576 YAML nodes");
  // The same through --set (one flow line), and under theory.layers.
  std::string flow = "[&b0 relu";
  for (int level = 1; level <= 9; ++level) {
    flow += ", &b" + std::to_string(level) + " {residual: [";
    for (int i = 0; i < 10; ++i) flow += (i ? ", *b" : "*b") + std::to_string(level - 1);
    flow += "]}";
  }
  flow += "]";
  ExpectUsage(Train("--set 'net.layers=" + flow + "'", dir), "'net.layers'", "YAML nodes");
  const auto set_theory = test::RunCommand("timeout 60 " + kExe +
                                           " theory --set 'theory.layers=" + flow + "' --input 32");
  ExpectUsage(set_theory, "'theory.layers'", "YAML nodes");
  // Aliases that expand to little are fine: 3 levels of 10 = 1,111 layers' worth of nodes.
  std::string small = "theory:\n  layers:\n    - &c0 {conv: {k: 3, p: 1}}\n";
  for (int level = 1; level <= 2; ++level) {
    small += "    - &c" + std::to_string(level) + " {residual: [";
    for (int i = 0; i < 10; ++i) small += (i ? ", *c" : "*c") + std::to_string(level - 1);
    small += "]}\n";
  }
  WriteFileAtomic(dir / "small.yaml", small);
  const auto ok = test::RunCommand("timeout 60 " + kExe + " theory --config " + dir / "small.yaml" +
                                   " --input 32");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// Found by scripts/fuzz.sh (config target): an alias inside its own anchor overflowed the stack
// of the expansion count (the first version of the check above). It expands without end.
TEST(ConfigFaults, AnAliasInsideItsOwnAnchorIsRefused) {
  test::TempDir dir;
  WriteFileAtomic(dir / "cycle.yaml",
                  "net:\n  arch: layers\n  layers:\n    - &a0 relu\n"
                  "    - &a2 {residual: [*a0, *a2]}\n");
  ExpectUsage(Train("--config " + dir / "cycle.yaml", dir), "'net.layers'",
              "expands to more than 1048576 YAML nodes");
  ExpectUsage(Train("--set 'net.layers=&b [relu, *b]'", dir), "'net.layers'", "YAML nodes");
}

// Regression: a second YAML document was silently ignored; nesting past yaml-cpp's depth
// limit read "not valid YAML: bad file".
TEST(ConfigFaults, ASecondDocumentAndDeepNestingAreNamed) {
  test::TempDir dir;
  WriteFileAtomic(dir / "two.yaml", "net:\n  depth: 3\n---\nnet:\n  depth: 5\n");
  ExpectUsage(Train("--config " + dir / "two.yaml", dir),
              "two.yaml holds more than one YAML document");
  // Found by scripts/fuzz.sh: YAML::LoadAll never returned on this text (kept allocating).
  const std::string slow_yaml =
      std::string(rfx::test::SourceDir()) + "/fuzz/corpus/config/regression_loadall_loop.yaml";
  const auto t0 = std::chrono::steady_clock::now();
  const auto slow = Train("--config " + slow_yaml, dir);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
  EXPECT_EQ(slow.exit_code, 2) << slow.err;
  WriteFileAtomic(dir / "deep.yaml",
                  "net:\n  layers: " + std::string(1500, '[') + std::string(1500, ']') + "\n");
  ExpectUsage(Train("--config " + dir / "deep.yaml", dir), "nested too deeply");
  ExpectUsage(
      Train("--set 'net.layers=" + std::string(1500, '[') + std::string(1500, ']') + "'", dir),
      "'net.layers'", "too deeply");
}

TEST(ConfigFaults, AnInitValueAFloatCannotHoldIsAConfigError) {
  test::TempDir dir;
  ExpectUsage(Train("--set init.scheme=constant --set init.value=1e300", dir), "'init.value'",
              "32-bit float");
}

// Needs train.cpp to read train.lr with Config::GetFloat (the lead's switch).
TEST(ConfigFaults, ALearningRateAFloatCannotHoldIsAConfigError) {
  test::TempDir dir;
  ExpectUsage(Train("--set train.lr=1e300", dir), "'train.lr'", "32-bit float");
}

// Needs RunTraining to call train::CheckFitsInMemory (the lead's switch).
TEST(ConfigFaults, ABatchThatCannotFitIsRefusedBeforeAllocating) {
  test::TempDir dir;
  ExpectUsage(Train("--set train.batch_size=100000000", dir), "'train.batch_size'",
              "value 100000000 needs about");
}

TEST(ConfigFaults, OptionsRefuseWhatWouldWrapOrHang) {
  // The same checks without the executable, naming the key and the origin.
  auto key_of = [](auto f) -> std::string {
    try {
      f();
    } catch (const ConfigError& e) {
      return e.key() + " (" + e.where() + ")";
    }
    return "no error";
  };
  EXPECT_EQ(key_of([] { nn::NetOptions::FromConfig(Config::Load("", {"net.depth=4294967297"})); }),
            "net.depth (--set)");
  EXPECT_EQ(key_of([] { nn::NetOptions::FromConfig(Config::Load("", {"net.kernel=65"})); }),
            "net.kernel (--set)");
  EXPECT_EQ(key_of([] { nn::InitOptions::FromConfig(Config::Load("", {"init.value=-1e39"})); }),
            "init.value (--set)");
  nn::InitOptions init;
  init.value = 1e300;  // built without a config: validate() still says which key
  EXPECT_EQ(key_of([&] { init.validate(); }), "init.value ()");
  EXPECT_EQ(key_of([] {
              data::BatchSourceOptions::FromConfig(Config::Load("", {"dataset.threads=100000"}));
            }),
            "dataset.threads (--set)");
  EXPECT_EQ(
      key_of([] { data::DatasetOptions::FromConfig(Config::Load("", {"dataset.spot=1e39"})); }),
      "dataset.spot (--set)");
}

}  // namespace
}  // namespace rfx
