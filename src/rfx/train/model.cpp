#include "rfx/train/model.h"

#include "rfx/nn/freeze.h"
#include "rfx/util/error.h"

namespace rfx::train {

nn::NetPtr PrepareNet(const Config& config, const TrainOptions& opt, const nn::NetOptions& net_opt,
                      const nn::InitOptions& init_opt, c10::Device device) {
  nn::NetPtr net = nn::BuildNet(net_opt);
  try {
    nn::InitNet(*net, init_opt, opt.seed);
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  torch::manual_seed(opt.seed);
  net->to(device);
  for (auto& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
  net->train();
  try {
    nn::Freeze(*net, opt.freeze);
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return net;
}

std::unique_ptr<torch::optim::Adam> MakeOptimizer(nn::Net& net, const TrainOptions& opt) {
  return std::make_unique<torch::optim::Adam>(nn::TrainableParameters(net),
                                              torch::optim::AdamOptions(opt.lr));
}

void CheckFreeze(const Config& config, const TrainOptions& opt, const nn::NetOptions& net_opt) {
  if (opt.freeze.empty()) return;
  const nn::NetPtr net = nn::BuildNet(net_opt);
  try {
    nn::Freeze(*net, opt.freeze);
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
}

}  // namespace rfx::train
