// libFuzzer target: a YAML config file and a --set overlay, as `rfx train --config F --set k=v`
// reads them (scripts/fuzz.sh builds and runs it). The input is the file's text; its first line,
// when it looks like key=value, is also applied as a --set. Every outcome but a crash, a hang, a
// sanitizer report or an exception other than rfx's own typed errors is fine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rfx/config/config.h"
#include "rfx/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const rfx::Config defaults;  // parsed once; each input starts from a copy
  const std::string text(reinterpret_cast<const char*>(data), size);
  rfx::Config config = defaults;
  try {
    config.MergeYaml(text, "fuzz.yaml");
    // A config that loaded dumps to YAML that loads to the same dump.
    const std::string dump = config.Dump();
    rfx::Config again = defaults;
    again.MergeYaml(dump, "dump");
    if (again.Dump() != dump) __builtin_trap();
  } catch (const rfx::UsageError&) {  // ConfigError included: refused with a message
  }
  const size_t nl = text.find('\n');
  const std::string first = text.substr(0, nl);
  if (first.find('=') != std::string::npos) {
    try {
      config.ApplySet(first);
      (void)config.Dump();
    } catch (const rfx::UsageError&) {
    }
  }
  return 0;
}
