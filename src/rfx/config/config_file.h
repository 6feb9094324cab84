// Reading a config file without trusting it, and the checks yaml-cpp does not make on a parsed
// document (hostile input: /dev/zero as a config, a directory as a config, duplicate keys;
// tests/faults/config_faults_test.cpp reproduces each).
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

// Parses a config document's text (empty: a null node). UsageError naming `source` and the line
// when it is not valid YAML, holds more than one document (--- ...) or nests past yaml-cpp's
// depth limit; then CheckYamlSize and CheckYamlKeys.
YAML::Node ParseConfigYaml(const std::string& text, const std::string& source);

// Checks every mapping of a parsed document, block and flow style, nested in mappings and
// lists: a key that appears twice throws ConfigError for its dotted path ("net.depth",
// "theory.layers[0].conv.k", under `prefix` if given) naming both places ("appears twice in one
// mapping (lines 3 and 7)"; a one-line flow mapping gives columns), where = `source` line of
// the second; a key that is not a plain scalar (`? [a, b]: 1`) throws ConfigError naming its
// line. Nodes reached through aliases are checked once.
void CheckYamlKeys(const YAML::Node& document, const std::string& source,
                   const std::string& prefix = "");

// The most YAML nodes a config document may expand to, aliases counted at every place they
// repeat what they name. An alias-free config within kMaxConfigFileBytes stays below it; nine
// nested levels of ten aliases (616 bytes) expand to 10^9 layers, which `rfx train` built until
// the machine ran out of memory.
constexpr int64_t kMaxConfigNodes = int64_t{1} << 20;

// Counts the nodes `document` expands to (in time linear in its size: each anchored node once)
// and throws ConfigError when they exceed kMaxConfigNodes, for the outermost mapping key whose
// value alone exceeds it ("net.layers"; under `prefix` if given), where = `source`.
void CheckYamlSize(const YAML::Node& document, const std::string& source,
                   const std::string& prefix = "");

}  // namespace rfx
