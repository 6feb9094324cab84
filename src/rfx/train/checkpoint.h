// A training's checkpoint (internal to rfx/train): model, optimiser, step, RNG state, the open
// log window and the early-stop state, in one torch::serialize archive.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "rfx/nn/net.h"

namespace rfx::train {

// The per-log-window accumulators, kept on the device (no host sync per step).
struct Window {
  std::vector<at::Tensor> losses;  // 0-dim loss per step
  at::Tensor correct;              // int64 0-dim: train predictions right
  int64_t seen = 0;                // samples
  void Reset(c10::Device device) {
    losses.clear();
    correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(device));
    seen = 0;
  }
};

// The mean loss and train accuracy of the last window logged: what a training reports as its
// loss. Kept in the checkpoint, so that a run resumed after its last step (killed during the
// final evaluation, or before its result was written) still reports them.
struct LastWindow {
  double loss = NAN;
  double train_accuracy = 0;
};

// What a checkpoint restores besides the model and optimiser.
struct Restored {
  int64_t step = 0;
  double wall_s = 0;
  int64_t learned_at = -1;
  bool early_stopped = false;
  LastWindow last;  // NaN loss from a checkpoint written before rfx kept it
};

// A checkpoint that exists but cannot be read (truncated, corrupt, another format).
class CheckpointUnreadable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes the checkpoint through the files layer (atomic; a full disk throws its error and leaves
// the previous checkpoint in place).
void SaveCheckpoint(const std::string& path, nn::Net& net, torch::optim::Adam& optimizer,
                    int64_t step, double wall_s, const Window& window, const LastWindow& last,
                    int64_t learned_at, bool early_stopped);

// Restores a checkpoint into `net`, `optimizer` and `window`; CheckpointUnreadable if the file
// cannot be read as one.
Restored LoadCheckpoint(const std::string& path, nn::Net& net, torch::optim::Adam& optimizer,
                        Window* window, c10::Device device);

}  // namespace rfx::train
