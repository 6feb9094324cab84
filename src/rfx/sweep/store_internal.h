// What the store, the sweep-directory guard and the merge share (internal to rfx/sweep).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/sweep/store.h"

namespace rfx::sweep::internal {

using nlohmann::json;

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

// Why `stored` and `config` describe different cells ("" if they don't).
std::string CellDifference(const Config& stored, const Config& config);

// The axis keys of a config's sweep.axes, in order.
std::vector<std::string> AxisKeys(const Config& c);

}  // namespace rfx::sweep::internal
