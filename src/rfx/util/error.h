// Error types shared by every component. The CLI maps UsageError (and ConfigError) to exit
// code 2 and anything else (IoError included) to 1.
#pragma once
#include <cerrno>
#include <cstring>
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

// A file could not be written (created, written, synced, renamed, truncated, locked). `path` is
// the file the caller named (never a temp file), `error_code` the errno. The message is
// "no space left on device: <path>" for ENOSPC, else "cannot <action> '<path>': <strerror>".
class IoError : public std::runtime_error {
 public:
  IoError(std::string path, int error_code, const std::string& action = "write")
      : std::runtime_error(Format(path, error_code, action)),
        path_(std::move(path)),
        error_code_(error_code) {}

  const std::string& path() const { return path_; }
  int error_code() const { return error_code_; }
  bool disk_full() const { return error_code_ == ENOSPC; }

 private:
  static std::string Format(const std::string& path, int error_code, const std::string& action) {
    if (error_code == ENOSPC) return "no space left on device: " + path;
    return "cannot " + action + " '" + path + "': " + std::strerror(error_code);
  }
  std::string path_;
  int error_code_;
};

}  // namespace rfx
