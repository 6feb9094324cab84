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
