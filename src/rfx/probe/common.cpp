// Shared set-up of the probes: flag checks, device and dtype, seeded nets, BatchNorm modes.
#include "rfx/probe/common.h"

#include <torch/torch.h>

#include "rfx/runtime/device.h"
#include "rfx/util/error.h"

namespace rfx::probe {

void CheckCommonFlags(int size, bool size_optional, double level, int channel,
                      const std::string& dtype, const std::string& bn) {
  if (!(size_optional && size == 0) && (size < 3 || size > 16384)) {
    throw UsageError("--size " + std::to_string(size) + " is out of range; allowed: 3 … 16384" +
                     (size_optional ? " (or 0 for dataset.image_size)" : ""));
  }
  if (channel < 0 || channel > 1) {
    throw UsageError("--channel " + std::to_string(channel) + " is not allowed; allowed: 0, 1");
  }
  if (!(level > 0 && level < 1)) {
    throw UsageError("--level " + std::to_string(level) + " is out of range; allowed: (0, 1)");
  }
  CheckDtype(dtype);
  CheckBn(bn);
}

void CheckDtype(const std::string& dtype) {
  if (dtype != "float32" && dtype != "float64") {
    throw UsageError("--dtype '" + dtype + "' is not known; allowed: float32, float64");
  }
}

void CheckBn(const std::string& bn) {
  if (bn != "eval" && bn != "train") {
    throw UsageError("--bn '" + bn + "' is not known; allowed: eval, train");
  }
}

Setup MakeSetup(const Config& config, const std::string& dtype) {
  CheckDtype(dtype);
  Setup s;
  s.device = ResolveDevice(config.GetString("train.device"), "train.device");
  const int64_t threads = config.GetInt("train.threads");
  const std::string threads_problem = ThreadsProblem(threads);  // bounded as rfx train bounds it
  if (!threads_problem.empty()) config.Fail("train.threads", threads_problem);
  SetTorchThreads(static_cast<int>(threads));
  s.seed = static_cast<uint64_t>(config.GetInt("train.seed"));
  s.dtype = dtype == "float64" ? at::kDouble : at::kFloat;
  return s;
}

nn::NetPtr BuildInitNet(const nn::NetOptions& net_options, const nn::InitOptions& init,
                        const Setup& setup) {
  nn::NetPtr net = nn::BuildNet(net_options);
  net->to(setup.dtype);
  nn::InitNet(*net, init, setup.seed);
  net->to(setup.device);
  net->eval();
  return net;
}

void SetBnMode(nn::Net& net, const std::string& bn) {
  CheckBn(bn);
  net.eval();
  if (bn == "train") {
    for (auto& m : net.modules(/*include_self=*/false)) {
      if (m->as<torch::nn::BatchNorm2d>() != nullptr) m->train(true);
    }
  }
}

}  // namespace rfx::probe
