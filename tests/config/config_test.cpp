#include "rfx/config/config.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rfx/util/files.h"
#include "test_util.h"

namespace rfx {
namespace {

TEST(ConfigTest, DefaultsHoldThePapersValues) {
  Config c;
  EXPECT_EQ(c.GetString("dataset.kind"), "e");
  EXPECT_EQ(c.GetInt("dataset.image_size"), 128);
  EXPECT_DOUBLE_EQ(c.GetDouble("dataset.spot"), 1.8);
  EXPECT_DOUBLE_EQ(c.GetDouble("dataset.augment.amplitude"), 1.2);
  EXPECT_EQ(c.GetInt("train.steps"), 3000);
  EXPECT_EQ(c.GetInt("train.batch_size"), 8);
  EXPECT_DOUBLE_EQ(c.GetDouble("train.lr"), 3e-4);
  EXPECT_EQ(c.Where("train.steps"), "default");
}

TEST(ConfigTest, FileAndSetOverrideInOrder) {
  test::TempDir dir;
  WriteFileAtomic(dir / "a.yaml", "train:\n  steps: 500\n  lr: 1e-3\nnet:\n  depth: 4\n");
  Config c = Config::Load(dir / "a.yaml", {"net.depth=8", "dataset.kind=dot"});
  EXPECT_EQ(c.GetInt("train.steps"), 500);
  EXPECT_DOUBLE_EQ(c.GetDouble("train.lr"), 1e-3);
  EXPECT_EQ(c.GetInt("net.depth"), 8);
  EXPECT_EQ(c.GetString("dataset.kind"), "dot");
  EXPECT_EQ(c.Where("train.steps"), dir / "a.yaml" + " line 2");
  EXPECT_EQ(c.Where("net.depth"), "--set");
  // Untouched siblings keep their defaults.
  EXPECT_EQ(c.GetInt("train.batch_size"), 8);
}

TEST(ConfigTest, UnknownKeyInFileNamesKeyAndLine) {
  Config c;
  try {
    c.MergeYaml("dataset:\n  image_size: 64\n  distnce: 5\n", "exp.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "dataset.distnce");
    EXPECT_EQ(e.where(), "exp.yaml line 3");
    EXPECT_NE(std::string(e.what()).find("distance"), std::string::npos) << e.what();
  }
}

TEST(ConfigTest, WrongTypeInFileNamesKeyValueAndLine) {
  Config c;
  try {
    c.MergeYaml("train:\n  lr: 0.1\n  steps: many\n", "exp.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "train.steps");
    EXPECT_EQ(e.where(), "exp.yaml line 3");
    EXPECT_NE(std::string(e.what()).find("'many'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("integer"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.MergeYaml("train: 5\n", "x.yaml"), ConfigError);
  EXPECT_THROW(c.MergeYaml("train:\n  steps: [1, 2]\n", "x.yaml"), ConfigError);
}

TEST(ConfigTest, SetChecksKeysAndTypes) {
  Config c;
  EXPECT_THROW(c.ApplySet("train.stepz=5"), ConfigError);
  EXPECT_THROW(c.ApplySet("train.steps=1.5"), ConfigError);
  EXPECT_THROW(c.ApplySet("train.steps="), ConfigError);
  EXPECT_THROW(c.ApplySet("nokey"), UsageError);
  c.ApplySet("train.lr=2");  // an integer is a fine number
  EXPECT_DOUBLE_EQ(c.GetDouble("train.lr"), 2.0);
  try {
    c.ApplySet("net.width=wide");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "net.width");
    EXPECT_EQ(e.where(), "--set");
  }
}

TEST(ConfigTest, FreeFormMapsTakeDottedKeys) {
  Config c;
  c.ApplySet("sweep.axes.net.depth=[2, 4, 8]");
  c.MergeYaml("sweep:\n  axes:\n    dataset.distance: {from: 2, to: 24}\n", "s.yaml");
  YAML::Node axes = c.Get("sweep.axes");
  ASSERT_TRUE(axes.IsMap());
  EXPECT_EQ(axes.size(), 1u);  // the file's map replaces the whole free-form value
  EXPECT_EQ(axes["dataset.distance"]["to"].as<int>(), 24);
  EXPECT_EQ(c.Where("sweep.axes.dataset.distance"), "s.yaml line 3");
  c.ApplySet("sweep.axes.net.depth=[2, 4]");
  EXPECT_EQ(c.Get("sweep.axes.net.depth").size(), 2u);
  EXPECT_TRUE(c.Has("sweep.axes.net.depth"));
  EXPECT_FALSE(c.Has("sweep.axes.net.width"));
}

TEST(ConfigTest, DumpRoundTripsAndCopiesAreIndependent) {
  Config a;
  a.ApplySet("net.depth=7");
  Config b = a;
  b.ApplySet("net.depth=9");
  EXPECT_EQ(a.GetInt("net.depth"), 7);
  EXPECT_EQ(b.GetInt("net.depth"), 9);
  Config c;
  c.MergeYaml(a.Dump(), "dump");
  EXPECT_EQ(c.Dump(), a.Dump());
}

TEST(ConfigTest, InvalidYamlNamesTheLine) {
  Config c;
  try {
    c.MergeYaml("train:\n  steps: 5\n   lr: [\n", "bad.yaml");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml line"), std::string::npos) << e.what();
  }
}

// A ConfigError's text, or "" when `f` does not throw one.
template <typename F>
std::string ConfigErrorOf(F f, ConfigError* out = nullptr) {
  try {
    f();
  } catch (const ConfigError& e) {
    if (out) *out = e;
    return e.what();
  }
  return "";
}

TEST(ConfigTest, RangedGettersNameKeyValueRangeAndOrigin) {
  Config c = Config::Load("", {"net.depth=2147483648", "net.width=-3"});
  ConfigError e("", "");
  std::string m = ConfigErrorOf([&] { c.GetInt32("net.depth"); }, &e);
  EXPECT_EQ(e.key(), "net.depth");
  EXPECT_EQ(e.where(), "--set");
  EXPECT_NE(m.find("2147483648"), std::string::npos) << m;
  EXPECT_NE(m.find("-2147483648..2147483647"), std::string::npos) << m;
  EXPECT_EQ(c.GetInt("net.depth"), int64_t{2147483648});  // as a 64-bit integer it is fine
  m = ConfigErrorOf([&] { c.GetInt("net.width", 1, 4096); }, &e);
  EXPECT_EQ(e.key(), "net.width");
  EXPECT_NE(m.find("value -3 is out of range; allowed 1..4096"), std::string::npos) << m;
  EXPECT_EQ(c.GetInt("net.kernel", 1, 63), 3);
  EXPECT_EQ(c.GetInt32("train.batch_size"), 8);
}

TEST(ConfigTest, GetFloatRefusesWhatAFloatCannotHold) {
  Config c = Config::Load("", {"train.lr=1e300", "init.value=-1e-50", "dataset.spot=inf"});
  for (const char* key : {"train.lr", "init.value", "dataset.spot"}) {
    ConfigError e("", "");
    const std::string m = ConfigErrorOf([&] { c.GetFloat(key); }, &e);
    EXPECT_EQ(e.key(), key) << m;
    EXPECT_NE(m.find("32-bit float"), std::string::npos) << m;
  }
  EXPECT_NE(ConfigErrorOf([&] { c.GetFloat("train.lr"); }).find("1e+300"), std::string::npos);
  EXPECT_DOUBLE_EQ(c.GetDouble("train.lr"), 1e300);  // a double holds it
  c.ApplySet("train.lr=3.4e38");
  c.ApplySet("init.value=0");
  EXPECT_DOUBLE_EQ(c.GetFloat("train.lr"), 3.4e38);
  EXPECT_EQ(c.GetFloat("init.value"), 0.0);
  EXPECT_DOUBLE_EQ(Config().GetFloat("train.lr"), 3e-4);  // not rounded to float
}

TEST(ConfigTest, NumbersBeyondTheirTypeAreOutOfRangeNotWrongType) {
  Config c;
  std::string m = ConfigErrorOf([&] { c.ApplySet("net.depth=99999999999999999999"); });
  EXPECT_NE(m.find("out of the range of a 64-bit integer"), std::string::npos) << m;
  m = ConfigErrorOf([&] { c.MergeYaml("train:\n  lr: 1e999\n", "x.yaml"); });
  EXPECT_NE(m.find("'train.lr' (x.yaml line 2)"), std::string::npos) << m;
  EXPECT_NE(m.find("out of the range of a double"), std::string::npos) << m;
  m = ConfigErrorOf([&] { c.ApplySet("net.depth=1e3"); });
  EXPECT_NE(m.find("expected an integer, got '1e3'"), std::string::npos) << m;
}

TEST(ConfigTest, DuplicateKeysNameBothLines) {
  Config c;
  ConfigError e("", "");
  std::string m = ConfigErrorOf(
      [&] { c.MergeYaml("net:\n  depth: 3\n  width: 8\n  depth: 5\n", "exp.yaml"); }, &e);
  EXPECT_EQ(e.key(), "net.depth");
  EXPECT_EQ(e.where(), "exp.yaml line 4");
  EXPECT_NE(m.find("appears twice in one mapping (lines 2 and 4)"), std::string::npos) << m;
  EXPECT_EQ(c.GetInt("net.depth"), 16) << "nothing merged from a refused document";
  // A repeated section, a flow map, a map inside a list, a free-form map.
  m = ConfigErrorOf([&] { c.MergeYaml("net: {depth: 3}\ntrain: {}\nnet: {}\n", "a.yaml"); }, &e);
  EXPECT_EQ(e.key(), "net");
  EXPECT_NE(m.find("(lines 1 and 3)"), std::string::npos) << m;
  m = ConfigErrorOf([&] { c.MergeYaml("net: {depth: 3, depth: 4}\n", "b.yaml"); }, &e);
  EXPECT_EQ(e.key(), "net.depth");
  EXPECT_NE(m.find("(line 1, columns 7 and 17)"), std::string::npos) << m;
  ConfigErrorOf([&] { c.MergeYaml("theory:\n  layers:\n    - {conv: {k: 3, k: 5}}\n", "c.yaml"); },
                &e);
  EXPECT_EQ(e.key(), "theory.layers[0].conv.k");
  ConfigErrorOf([&] { c.MergeYaml("sweep:\n  axes:\n    a.b: [1]\n    a.b: [2]\n", "d"); }, &e);
  EXPECT_EQ(e.key(), "sweep.axes.a.b");
  m = ConfigErrorOf([&] { c.ApplySet("sweep.axes={net.depth: [2], net.depth: [4]}"); }, &e);
  EXPECT_EQ(e.key(), "sweep.axes.net.depth");
  EXPECT_EQ(e.where(), "--set");
  EXPECT_NE(m.find("(line 1, columns 2 and 18)"), std::string::npos) << m;
}

TEST(ConfigTest, ResultNeutralKeysAreKnownKeys) {
  Config c;
  ASSERT_EQ(ResultNeutralKeys().size(), 8u);
  for (const std::string& key : ResultNeutralKeys()) {
    EXPECT_TRUE(c.Has(key)) << key;
    EXPECT_EQ(key.rfind("sweep.", 0), std::string::npos) << key;
  }
}

TEST(ConfigTest, MergeFileRefusesWhatIsNotAConfigFile) {
  test::TempDir dir;
  Config c;
  EXPECT_THROW(c.MergeFile(dir.path()), UsageError);
  EXPECT_THROW(c.MergeFile("/dev/zero"), UsageError);
  EXPECT_THROW(c.MergeFile(dir / "missing.yaml"), UsageError);
  WriteFileAtomic(dir / "ok.yaml", "net:\n  depth: 5\n");
  c.MergeFile(dir / "ok.yaml");
  EXPECT_EQ(c.GetInt("net.depth"), 5);
}

TEST(ConfigTest, CopiesAndReadsFromManyThreadsAgree) {
  // yaml-cpp mutates nodes while reading them; sweep workers copy one base config at once.
  Config base;
  base.ApplySet("sweep.axes.net.depth=[2, 4, 8]");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Config c = base;
        c.ApplySet("net.depth=" + std::to_string(t + 1));
        if (c.GetInt("net.depth") != t + 1 || base.Get("sweep.axes.net.depth").size() != 3 ||
            c.GetString("dataset.kind") != "e") {
          ++wrong;
        }
        Config moved = std::move(c);
        if (moved.GetInt("net.depth") != t + 1) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(base.GetInt("net.depth"), 16);
}

}  // namespace
}  // namespace rfx
