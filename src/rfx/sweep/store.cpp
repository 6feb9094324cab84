#include "rfx/sweep/store.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "rfx/sweep/plan.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/lock.h"
#include "rfx/util/strings.h"

namespace rfx::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kResultFields[] = {"repeat", "accuracy",   "loss",          "status",
                                     "steps",  "learned_at", "early_stopped", "wall_s",
                                     "device", "seed",       "message"};
// What may differ between a sweep directory's stored config and a rerun's: the sweep's own
// settings and the keys that do not change a result.
const std::vector<std::string>& IgnoredForCells() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = {"sweep."};
    for (const std::string& n : ResultNeutralKeys()) k.push_back(n);
    return k;
  }();
  return keys;
}

void Flatten(const YAML::Node& n, const std::string& prefix,
             std::map<std::string, std::string>* out) {
  if (n.IsMap() && n.size() > 0) {
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      Flatten(kv.second, prefix.empty() ? k : prefix + "." + k, out);
    }
    return;
  }
  YAML::Emitter e;
  e << YAML::Flow << n;
  (*out)[prefix] = e.c_str();
}

bool Ignored(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (key == p || key.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::vector<std::string> AxisKeys(const Config& c) {
  std::vector<std::string> keys;
  const YAML::Node axes = c.Get("sweep.axes");
  if (axes.IsMap()) {
    for (const auto& kv : axes) keys.push_back(kv.first.as<std::string>());
  }
  return keys;
}

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

std::string ResultsPath(const std::string& dir) { return dir + "/results.jsonl"; }
std::string ShardPath(const std::string& dir, int shard, int count) {
  return dir + "/shard-" + std::to_string(shard) + "-of-" + std::to_string(count) + ".jsonl";
}
std::string SweepConfigPath(const std::string& dir) { return dir + "/sweep.yaml"; }
std::string RejectedPath(const std::string& dir) { return dir + "/results.rejected.jsonl"; }
std::string LockPath(const std::string& records_file) { return records_file + ".lock"; }

RecordFile ReadRecordFile(const std::string& path) {
  RecordFile out;
  for (auto& line : ReadNumberedLines(path, &out.truncated)) {
    if (line.text.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line.text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) {
      out.bad.push_back({line.number, std::move(line.text)});
      continue;
    }
    out.records.push_back(std::move(j));
  }
  return out;
}

std::vector<json> ReadRecords(const std::string& path, int* skipped) {
  RecordFile f = ReadRecordFile(path);
  if (skipped) *skipped = static_cast<int>(f.bad.size());
  return std::move(f.records);
}

std::vector<std::string> RecordFiles(const std::string& dir) {
  std::vector<std::string> files;
  if (FileExists(ResultsPath(dir))) files.push_back(ResultsPath(dir));
  std::vector<std::string> shards;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("shard-", 0) == 0 && name.size() > 6 &&
          name.substr(name.size() - 6) == ".jsonl") {
        shards.push_back(e.path().string());
      }
    }
  }
  std::sort(shards.begin(), shards.end());
  files.insert(files.end(), shards.begin(), shards.end());
  return files;
}

bool IsFinished(const json& record) {
  return !(record.contains("status") && record["status"] == "failed");
}

bool Supersedes(const json& newer, const json& older) {
  return !IsFinished(older) && IsFinished(newer);
}

namespace {

// Records kept one per key in first-seen order; a later record of a key replaces the kept one
// in its place only if it supersedes it.
class UniqueRecords {
 public:
  // Returns false if the key was there already.
  bool Add(json r) {
    const auto [it, fresh] = at_.emplace(r["key"].get<std::string>(), records_.size());
    if (fresh) {
      records_.push_back(std::move(r));
    } else if (Supersedes(r, records_[it->second])) {
      records_[it->second] = std::move(r);
    }
    return fresh;
  }
  const std::vector<json>& records() const { return records_; }
  std::vector<json> Take() { return std::move(records_); }

 private:
  std::vector<json> records_;
  std::map<std::string, size_t> at_;  // key -> index in records_
};

}  // namespace

std::vector<json> ReadDirRecords(const std::string& dir) {
  UniqueRecords out;
  for (const auto& f : RecordFiles(dir)) {
    for (auto& r : ReadRecords(f)) out.Add(std::move(r));
  }
  return out.Take();
}

ResultStore::ResultStore(const std::string& dir, const std::string& out_path)
    : dir_(dir), out_path_(out_path) {
  MakeDirs(dir);
  DropPartialLastLine(out_path_);
  std::vector<std::string> files = RecordFiles(dir);
  // The output file may have another name pattern (a custom path): read it too, once.
  if (std::find(files.begin(), files.end(), out_path_) == files.end()) files.push_back(out_path_);
  UniqueRecords all;
  for (const auto& f : files) {
    for (auto& r : ReadRecords(f)) all.Add(std::move(r));
  }
  for (auto& r : all.Take()) {
    const std::string k = r["key"].get<std::string>();
    records_.emplace(k, std::move(r));
  }
}

const json* ResultStore::Find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(key);
  return it == records_.end() || !IsFinished(it->second) ? nullptr : &it->second;
}

bool ResultStore::Append(const json& record) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string k = record.at("key").get<std::string>();
  auto it = records_.find(k);
  if (it != records_.end() && !Supersedes(record, it->second)) return false;
  AppendLineDurable(out_path_, record.dump());
  records_[k] = record;
  return true;
}

size_t ResultStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

std::vector<std::string> DiffConfigs(const Config& a, const Config& b,
                                     const std::vector<std::string>& ignore_prefixes) {
  std::map<std::string, std::string> fa, fb;
  Flatten(a.root(), "", &fa);
  Flatten(b.root(), "", &fb);
  std::set<std::string> keys;
  for (const auto& kv : fa) keys.insert(kv.first);
  for (const auto& kv : fb) keys.insert(kv.first);
  std::vector<std::string> diff;
  for (const auto& k : keys) {
    if (Ignored(k, ignore_prefixes)) continue;
    auto ia = fa.find(k), ib = fb.find(k);
    const std::string va = ia == fa.end() ? "(none)" : ia->second;
    const std::string vb = ib == fb.end() ? "(none)" : ib->second;
    if (va != vb) diff.push_back(k + ": " + va + " -> " + vb);
  }
  return diff;
}

namespace {

// Why `stored` and `config` describe different cells ("" if they don't).
std::string CellDifference(const Config& stored, const Config& config) {
  const auto diff = DiffConfigs(stored, config, IgnoredForCells());
  if (!diff.empty()) return "changed " + Join(diff);
  auto ka = AxisKeys(stored), kb = AxisKeys(config);
  std::sort(ka.begin(), ka.end());
  std::sort(kb.begin(), kb.end());
  if (ka != kb) return "sweep axes changed from [" + Join(ka) + "] to [" + Join(kb) + "]";
  return "";
}

}  // namespace

std::string CheckAndStoreConfig(const std::string& dir, const Config& config, bool force_new) {
  MakeDirs(dir);
  const std::string path = SweepConfigPath(dir);
  std::string note;
  if (FileExists(path)) {
    Config stored;
    stored.MergeFile(path);
    const std::string why = CellDifference(stored, config);
    if (!why.empty()) {
      if (!force_new) {
        throw UsageError("the sweep in '" + dir + "' was run with another config (" + why +
                         "); its results would not match. Use a new --out, or --force-new to "
                         "set the old results aside and start afresh");
      }
      int n = 1;
      while (FileExists(dir + "/superseded-" + std::to_string(n))) ++n;
      const std::string old = dir + "/superseded-" + std::to_string(n);
      MakeDirs(old);
      for (const auto& f : RecordFiles(dir)) {
        fs::rename(f, old + "/" + fs::path(f).filename().string());
      }
      fs::rename(path, old + "/sweep.yaml");
      if (FileExists(dir + "/cells")) fs::rename(dir + "/cells", old + "/cells");
      note = "--force-new: old results moved to " + old;
    } else {
      const auto diff = DiffConfigs(stored, config, {});
      if (!diff.empty()) note = "config changed without changing cells (" + Join(diff) + ")";
    }
  }
  WriteFileAtomic(path, config.Dump());
  return note;
}

std::string RecordsCsv(const std::vector<json>& records,
                       const std::vector<std::string>& axis_keys) {
  std::vector<std::string> cols = {"key"};
  std::set<std::string> known(std::begin(kResultFields), std::end(kResultFields));
  known.insert("key");
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
  auto take = [&](const std::string& file, bool is_dest_results) {
    rep.sources.push_back(file);
    RecordFile read = ReadRecordFile(file);
    for (auto& b : read.bad) rep.rejected.push_back({file, std::move(b)});
    for (auto& r : read.records) {
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
