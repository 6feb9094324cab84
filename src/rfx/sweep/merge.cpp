// Merging a sweep's record files (shards) into results.jsonl and results.csv, keeping what cannot
// be parsed in results.rejected.jsonl.
#include "rfx/sweep/merge.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "rfx/sweep/plan.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/store_internal.h"
#include "rfx/sweep/sweep_dir.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/lock.h"
#include "rfx/util/strings.h"

namespace rfx::sweep {

namespace fs = std::filesystem;
using internal::AxisKeys;
using internal::CellDifference;
using internal::UniqueRecords;
using nlohmann::json;

namespace {

const char* const kResultFields[] = {"repeat", "accuracy",   "loss",          "status",
                                     "steps",  "learned_at", "early_stopped", "wall_s",
                                     "device", "seed",       "message"};

std::string CsvField(const json& v) {
  std::string s;
  if (v.is_null()) return "";
  if (v.is_string()) {
    s = v.get<std::string>();
  } else {
    s = v.dump();
  }
  if (s.find_first_of(",\"\n") != std::string::npos) {
    std::string q = "\"";
    for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return s;
}

}  // namespace

std::string RecordsCsv(const std::vector<json>& records,
                       const std::vector<std::string>& axis_keys) {
  std::vector<std::string> cols = {"key"};
  std::set<std::string> known(std::begin(kResultFields), std::end(kResultFields));
  known.insert("key");
  known.insert("config_hash");  // in results.jsonl, not a column
  std::vector<std::string> axes = axis_keys;
  for (const auto& r : records) {  // axis columns not given (no sweep.yaml): from the records
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (!known.count(it.key()) && std::find(axes.begin(), axes.end(), it.key()) == axes.end()) {
        axes.push_back(it.key());
      }
    }
  }
  cols.insert(cols.end(), axes.begin(), axes.end());
  cols.insert(cols.end(), std::begin(kResultFields), std::end(kResultFields));
  std::string csv;
  for (size_t i = 0; i < cols.size(); ++i) csv += (i ? "," : "") + cols[i];
  csv += "\n";
  for (const auto& r : records) {
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i) csv += ",";
      if (r.contains(cols[i])) csv += CsvField(r[cols[i]]);
    }
    csv += "\n";
  }
  return csv;
}

namespace {

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? fs::absolute(path).lexically_normal().string() : p.string();
}

// The line of results.rejected.jsonl that keeps `bad` of `source`. The same line for the same
// bad line, so keeping twice can be seen.
std::string RejectedEntry(const std::string& source, const BadLine& bad) {
  json j = {{"source", AbsolutePath(source)}, {"line", bad.line}, {"text", bad.text}};
  try {
    return j.dump();
  } catch (const json::type_error&) {  // not UTF-8: readable text, and the bytes exactly
    j["text"] = json::parse(json(bad.text).dump(-1, ' ', false, json::error_handler_t::replace));
    static const char* const kDigits = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : bad.text) hex += {kDigits[c >> 4], kDigits[c & 15]};
    j["hex"] = hex;
    return j.dump();
  }
}

// Appends the rejected lines not kept yet to rep->rejected_path, durably and in one write.
void KeepRejected(MergeReport* rep) {
  if (rep->rejected.empty()) return;
  const std::vector<std::string> old = ReadCompleteLines(rep->rejected_path);
  std::set<std::string> kept(old.begin(), old.end());
  std::string lines;
  for (const auto& r : rep->rejected) {
    std::string entry = RejectedEntry(r.source, r.bad);
    if (!kept.insert(entry).second) continue;
    lines += (lines.empty() ? "" : "\n") + entry;
    ++rep->rejected_added;
  }
  if (lines.empty()) return;
  DropPartialLastLine(rep->rejected_path);  // a merge cut short: its lines are written again
  AppendLineDurable(rep->rejected_path, lines);
}

}  // namespace

MergeReport Merge(const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw UsageError("rfx merge needs at least one directory");
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) throw UsageError("merge: '" + d + "' is not a directory");
  }
  const std::string dest = dirs[0];
  // The cells of every directory must be the same sweep's.
  std::string dest_config = FileExists(SweepConfigPath(dest)) ? SweepConfigPath(dest) : "";
  for (const auto& d : dirs) {
    if (!FileExists(SweepConfigPath(d))) continue;
    if (dest_config.empty()) {
      dest_config = SweepConfigPath(d);
      continue;
    }
    Config a, b;
    a.MergeFile(dest_config);
    b.MergeFile(SweepConfigPath(d));
    const std::string why = CellDifference(a, b);
    if (!why.empty()) {
      throw UsageError("merge: '" + d + "' holds another sweep than '" + dest + "' (" + why + ")");
    }
  }
  // results.jsonl is rewritten below: nobody may be appending to it meanwhile.
  const std::string results = ResultsPath(dest);
  const std::optional<FileLock> lock = FileLock::TryLock(LockPath(results));
  if (!lock) {
    const std::string pid = FileLock::Holder(LockPath(results));
    throw UsageError("merge: another rfx process is writing " + results +
                     (pid.empty() ? "" : " (pid " + pid + ")") + "; merge once it has finished");
  }
  MergeReport rep;
  rep.rejected_path = RejectedPath(dest);
  UniqueRecords unique;  // a retried cell's result takes its failed record's place
  size_t existing = 0;
  std::vector<json> hashes;  // {"config_hash"} of every record read
  auto take = [&](const std::string& file, bool is_dest_results) {
    rep.sources.push_back(file);
    RecordFile read = ReadRecordFile(file);
    for (auto& b : read.bad) rep.rejected.push_back({file, std::move(b)});
    for (auto& r : read.records) {
      if (r.contains("config_hash")) hashes.push_back({{"config_hash", r["config_hash"]}});
      if (!unique.Add(std::move(r))) {
        ++rep.duplicates;
      } else if (is_dest_results) {
        ++existing;
      }
    }
  };
  if (FileExists(results)) take(results, true);
  for (const auto& d : dirs) {
    for (const auto& f : RecordFiles(d)) {
      if (f == results) continue;
      take(f, false);
    }
  }
  // Records of two configs (a sweep.yaml deleted or replaced) are not pooled.
  std::string expected;
  if (!dest_config.empty()) {
    Config c;
    c.MergeFile(dest_config);
    expected = Plan(c).ConfigHash();
  }
  CheckOneConfig(hashes, expected, dest, "merge would pool them");
  KeepRejected(&rep);  // before results.jsonl is rewritten without them
  const std::vector<json>& merged = unique.records();
  rep.records = merged.size();
  rep.added = merged.size() - existing;
  std::string text;
  for (const auto& r : merged) text += r.dump() + "\n";
  WriteFileAtomic(results, text);
  std::vector<std::string> axis_keys;
  if (!dest_config.empty()) {
    Config c;
    c.MergeFile(dest_config);
    axis_keys = AxisKeys(c);
    if (dest_config != SweepConfigPath(dest)) WriteFileAtomic(SweepConfigPath(dest), c.Dump());
  }
  WriteFileAtomic(dest + "/results.csv", RecordsCsv(merged, axis_keys));
  return rep;
}

}  // namespace rfx::sweep
