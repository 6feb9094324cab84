// Error types shared by every component. The CLI maps UsageError (and ConfigError) to exit
// code 2 and anything else to 1.
#pragma once
#include <stdexcept>
#include <string>

namespace rfx {

// Bad usage: a wrong flag, a bad value, an impossible request. Exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad configuration value. `key` is the dotted config key ("dataset.distance"); `where`
// is where it came from ("exp.yaml line 7", "--set") once the config layer knows it.
class ConfigError : public UsageError {
 public:
  ConfigError(std::string key, std::string problem, std::string where = "")
      : UsageError(Format(key, problem, where)),
        key_(std::move(key)),
        problem_(std::move(problem)),
        where_(std::move(where)) {}

  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }
  const std::string& where() const { return where_; }

  // The same error with its origin filled in.
  ConfigError At(const std::string& where) const { return ConfigError(key_, problem_, where); }

 private:
  static std::string Format(const std::string& key, const std::string& problem,
                            const std::string& where) {
    std::string s = "config key '" + key + "'";
    if (!where.empty()) s += " (" + where + ")";
    return s + ": " + problem;
  }
  std::string key_, problem_, where_;
};

}  // namespace rfx
