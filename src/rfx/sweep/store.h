// The results store of a sweep directory: one JSON object per finished training, appended and
// fsynced record by record (DIR/results.jsonl, or DIR/shard-I-of-N.jsonl for a shard), the
// resolved sweep config (DIR/sweep.yaml), and merging shards into results.jsonl/results.csv.
// Lines that are not records are never dropped: a merge keeps them in results.rejected.jsonl.
#pragma once
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/config/config.h"

namespace rfx::sweep {

// File names inside a sweep directory.
std::string ResultsPath(const std::string& dir);                      // results.jsonl
std::string ShardPath(const std::string& dir, int shard, int count);  // shard-I-of-N.jsonl
std::string SweepConfigPath(const std::string& dir);                  // sweep.yaml
std::string RejectedPath(const std::string& dir);                     // results.rejected.jsonl
// The lock file that keeps a second writer off a record file: "<records_file>.lock". Whoever
// writes or rewrites a record file (a sweep, a merge) holds it (rfx/util/lock.h).
std::string LockPath(const std::string& records_file);

// A complete line of a record file that is not a record.
struct BadLine {
  size_t line = 0;   // 1-based line number in its file
  std::string text;  // the line as it is in the file (without '\n')
};

// One .jsonl file read: the records are the complete lines that parse as JSON objects with a
// string "key"; every other non-blank complete line is bad. A last line without its '\n' (still
// being written, or cut by a crash) is neither: it is left out and `truncated` is set.
struct RecordFile {
  std::vector<nlohmann::json> records;
  std::vector<BadLine> bad;  // in file order
  bool truncated = false;
};
RecordFile ReadRecordFile(const std::string& path);

// The records of ReadRecordFile(path) alone; `*skipped` counts the bad lines.
std::vector<nlohmann::json> ReadRecords(const std::string& path, int* skipped = nullptr);

// Every record file of a directory: results.jsonl first, then shard-*.jsonl in name order.
std::vector<std::string> RecordFiles(const std::string& dir);

// A record is finished unless its status is "failed" (the training crashed or was killed from
// outside): a failed cell is trained again when its sweep resumes, and the new record takes the
// failed one's place. "diverged" is a result (the net at that lr blew up) and stays.
bool IsFinished(const nlohmann::json& record);
// Whether `newer` replaces `older` of the same key: only a finished record replaces a failed one.
bool Supersedes(const nlohmann::json& newer, const nlohmann::json& older);

// Records of a directory, one per key, in file order: the first record of a key wins unless
// it failed and a later one finished (that one then stands in the failed one's place).
std::vector<nlohmann::json> ReadDirRecords(const std::string& dir);

// Appends records to one file of a directory; knows every record already in the directory.
class ResultStore {
 public:
  // Opens `dir` (created if missing) for appending to `out_path`. Cuts a truncated last line off
  // `out_path` (its cell is retrained) and loads the records of every record file of `dir`.
  ResultStore(const std::string& dir, const std::string& out_path);

  // The finished record of `key`, or nullptr (none, or only a failed one: train it again).
  const nlohmann::json* Find(const std::string& key) const;
  // Appends a record (must have "key") durably; ignored if the key already has a record that
  // this one does not supersede. Thread-safe. Returns false if it was ignored.
  bool Append(const nlohmann::json& record);
  size_t size() const;
  const std::string& out_path() const { return out_path_; }

 private:
  std::string dir_, out_path_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> records_;
};

// Keys of two resolved configs whose values differ (dotted paths), ignoring `ignore_prefixes`
// (e.g. "sweep." or "train.threads").
std::vector<std::string> DiffConfigs(const Config& a, const Config& b,
                                     const std::vector<std::string>& ignore_prefixes);

// Checks a directory's stored sweep.yaml against `config` and stores `config` there.
// Refuses (UsageError naming the differing keys) when the cells would differ: any key outside
// sweep.* that changes a result, or a different set of axis keys. Axis values, repeats, mode
// and threshold settings may change (existing cells keep their keys). Also refuses a directory
// that holds records but no sweep.yaml (their config is unknown), and records whose config_hash
// is not `config`'s (sweep.yaml replaced by hand). With `force_new`, old record files are moved
// to DIR/superseded-<n>/ and the sweep starts afresh.
// Returns a note describing what changed ("" if nothing).
std::string CheckAndStoreConfig(const std::string& dir, const Config& config, bool force_new);

// The config_hash of records (Plan::ConfigHash) must be one: `expected` (the hash of the
// directory's sweep.yaml; "" when there is none: the first record's). Records without one (written
// before rfx recorded it) pass. Throws UsageError naming `dir`, how many records are of each
// config and `refused` (what was not done, e.g. "fit would pool them").
void CheckOneConfig(const std::vector<nlohmann::json>& records, const std::string& expected,
                    const std::string& dir, const std::string& refused);

// An unreadable line met by a merge.
struct RejectedLine {
  std::string source;  // the file, as named by the merge's directories ("DIR/shard-1-of-2.jsonl")
  BadLine bad;
};

struct MergeReport {
  size_t records = 0;                  // records in the merged results.jsonl
  size_t added = 0;                    // new to results.jsonl in this merge
  size_t duplicates = 0;               // records seen more than once (same key) and dropped
  std::vector<std::string> sources;    // files read
  std::vector<RejectedLine> rejected;  // unreadable lines met, all kept in rejected_path
  size_t rejected_added = 0;           // of which this merge appended to rejected_path
  std::string rejected_path;           // dirs[0]/results.rejected.jsonl
};

// Merges the records of `dirs` (results.jsonl and shard files of each) into dirs[0]:
// results.jsonl (one per key, as ReadDirRecords; existing records keep their order, new ones
// follow in file order) and results.csv. Copies sweep.yaml into dirs[0] if it has none; refuses
// (UsageError) dirs whose sweep.yaml describes other cells, and a dirs[0]/results.jsonl that
// another process is writing (its LockPath is held). Unreadable lines are appended to
// dirs[0]/results.rejected.jsonl ({"source": absolute path, "line", "text"}, plus "hex" of the
// bytes when they are not UTF-8) before results.jsonl is rewritten without them. Idempotent:
// merging again changes no byte, and a line already kept is not kept twice.
MergeReport Merge(const std::vector<std::string>& dirs);

// CSV of records: key, the axis columns (in `axis_keys` order), then the result fields.
std::string RecordsCsv(const std::vector<nlohmann::json>& records,
                       const std::vector<std::string>& axis_keys);

}  // namespace rfx::sweep
