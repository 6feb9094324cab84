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

}  // namespace rfx::sweep
