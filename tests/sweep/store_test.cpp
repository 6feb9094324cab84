#include "rfx/sweep/store.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "rfx/sweep/merge.h"
#include "rfx/sweep/sweep_dir.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/lock.h"
#include "test_util.h"

namespace rfx::sweep {
namespace {

using nlohmann::json;

json Rec(const std::string& key, double acc) {
  return {{"key", key}, {"accuracy", acc}, {"net.depth", 4}, {"status", "ok"}};
}

TEST(ResultStoreTest, AppendsAndFindsRecords) {
  test::TempDir dir;
  {
    ResultStore s(dir.path(), ResultsPath(dir.path()));
    EXPECT_EQ(s.size(), 0u);
    EXPECT_TRUE(s.Append(Rec("a", 0.5)));
    EXPECT_TRUE(s.Append(Rec("b", 0.9)));
    EXPECT_FALSE(s.Append(Rec("a", 0.7))) << "a key is stored once";
  }
  ResultStore s(dir.path(), ResultsPath(dir.path()));
  EXPECT_EQ(s.size(), 2u);
  ASSERT_NE(s.Find("b"), nullptr);
  EXPECT_DOUBLE_EQ((*s.Find("b"))["accuracy"].get<double>(), 0.9);
  EXPECT_EQ(ReadCompleteLines(ResultsPath(dir.path())).size(), 2u);
}

TEST(ResultStoreTest, TruncatedLastLineIsIgnoredAndRewritten) {
  test::TempDir dir;
  const std::string path = ResultsPath(dir.path());
  {
    ResultStore s(dir.path(), path);
    s.Append(Rec("a", 0.5));
    s.Append(Rec("b", 0.6));
  }
  // A crash in the middle of writing record c.
  const std::string partial = Rec("c", 0.7).dump();
  {
    std::ofstream f(path, std::ios::app);
    f << partial.substr(0, partial.size() / 2);
  }
  int skipped = -1;
  EXPECT_EQ(ReadRecords(path, &skipped).size(), 2u);
  ResultStore s(dir.path(), path);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.Find("c"), nullptr) << "the cut-off cell counts as not finished";
  EXPECT_TRUE(s.Append(Rec("c", 0.7)));
  const auto lines = ReadCompleteLines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[2])["key"], "c");
  EXPECT_EQ(ReadFile(path).back(), '\n');
}

TEST(ResultStoreTest, SeesRecordsOfEveryFileOfTheDirectory) {
  test::TempDir dir;
  AppendLineDurable(ShardPath(dir.path(), 1, 2), Rec("a", 0.1).dump());
  AppendLineDurable(ResultsPath(dir.path()), Rec("b", 0.2).dump());
  ResultStore s(dir.path(), ShardPath(dir.path(), 2, 2));
  EXPECT_NE(s.Find("a"), nullptr);
  EXPECT_NE(s.Find("b"), nullptr);
  EXPECT_FALSE(s.Append(Rec("a", 0.3)));
  EXPECT_FALSE(FileExists(ShardPath(dir.path(), 2, 2)));
}

TEST(MergeTest, DeduplicatesAndIsIdempotent) {
  test::TempDir dir, other;
  AppendLineDurable(ShardPath(dir.path(), 1, 2), Rec("a", 0.1).dump());
  AppendLineDurable(ShardPath(dir.path(), 1, 2), Rec("b", 0.2).dump());
  AppendLineDurable(ShardPath(dir.path(), 2, 2), Rec("c", 0.3).dump());
  AppendLineDurable(ShardPath(dir.path(), 2, 2), Rec("a", 0.1).dump());  // a duplicate
  AppendLineDurable(ShardPath(other.path(), 1, 1), Rec("d", 0.4).dump());
  const MergeReport r1 = Merge({dir.path(), other.path()});
  EXPECT_EQ(r1.records, 4u);
  EXPECT_EQ(r1.added, 4u);
  EXPECT_EQ(r1.duplicates, 1u);
  const std::string jsonl = ReadFile(ResultsPath(dir.path()));
  const std::string csv = ReadFile(dir / "results.csv");
  const auto recs = ReadRecords(ResultsPath(dir.path()));
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0]["key"], "a");
  EXPECT_EQ(recs[3]["key"], "d");
  EXPECT_EQ(
      csv.substr(0, csv.find('\n')),
      "key,net.depth,repeat,accuracy,loss,status,steps,learned_at,early_stopped,wall_s,device,"
      "seed,message");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);

  const MergeReport r2 = Merge({dir.path(), other.path()});
  EXPECT_EQ(r2.records, 4u);
  EXPECT_EQ(r2.added, 0u);
  EXPECT_EQ(ReadFile(ResultsPath(dir.path())), jsonl) << "merging twice changes nothing";
  EXPECT_EQ(ReadFile(dir / "results.csv"), csv);
}

// A failed cell (crashed training) is not a result: a resumed sweep trains it again and the new
// record stands in its place everywhere; a second failure adds nothing.
TEST(ResultStoreTest, AFailedRecordIsRetriedAndSuperseded) {
  test::TempDir dir;
  json failed = Rec("a", 0.0);
  failed["status"] = "failed";
  json diverged = Rec("b", 0.5);
  diverged["status"] = "diverged";
  {
    ResultStore s(dir.path(), ResultsPath(dir.path()));
    EXPECT_TRUE(s.Append(failed));
    EXPECT_TRUE(s.Append(diverged));
    EXPECT_EQ(s.Find("a"), nullptr) << "failed: to be trained again";
    ASSERT_NE(s.Find("b"), nullptr) << "diverged is a result";
    EXPECT_FALSE(s.Append(failed)) << "failing again adds nothing";
  }
  ResultStore s(dir.path(), ResultsPath(dir.path()));
  EXPECT_EQ(s.Find("a"), nullptr);
  EXPECT_TRUE(s.Append(Rec("a", 0.93)));
  ASSERT_NE(s.Find("a"), nullptr);
  EXPECT_DOUBLE_EQ((*s.Find("a"))["accuracy"].get<double>(), 0.93);
  EXPECT_FALSE(s.Append(Rec("a", 0.1))) << "a finished record is final";
  EXPECT_EQ(ReadCompleteLines(ResultsPath(dir.path())).size(), 3u);  // failed, diverged, retry

  const auto recs = ReadDirRecords(dir.path());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["key"], "a");
  EXPECT_EQ(recs[0]["status"], "ok");
  EXPECT_EQ(recs[1]["status"], "diverged");

  // Merging a shard that still holds the failed record changes nothing; merged = one per key.
  test::TempDir other;
  {
    ResultStore shard(other.path(), ShardPath(other.path(), 0, 2));
    ASSERT_TRUE(shard.Append(failed));
  }
  const MergeReport rep = Merge({dir.path(), other.path()});
  EXPECT_EQ(rep.records, 2u);
  const auto merged = ReadRecords(ResultsPath(dir.path()));
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0]["status"], "ok");
  const std::string once = ReadFile(ResultsPath(dir.path()));
  Merge({dir.path(), other.path()});
  EXPECT_EQ(ReadFile(ResultsPath(dir.path())), once) << "merge is idempotent";
}

TEST(MergeTest, RefusesAnotherSweep) {
  test::TempDir a, b;
  Config ca = Config::Load("", {"sweep.axes.net.depth=[2]"});
  Config cb = Config::Load("", {"sweep.axes.net.depth=[2]", "train.steps=7"});
  CheckAndStoreConfig(a.path(), ca, false);
  CheckAndStoreConfig(b.path(), cb, false);
  try {
    Merge({a.path(), b.path()});
    ADD_FAILURE() << "merged two different sweeps";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("train.steps"), std::string::npos) << e.what();
  }
}

TEST(StoredConfigTest, ChangedCellsAreRefusedUnlessForceNew) {
  test::TempDir dir;
  const Config c1 = Config::Load("", {"sweep.axes.net.depth=[2,4]", "train.steps=5"});
  EXPECT_EQ(CheckAndStoreConfig(dir.path(), c1, false), "");
  AppendLineDurable(ResultsPath(dir.path()), Rec("a", 0.1).dump());
  // Same cells, other threads / more depths: fine.
  const Config c2 =
      Config::Load("", {"sweep.axes.net.depth=[2,4,8]", "train.steps=5", "train.threads=1"});
  EXPECT_NE(CheckAndStoreConfig(dir.path(), c2, false), "");
  // Other steps: every cell differs.
  const Config c3 = Config::Load("", {"sweep.axes.net.depth=[2,4,8]", "train.steps=6"});
  try {
    CheckAndStoreConfig(dir.path(), c3, false);
    ADD_FAILURE() << "accepted a config with other cells";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("train.steps: 5 -> 6"), std::string::npos) << e.what();
  }
  // Another axis set: refused too.
  const Config c4 =
      Config::Load("", {"sweep.axes.net.width=[2,4,8]", "train.steps=5", "train.threads=1"});
  EXPECT_THROW(CheckAndStoreConfig(dir.path(), c4, false), UsageError);
  // --force-new sets the old results aside.
  const std::string note = CheckAndStoreConfig(dir.path(), c3, true);
  EXPECT_NE(note.find("superseded-1"), std::string::npos) << note;
  EXPECT_FALSE(FileExists(ResultsPath(dir.path())));
  EXPECT_TRUE(FileExists(dir / "superseded-1/results.jsonl"));
  EXPECT_EQ(CheckAndStoreConfig(dir.path(), c3, false), "");
}

void AppendRaw(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

TEST(ReadRecordFileTest, GivesTheLineNumbersOfBadLinesAndLeavesAPartialLastLineAlone) {
  test::TempDir dir;
  const std::string p = dir / "results.jsonl";
  AppendRaw(p, Rec("a", 0.1).dump() + "\n\nnot json\n[1,2]\n{\"no\":\"key\"}\n" +
                   Rec("b", 0.2).dump() + "\n{\"key\":\"c\",\"acc");
  const RecordFile f = ReadRecordFile(p);
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[1]["key"], "b");
  ASSERT_EQ(f.bad.size(), 3u);
  EXPECT_EQ(f.bad[0].line, 3u);
  EXPECT_EQ(f.bad[0].text, "not json");
  EXPECT_EQ(f.bad[2].line, 5u);
  EXPECT_TRUE(f.truncated);
  int skipped = 0;
  EXPECT_EQ(ReadRecords(p, &skipped).size(), 2u);
  EXPECT_EQ(skipped, 3);
}

// A merge used to rewrite results.jsonl with the records it could parse: a file of garbage
// became an empty file.
TEST(MergeTest, KeepsUnreadableLinesAndStaysIdempotent) {
  test::TempDir dir;
  const std::string results = ResultsPath(dir.path());
  AppendRaw(results, "garbage one\n" + Rec("a", 0.1).dump() + "\n\xff\xfe binary\n");
  AppendRaw(ShardPath(dir.path(), 1, 2), Rec("b", 0.2).dump() + "\n{oops\n");
  AppendRaw(ShardPath(dir.path(), 2, 2), Rec("c", 0.3).dump() + "\n{\"key\":\"d\"");  // writing
  const MergeReport r = Merge({dir.path()});
  EXPECT_EQ(r.records, 3u);
  ASSERT_EQ(r.rejected.size(), 3u) << "the unfinished last line of shard 2 is not garbage";
  EXPECT_EQ(r.rejected_added, 3u);
  EXPECT_EQ(r.rejected[0].source, results);
  EXPECT_EQ(r.rejected[0].bad.line, 1u);
  EXPECT_EQ(r.rejected[1].bad.line, 3u);
  EXPECT_EQ(r.rejected[2].source, ShardPath(dir.path(), 1, 2));
  EXPECT_EQ(r.rejected[2].bad.line, 2u);
  EXPECT_EQ(r.rejected_path, dir / "results.rejected.jsonl");

  const auto kept = ReadCompleteLines(r.rejected_path);
  ASSERT_EQ(kept.size(), 3u);
  const json first = json::parse(kept[0]);
  EXPECT_EQ(first["source"], std::filesystem::canonical(results).string());
  EXPECT_EQ(first["line"], 1);
  EXPECT_EQ(first["text"], "garbage one");
  const json binary = json::parse(kept[1]);
  EXPECT_EQ(binary["hex"], "fffe2062696e617279") << "bytes that are not UTF-8 are kept exactly";
  EXPECT_EQ(json::parse(kept[2])["text"], "{oops");
  const auto merged = ReadRecords(results);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0]["key"], "a");

  const std::string jsonl = ReadFile(results), rejected = ReadFile(r.rejected_path);
  const MergeReport again = Merge({dir.path()});
  EXPECT_EQ(again.rejected.size(), 1u) << "shard 1's bad line is still there";
  EXPECT_EQ(again.rejected_added, 0u);
  EXPECT_EQ(ReadFile(r.rejected_path), rejected) << "a kept line is not kept twice";
  EXPECT_EQ(ReadFile(results), jsonl);
}

TEST(MergeTest, RefusesWhileAnotherProcessWritesTheResults) {
  test::TempDir dir;
  AppendLineDurable(ShardPath(dir.path(), 1, 1), Rec("a", 0.1).dump());
  {
    auto lock = FileLock::TryLock(LockPath(ResultsPath(dir.path())));
    ASSERT_TRUE(lock.has_value());
    try {
      Merge({dir.path()});
      ADD_FAILURE() << "merged into a results.jsonl being written";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("(pid " + std::to_string(::getpid()) + ")"),
                std::string::npos)
          << e.what();
    }
    EXPECT_FALSE(FileExists(ResultsPath(dir.path())));
  }
  EXPECT_EQ(Merge({dir.path()}).records, 1u);
}

TEST(RecordsCsvTest, HasLearnedAtAndEarlyStopped) {
  json a = Rec("a", 0.95), b = Rec("b", 0.5);
  a["learned_at"] = 1200;
  a["early_stopped"] = true;
  b["learned_at"] = nullptr;
  b["early_stopped"] = false;
  const std::string csv = RecordsCsv({a, b}, {"net.depth"});
  EXPECT_EQ(csv,
            "key,net.depth,repeat,accuracy,loss,status,steps,learned_at,early_stopped,wall_s,"
            "device,seed,message\n"
            "a,4,,0.95,,ok,,1200,true,,,,\n"
            "b,4,,0.5,,ok,,,false,,,,\n");
}

TEST(StoredConfigTest, AFailedWriteKeepsTheOldConfigAndLeavesNoTemp) {
  test::TempDir dir;
  const Config c1 = Config::Load("", {"sweep.axes.net.depth=[2]"});
  CheckAndStoreConfig(dir.path(), c1, false);
  const std::string before = ReadFile(SweepConfigPath(dir.path()));
  const Config c2 = Config::Load("", {"sweep.axes.net.depth=[2,4]"});
  SetWriteFailureForTesting([](const std::string&) { return ENOSPC; });
  EXPECT_THROW(CheckAndStoreConfig(dir.path(), c2, false), IoError);
  SetWriteFailureForTesting(nullptr);
  EXPECT_EQ(ReadFile(SweepConfigPath(dir.path())), before);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "sweep.yaml");
  }
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace rfx::sweep
