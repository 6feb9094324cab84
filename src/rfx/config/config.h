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

  // Merges a YAML document onto this config; `source` names it in errors ("exp.yaml").
  void MergeYaml(const std::string& yaml_text, const std::string& source);
  void MergeFile(const std::string& path);
  // "a.b=value" (value parsed as a YAML scalar or flow collection).
  void ApplySet(const std::string& assignment);
  // Sets one key to a YAML value, checked like file values. `origin` names it in errors.
  void Set(const std::string& key, const YAML::Node& value, const std::string& origin = "--set");

  bool Has(const std::string& key) const;
  // The node at a dotted key (a copy sharing nothing with this config). Throws if missing.
  YAML::Node Get(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  std::string GetString(const std::string& key) const;

  // Where a key's value came from: "exp.yaml line 7", "--set", or "default".
  std::string Where(const std::string& key) const;
  // Throws ConfigError for `key` with its origin filled in.
  [[noreturn]] void Fail(const std::string& key, const std::string& problem) const;
  // Rethrows `e` with the origin of its key filled in (use around validate()).
  [[noreturn]] void Rethrow(const ConfigError& e) const;

  // The resolved config as YAML text (keys in the defaults' order); loading it reproduces it.
  std::string Dump() const;
  // The resolved config as a stable text for hashing (same as Dump()).
  std::string Canonical() const { return Dump(); }

  // A private copy of the whole resolved tree.
  YAML::Node root() const;

 private:
  void MergeNode(const YAML::Node& defaults, YAML::Node target, const YAML::Node& user,
                 const std::string& prefix, const std::string& source);
  bool IsFreeForm(const std::string& key) const;

  YAML::Node root_;
  YAML::Node defaults_;
  std::map<std::string, std::string> origin_;
};

// Strict parse of a whole string as a base-10 integer (what the config accepts as an integer).
bool ParseConfigInt(const std::string& text, long long* out);

// Parses a dotted key path into its parts; free-form maps keep the rest as one key.
std::vector<std::string> SplitKey(const std::string& key);

}  // namespace rfx
