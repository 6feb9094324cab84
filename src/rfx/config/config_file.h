// Reading a config file without trusting it, and the checks yaml-cpp does not make on a parsed
// document (issue 9: /dev/zero as a config, a directory as a config, duplicate keys).
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

namespace rfx {

// The largest config file read: configs are a few hundred bytes of YAML; 4 MiB leaves room for
// long sweep axes and refuses a stream that never ends.
constexpr int64_t kMaxConfigFileBytes = int64_t{4} << 20;

// Reads a config file's text. Throws UsageError naming the path when it does not exist, cannot
// be opened, is not a regular file (a directory, a FIFO, a device such as /dev/zero; checked on
// the opened file, which is opened without blocking) or holds more than kMaxConfigFileBytes;
// never reads more than that + 1 byte. A read error is a std::runtime_error naming the path.
std::string ReadConfigFile(const std::string& path);

// Checks every mapping of a parsed document, block and flow style, nested in mappings and
// lists: a key that appears twice throws ConfigError for its dotted path ("net.depth",
// "theory.layers[0].conv.k", under `prefix` if given) naming both places ("appears twice in one
// mapping (lines 3 and 7)"; a one-line flow mapping gives columns), where = `source` line of
// the second; a key that is not a plain scalar (`? [a, b]: 1`) throws ConfigError naming its
// line. Nodes reached through aliases are checked once.
void CheckYamlKeys(const YAML::Node& document, const std::string& source,
                   const std::string& prefix = "");

}  // namespace rfx
