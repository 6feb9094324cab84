#include "rfx/config/config.h"

#include <yaml-cpp/depthguard.h>

#include <cfloat>
#include <cmath>
#include <mutex>
#include <vector>

#include "rfx/config/config_file.h"
#include "rfx/config/scalar.h"
#include "rfx/util/strings.h"

namespace rfx {

extern const char* const kDefaultConfigYaml;

namespace {

using config_detail::KindName;
using config_detail::KindOf;
using config_detail::ParseDouble;
using config_detail::ParseInt;

std::string LineOf(const YAML::Node& node, const std::string& source) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return source;
  return source + " line " + std::to_string(m.line + 1);
}

std::string Describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  return "a mapping";
}

std::string Child(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// yaml-cpp is not safe for concurrent reads of one node; see config.h.
std::recursive_mutex& YamlLock() {
  static std::recursive_mutex mu;
  return mu;
}

}  // namespace

bool ParseConfigInt(const std::string& text, long long* out) { return ParseInt(text, out); }

const std::vector<std::string>& ResultNeutralKeys() {
  static const std::vector<std::string> keys = {
      "train.device",    "train.threads",          "dataset.threads", "dataset.prefetch",
      "train.log_every", "train.checkpoint_every", "train.erf_every", "train.erf_samples"};
  return keys;
}

std::vector<std::string> SplitKey(const std::string& key) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : key) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

Config::Config() {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  defaults_.reset(YAML::Load(kDefaultConfigYaml));
  root_.reset(YAML::Clone(defaults_));
}

Config::Config(const Config& other) {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  root_.reset(YAML::Clone(other.root_));
  defaults_.reset(YAML::Clone(other.defaults_));
  origin_ = other.origin_;
}

// yaml-cpp's Node assignment rebinds the target node into the source's tree; reset() only
// repoints the handle, so a moved-to Config never shares nodes with the moved-from one.
Config::Config(Config&& other) noexcept { *this = std::move(other); }

Config& Config::operator=(Config&& other) noexcept {
  if (this != &other) {
    std::lock_guard<std::recursive_mutex> lock(YamlLock());
    root_.reset(other.root_);
    defaults_.reset(other.defaults_);
    origin_ = std::move(other.origin_);
    other.root_.reset(YAML::Node());
    other.defaults_.reset(YAML::Node());
  }
  return *this;
}

Config& Config::operator=(const Config& other) {
  if (this != &other) {
    std::lock_guard<std::recursive_mutex> lock(YamlLock());
    root_.reset(YAML::Clone(other.root_));
    defaults_.reset(YAML::Clone(other.defaults_));
    origin_ = other.origin_;
  }
  return *this;
}

Config Config::Load(const std::string& file, const std::vector<std::string>& sets) {
  Config c;
  if (!file.empty()) c.MergeFile(file);
  for (const auto& s : sets) c.ApplySet(s);
  return c;
}

void Config::MergeFile(const std::string& path) { MergeYaml(ReadConfigFile(path), path); }

void Config::MergeYaml(const std::string& yaml_text, const std::string& source) {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  const YAML::Node user = ParseConfigYaml(yaml_text, source);
  if (!user.IsDefined() || user.IsNull()) return;  // an empty file changes nothing
  if (!user.IsMap()) {
    throw UsageError(source +
                     ": the top level must be a mapping of sections (dataset, net, "
                     "init, train, sweep, theory), got " +
                     Describe(user));
  }
  MergeNode(defaults_, root_, user, "", source);
}

void Config::MergeNode(const YAML::Node& defaults, YAML::Node target, const YAML::Node& user,
                       const std::string& prefix, const std::string& source) {
  std::vector<std::string> known;
  for (const auto& kv : defaults) known.push_back(kv.first.as<std::string>());
  for (const auto& kv : user) {
    const std::string name = kv.first.as<std::string>();
    const std::string key = Child(prefix, name);
    const YAML::Node d = defaults[name];
    if (!d.IsDefined()) {
      throw ConfigError(
          key,
          "unknown key; known keys " +
              (prefix.empty() ? std::string("at the top level") : "under '" + prefix + "'") + ": " +
              Join(known, ", "),
          LineOf(kv.first, source));
    }
    const YAML::Node& v = kv.second;
    const std::string where = LineOf(v.IsDefined() && !v.IsNull() ? v : kv.first, source);
    if (d.IsMap() && d.size() > 0) {
      if (!v.IsMap()) {
        throw ConfigError(key, "expected a mapping of keys, got " + Describe(v), where);
      }
      YAML::Node sub = target[name];
      MergeNode(d, sub, v, key, source);
      continue;
    }
    if (d.IsMap()) {  // free-form
      if (!v.IsMap()) throw ConfigError(key, "expected a mapping, got " + Describe(v), where);
      for (const auto& c : v) {
        origin_[Child(key, c.first.as<std::string>())] = LineOf(c.second, source);
      }
    } else if (d.IsSequence()) {
      if (!v.IsSequence()) throw ConfigError(key, "expected a list, got " + Describe(v), where);
    } else if (d.IsScalar()) {
      if (!v.IsScalar()) {
        throw ConfigError(
            key, "expected " + std::string(KindName(KindOf(d.Scalar()))) + ", got " + Describe(v),
            where);
      }
      const std::string problem = config_detail::ScalarProblem(KindOf(d.Scalar()), v.Scalar());
      if (!problem.empty()) throw ConfigError(key, problem, where);
    }
    target[name] = YAML::Clone(v);
    origin_[key] = where;
  }
}

void Config::ApplySet(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("--set '" + assignment +
                     "' is not of the form key=value (e.g. "
                     "--set train.steps=500)");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (text.empty()) throw ConfigError(key, "--set gives no value (write key=value)", "--set");
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    throw ConfigError(key,
                      "value nests lists and mappings too deeply (yaml-cpp reads at most ~1000 "
                      "levels); a value nests a few",
                      "--set");
  } catch (const YAML::Exception& e) {
    throw ConfigError(key, "value '" + text + "' is not valid YAML: " + e.msg, "--set");
  }
  try {
    CheckYamlSize(value, "--set", key);
    CheckYamlKeys(value, "--set", key);
  } catch (const ConfigError& e) {
    throw e.At("--set");  // one line: the columns say where
  }
  Set(key, value, "--set");
}

void Config::Set(const std::string& key, const YAML::Node& value, const std::string& origin) {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  // Walk the defaults to find where the key lives; a free-form map takes the rest as one key.
  const std::vector<std::string> parts = SplitKey(key);
  YAML::Node d = YAML::Clone(defaults_);
  std::string prefix;
  size_t i = 0;
  for (; i < parts.size(); ++i) {
    if (d.IsMap() && d.size() == 0 && i > 0) break;  // free-form below here
    if (!d.IsMap() || !d[parts[i]].IsDefined()) {
      std::vector<std::string> known;
      if (d.IsMap()) {
        for (const auto& kv : d) known.push_back(kv.first.as<std::string>());
      }
      throw ConfigError(
          key,
          "unknown key" + (known.empty() ? std::string()
                                         : "; known keys " +
                                               (prefix.empty() ? std::string("at the top level")
                                                               : "under '" + prefix + "'") +
                                               ": " + Join(known, ", ")),
          origin);
    }
    d.reset(d[parts[i]]);
    prefix = Child(prefix, parts[i]);
  }
  if (i < parts.size()) {
    // Inside a free-form map: the rest of the path is one key, any value goes.
    std::string rest;
    for (size_t j = i; j < parts.size(); ++j) rest += (j > i ? "." : "") + parts[j];
    YAML::Node target = root_;
    for (size_t j = 0; j < i; ++j) target.reset(target[parts[j]]);
    target[rest] = YAML::Clone(value);
    origin_[key] = origin;
    return;
  }
  // Build a one-key user document and merge it, so the same checks apply.
  YAML::Node doc(YAML::NodeType::Map);
  YAML::Node cur = doc;
  for (size_t j = 0; j + 1 < parts.size(); ++j) {
    cur[parts[j]] = YAML::Node(YAML::NodeType::Map);
    cur.reset(cur[parts[j]]);
  }
  cur[parts.back()] = value;
  try {
    MergeNode(defaults_, root_, doc, "", origin);
  } catch (const ConfigError& e) {
    throw e.At(origin);  // a --set has no file line
  }
  origin_[key] = origin;
}

bool Config::Has(const std::string& key) const {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  YAML::Node n = YAML::Clone(root_);
  const auto parts = SplitKey(key);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!n.IsMap()) return false;
    // Free-form maps may hold dotted keys: try the rest as one key first.
    std::string rest;
    for (size_t j = i; j < parts.size(); ++j) rest += (j > i ? "." : "") + parts[j];
    if (i + 1 < parts.size() && n[rest].IsDefined()) return true;
    n.reset(n[parts[i]]);
    if (!n.IsDefined()) return false;
  }
  return true;
}

YAML::Node Config::Get(const std::string& key) const {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  YAML::Node n = YAML::Clone(root_);
  const auto parts = SplitKey(key);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string rest;
    for (size_t j = i; j < parts.size(); ++j) rest += (j > i ? "." : "") + parts[j];
    if (n.IsMap() && i + 1 < parts.size() && n[rest].IsDefined()) return n[rest];
    if (!n.IsMap() || !n[parts[i]].IsDefined()) {
      throw ConfigError(key, "unknown key", "");
    }
    n.reset(n[parts[i]]);
  }
  return n;
}

int64_t Config::GetInt(const std::string& key) const {
  const YAML::Node n = Get(key);
  long long v = 0;
  if (!n.IsScalar() || !ParseInt(n.Scalar(), &v)) {
    Fail(key, "expected an integer, got " + Describe(n));
  }
  return v;
}

int64_t Config::GetInt(const std::string& key, int64_t min, int64_t max) const {
  const int64_t v = GetInt(key);
  if (v < min || v > max) {
    Fail(key, "value " + std::to_string(v) + " is out of range; allowed " + std::to_string(min) +
                  ".." + std::to_string(max));
  }
  return v;
}

int Config::GetInt32(const std::string& key) const {
  return static_cast<int>(GetInt(key, INT32_MIN, INT32_MAX));
}

double Config::GetDouble(const std::string& key) const {
  const YAML::Node n = Get(key);
  double v = 0;
  if (!n.IsScalar() || !ParseDouble(n.Scalar(), &v)) {
    Fail(key, "expected a number, got " + Describe(n));
  }
  return v;
}

bool Config::GetBool(const std::string& key) const {
  const YAML::Node n = Get(key);
  if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
    Fail(key, "expected true or false, got " + Describe(n));
  }
  return n.Scalar() == "true";
}

double Config::GetFloat(const std::string& key) const {
  const double v = GetDouble(key);
  const double a = std::abs(v);
  if (!std::isfinite(v) || a > FLT_MAX || (a > 0 && a < FLT_TRUE_MIN)) {
    Fail(key, "value " + FormatNumber(v) +
                  " does not fit a 32-bit float; allowed: finite numbers of magnitude 1.4e-45 "
                  "to 3.4e+38, or 0");
  }
  return v;
}

std::string Config::GetString(const std::string& key) const {
  const YAML::Node n = Get(key);
  if (!n.IsScalar()) Fail(key, "expected a string, got " + Describe(n));
  return n.Scalar();
}

std::string Config::Where(const std::string& key) const {
  auto it = origin_.find(key);
  if (it != origin_.end()) return it->second;
  // A key inside a subtree set as a whole: report the nearest set ancestor.
  std::string k = key;
  while (true) {
    const size_t dot = k.rfind('.');
    if (dot == std::string::npos) break;
    k = k.substr(0, dot);
    it = origin_.find(k);
    if (it != origin_.end()) return it->second;
  }
  return "default";
}

void Config::Fail(const std::string& key, const std::string& problem) const {
  throw ConfigError(key, problem, Where(key));
}

void Config::Rethrow(const ConfigError& e) const {
  if (!e.where().empty()) throw e;
  throw e.At(Where(e.key()));
}

YAML::Node Config::root() const {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  return YAML::Clone(root_);
}

std::string Config::Dump() const {
  std::lock_guard<std::recursive_mutex> lock(YamlLock());
  YAML::Emitter out;
  out << root_;
  return std::string(out.c_str()) + "\n";
}

}  // namespace rfx
