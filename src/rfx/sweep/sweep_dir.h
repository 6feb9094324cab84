// A sweep directory's config (sweep.yaml): checked against the sweep's and stored.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/config/config.h"

namespace rfx::sweep {

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

}  // namespace rfx::sweep
