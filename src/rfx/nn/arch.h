// The nets rfx builds (net.arch), their text in one place. Header-only, so that the probes,
// the memory estimate and the CLI name them without more than the enum.
#pragma once
#include <array>
#include <string>

#include "rfx/util/enum_text.h"
#include "rfx/util/error.h"

namespace rfx::nn {

enum class NetArch {
  kFcn,          // the study's fully convolutional stack (depth, width, kernel, skips)
  kFcnResNet50,  // torchvision's FCN-ResNet50 layout
  kLayers,       // a user's layer list (net.layers)
};

inline constexpr std::array<NetArch, 3> kNetArchs = {NetArch::kFcn, NetArch::kFcnResNet50,
                                                     NetArch::kLayers};

inline const char* NetArchText(NetArch arch) {
  switch (arch) {
    case NetArch::kFcn:
      return "fcn";
    case NetArch::kFcnResNet50:
      return "fcn_resnet50";
    case NetArch::kLayers:
      return "layers";
  }
  return "fcn";
}

// The arch named `text`; ConfigError for `key` naming what is allowed otherwise.
inline NetArch ParseNetArch(const std::string& text, const std::string& key = "net.arch") {
  if (auto arch = FindByText(kNetArchs, NetArchText, text)) return *arch;
  throw ConfigError(
      key, "value '" + text + "' is not allowed; allowed: " + TextList(kNetArchs, NetArchText));
}

}  // namespace rfx::nn
