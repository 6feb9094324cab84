// `rfx profile`: where a training step's time goes, layer by layer (forward, backward, optimizer),
// for any net rfx builds, on the configured device.
//
// Method. The net runs its own forward (Net::forward_observed): after each top-level layer
// (Net::layers) the device is synchronised and the time taken, and a gradient hook is put on the
// layer's output. In backward, the hook of layer i's output fires once the layers after it are
// done, so the time from it to the next hook (of layer i−1's output, or the end of backward
// when that output needs no gradient) is layer i's backward; a layer whose output needs no
// gradient (a frozen first layer on an input that needs none) has no backward at all. Each
// layer's trainable parameters get an Adam of their own (Adam is per parameter, so this is the
// trainer's update) whose step is timed. The loss (forward and backward to the net's output),
// zero_grad and the Adam of parameters outside the layers (the fcn's skip chain) are rows of
// their own. Every timed step also runs as the trainer runs it (no synchronisation inside; the
// same Adams, which do the per-parameter work of the trainer's one), timed whole: the step the
// rows must add up to. Figures are means over the faster
// half of the timed steps (by their total; on a loaded machine other work only adds time), the
// rows over the faster half of the per-layer steps, the step over the faster half of its own.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rfx/config/config.h"

namespace rfx::train {

struct ProfileOptions {
  int steps = 20;                 // timed steps (>= 1); the faster half is reported
  int warmup = 3;                 // untimed steps first (>= 0)
  std::vector<int64_t> input_hw;  // {H, W} of a noise input (zero target of the output's shape);
                                  // empty: a real е/ё batch of dataset.image_size²
};

struct ProfileRow {
  std::string name;        // the layer's name (Net::layers), or "loss", "other"
  int64_t parameters = 0;  // parameter values of the layer (frozen ones included)
  bool frozen = false;     // every parameter of the layer is frozen (train.freeze)
  double forward_ms = 0;   // means over the faster half of the timed steps
  double backward_ms = 0;
  double optimizer_ms = 0;
  double total_ms() const { return forward_ms + backward_ms + optimizer_ms; }
};

struct ProfileResult {
  std::string arch, device;
  int threads = 0, batch = 0;
  int64_t height = 0, width = 0;
  int steps = 0, warmup = 0;
  std::vector<ProfileRow> layers;  // one per top-level layer, in forward order
  ProfileRow loss;                 // loss forward; its backward down to the net's output
  ProfileRow other;                // zero_grad (optimizer), Adam of parameters outside the layers
  double step_ms = 0;              // the trainer's step (forward, backward, Adam), timed separately
  double layers_ms() const;        // sum of the layer rows
  double sum_ms() const;           // layers_ms + loss + other
  double gap() const { return step_ms > 0 ? sum_ms() / step_ms - 1 : 0; }  // (sum − step)/step
  nlohmann::json ToJson() const;
};

// Profiles the net of `config` (net.*, init.*, train.batch_size/lr/seed/device/threads/freeze,
// dataset.*). Bad config → ConfigError.
ProfileResult RunProfile(const Config& config, const ProfileOptions& options);

}  // namespace rfx::train
