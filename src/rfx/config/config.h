// The configuration tree: the embedded defaults (configs/defaults.yaml), a YAML file merged on
// top, then `--set key=value` overrides. Every key must exist in the defaults (except inside
// free-form maps, written `{}` there) and every value must have the default's type; errors
// name the key, the value, what is allowed, and the file line it came from.
// Thread safety: yaml-cpp mutates nodes even when reading them (map iteration), so every Config
// shares no node with another and all access to the trees goes through one process-wide lock;
// Configs may be copied and read from several threads at once (sweep workers do).
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rfx/util/error.h"

namespace rfx {

class Config {
 public:
  // The embedded defaults.
  Config();
  Config(const Config& other);
  Config& operator=(const Config& other);
  Config(Config&& other) noexcept;
  Config& operator=(Config&& other) noexcept;

  // Defaults + optional file (empty = none) + assignments ("a.b=value", value parsed as YAML).
  static Config Load(const std::string& file, const std::vector<std::string>& sets = {});

  // Merges a YAML document onto this config; `source` names it in errors ("exp.yaml"). A key
  // given twice in one mapping is a ConfigError naming both lines.
  void MergeYaml(const std::string& yaml_text, const std::string& source);
  // Merges a file read with ReadConfigFile (config_file.h): a regular file of at most 4 MiB;
  // anything else (a directory, /dev/zero, a FIFO) is a UsageError naming the path.
  void MergeFile(const std::string& path);
  // "a.b=value" (value parsed as a YAML scalar or flow collection).
  void ApplySet(const std::string& assignment);
  // Sets one key to a YAML value, checked like file values. `origin` names it in errors.
  void Set(const std::string& key, const YAML::Node& value, const std::string& origin = "--set");

  bool Has(const std::string& key) const;
  // The node at a dotted key (a copy sharing nothing with this config). Throws if missing.
  YAML::Node Get(const std::string& key) const;
  // Typed getters. Each throws ConfigError naming the key, its value, what is allowed and where
  // the value came from; read options through these, never by casting a wider value.
  // Any 64-bit integer.
  int64_t GetInt(const std::string& key) const;
  // An integer in [min, max] ("value 2147483648 is out of range; allowed 1..4096").
  int64_t GetInt(const std::string& key, int64_t min, int64_t max) const;
  // An integer that fits an `int` (32 bits); narrow option fields read through this or the
  // ranged GetInt.
  int GetInt32(const std::string& key) const;
  // Any number a double holds (inf and nan pass: validate() decides).
  double GetDouble(const std::string& key) const;
  // A finite number that a 32-bit float holds without overflow (|v| <= 3.40282e+38) and that
  // does not vanish in one (v = 0 or |v| >= 1.4e-45): values that reach float tensors or torch
  // ops (train.lr, init.value). Returned as the double written, not rounded to float.
  double GetFloat(const std::string& key) const;
  bool GetBool(const std::string& key) const;  // true | false
  std::string GetString(const std::string& key) const;

  // Where a key's value came from: "exp.yaml line 7", "--set", or "default".
  std::string Where(const std::string& key) const;
  // Throws ConfigError for `key` with its origin filled in.
  [[noreturn]] void Fail(const std::string& key, const std::string& problem) const;
  // Rethrows `e` with the origin of its key filled in (use around validate()).
  [[noreturn]] void Rethrow(const ConfigError& e) const;

  // The resolved config as YAML text (keys in the defaults' order); loading it reproduces it.
  std::string Dump() const;

  // A private copy of the whole resolved tree.
  YAML::Node root() const;

 private:
  void MergeNode(const YAML::Node& defaults, YAML::Node target, const YAML::Node& user,
                 const std::string& prefix, const std::string& source);

  YAML::Node root_;
  YAML::Node defaults_;
  std::map<std::string, std::string> origin_;
};

// The keys that do not change what a training learns, only how fast it runs or how often it
// reports: train.device, train.threads, dataset.threads, dataset.prefetch, train.log_every,
// train.checkpoint_every, train.erf_every, train.erf_samples (snapshots of the field that
// read the net and leave it, its gradients and the RNG streams untouched). Weights and accuracy are
// the same function of the config on any thread count (docs/design.md#conventions) and agree to
// float rounding on another device; log_every only moves the window that TrainResult.loss averages
// and the step at which a divergence is seen. Meant as the one list for resuming a training (these
// may differ from the stored config.yaml), the sweep's cell keys and the results store's config
// comparison. The three lists it replaces differ: sweep/plan.cpp's kNonResultKeys and
// sweep/store.cpp's kIgnoredForCells leave train.device out (a sweep moved from a CPU to a GPU box
// redoes its finished cells), and the store also ignores the whole `sweep.` section (it describes
// the sweep, not a cell; not a key, so not listed here); train.cpp's WithResumableKeysFrom leaves
// log_every and checkpoint_every out (a resume that checkpoints more often is refused).
const std::vector<std::string>& ResultNeutralKeys();

// Strict parse of a whole string as a base-10 integer (what the config accepts as an integer).
bool ParseConfigInt(const std::string& text, long long* out);

// Parses a dotted key path into its parts; free-form maps keep the rest as one key.
std::vector<std::string> SplitKey(const std::string& key);

}  // namespace rfx
