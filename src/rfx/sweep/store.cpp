#include "rfx/sweep/store.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "rfx/sweep/plan.h"
#include "rfx/sweep/store_internal.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"

namespace rfx::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

using internal::UniqueRecords;

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

}  // namespace rfx::sweep
