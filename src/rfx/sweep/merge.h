// `rfx merge`: the records of several sweep directories (shards) into one.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/sweep/store.h"

namespace rfx::sweep {

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
