// The net a training starts from, made in one place for the trainer and `rfx profile`: built,
// initialised, on its device, channels-last, with train.freeze applied; and its optimizer.
#pragma once
#include <c10/core/Device.h>
#include <torch/optim/adam.h>

#include <memory>

#include "rfx/config/config.h"
#include "rfx/nn/init.h"
#include "rfx/nn/net.h"
#include "rfx/train/train.h"

namespace rfx::train {

// A fresh net of `net_opt`, initialised by `init_opt` with seed train.seed, moved to `device`
// (4-d parameters channels-last), in train mode, its train.freeze layers frozen. ConfigErrors
// (init, freeze) carry the config's origins.
nn::NetPtr PrepareNet(const Config& config, const TrainOptions& opt, const nn::NetOptions& net_opt,
                      const nn::InitOptions& init_opt, c10::Device device);

// Adam (train.lr) over the parameters that train: frozen ones get no optimizer state.
std::unique_ptr<torch::optim::Adam> MakeOptimizer(nn::Net& net, const TrainOptions& opt);

// Checks train.freeze against the net (built once on the CPU; only when the list is not empty),
// so a bad entry is refused before a run directory is written.
void CheckFreeze(const Config& config, const TrainOptions& opt, const nn::NetOptions& net_opt);

}  // namespace rfx::train
