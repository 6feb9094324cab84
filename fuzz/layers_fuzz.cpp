// libFuzzer target: the layer lists of net.layers / theory.layers (nn::ParseLayerList), reached
// through the config as a user writes them: the input is YAML merged under `net: {layers: ...}`.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rfx/config/config.h"
#include "rfx/nn/layer_spec.h"
#include "rfx/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const rfx::Config defaults;  // parsed once; each input starts from a copy
  const std::string text(reinterpret_cast<const char*>(data), size);
  rfx::Config config = defaults;
  try {
    config.ApplySet("net.layers=" + text);
  } catch (const rfx::UsageError&) {
    return 0;
  }
  try {
    const auto layers = rfx::nn::ParseLayerList(config.Get("net.layers"), "net.layers");
    (void)layers;
  } catch (const rfx::UsageError&) {
  }
  return 0;
}
