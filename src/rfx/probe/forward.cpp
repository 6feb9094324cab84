// The forward-pass estimate (DESIGN §1.5) and its incremental depth scan.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
#include "rfx/probe/probe.h"
#include "rfx/util/device.h"
#include "rfx/util/error.h"

namespace rfx::probe {

std::vector<int> ParseDepths(const std::string& spec, const std::string& flag) {
  auto bad = [&](const std::string& why) -> UsageError {
    return UsageError(flag + " '" + spec + "': " + why +
                      "; allowed: a list like 1,2,8 or a range A:B or A:B:STEP of depths >= 1");
  };
  auto number = [&](const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
      throw bad("'" + s + "' is not a positive integer");
    }
    if (s.size() > 6) throw bad("'" + s + "' is too large (max 100000)");
    const int v = std::stoi(s);
    if (v < 1 || v > 100000) throw bad("'" + s + "' is out of range 1 … 100000");
    return v;
  };
  std::set<int> out;
  if (spec.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : spec) {
      if (c == ':') {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    parts.push_back(cur);
    if (parts.size() < 2 || parts.size() > 3) throw bad("a range has 2 or 3 fields");
    const int a = number(parts[0]), b = number(parts[1]);
    const int step = parts.size() == 3 ? number(parts[2]) : 1;
    if (b < a) throw bad("the range ends before it starts");
    for (int d = a; d <= b; d += step) out.insert(d);
  } else {
    std::string cur;
    for (size_t i = 0; i <= spec.size(); ++i) {
      if (i == spec.size() || spec[i] == ',') {
        out.insert(number(cur));
        cur.clear();
      } else if (spec[i] != ' ') {
        cur += spec[i];
      }
    }
  }
  if (out.empty()) throw bad("no depths");
  return {out.begin(), out.end()};
}

void ForwardOptions::validate() const {
  if (size < 3 || size > 16384) {
    throw UsageError("--size " + std::to_string(size) + " is out of range; allowed: 3 … 16384");
  }
  if (!(level > 0 && level < 1)) {
    throw UsageError("--level " + std::to_string(level) + " is out of range; allowed: (0, 1)");
  }
  CheckDtype(dtype);
  CheckBn(bn);
  if (channel < 0 || channel > 1) {
    throw UsageError("--channel " + std::to_string(channel) + " is not allowed; allowed: 0, 1");
  }
  for (int d : depths) {
    if (d < 1) throw UsageError("--depths: depths must be >= 1");
  }
}

nlohmann::json ForwardResult::ToJson() const {
  nlohmann::json j;
  j["arch"] = arch;
  j["init"] = init;
  j["dtype"] = dtype;
  j["device"] = device;
  j["method"] = method;
  if (!method_note.empty()) j["method_note"] = method_note;
  j["size"] = size;
  j["level"] = level;
  j["wall_s"] = wall_s;
  nlohmann::json radii = nlohmann::json::array();
  for (const auto& d : depths) {
    radii.push_back({{"depth", d.depth}, {"radius", d.radius}, {"clipped", d.clipped}});
  }
  j["radii"] = radii;
  return j;
}

namespace {

at::Tensor Impulse(int size, c10::Device device, at::ScalarType dtype) {
  at::Tensor x = at::zeros({1, 1, size, size}, at::TensorOptions().dtype(dtype).device(device));
  x.index_put_({0, 0, size / 2, size / 2}, 1.0);
  return x;
}

DepthProfile Profile(const at::Tensor& out, int channel, int depth, double level) {
  const int64_t s = out.size(2), c = s / 2;
  const at::Tensor row =
      out[0][channel][c].slice(0, c, out.size(3)).abs().to(at::kCPU, at::kDouble).contiguous();
  const double* p = row.data_ptr<double>();
  DepthProfile d;
  d.depth = depth;
  d.profile = NormalizeProfile(std::vector<double>(p, p + row.numel()));
  d.radius = RadiusAtLevel(d.profile, level);
  d.clipped = d.radius >= static_cast<int>(d.profile.size());
  return d;
}

nn::FcnImpl& AsFcn(nn::NetPtr& net) {
  auto* f = dynamic_cast<nn::FcnImpl*>(net.get());
  if (f == nullptr) throw std::logic_error("probe: expected an fcn");
  return *f;
}

bool SkipsAreZero(nn::FcnImpl& f) {
  for (auto& s : f.skip) {
    if (s->weight.ne(0).any().item<bool>()) return false;
  }
  return true;
}

bool SameConv(const torch::nn::Conv2d& a, const torch::nn::Conv2d& b) {
  if (!at::equal(a->weight, b->weight)) return false;
  if (a->bias.defined() != b->bias.defined()) return false;
  return !a->bias.defined() || at::equal(a->bias, b->bias);
}

// Why an incremental scan would not be exact for this fcn config, or "" if it would be (subject
// to the per-depth weight check).
std::string IncrementalObstacle(const nn::NetOptions& net, const nn::InitOptions& init) {
  if (net.skip == "residual") {
    return "residual skips: the identity shortcuts of a depth-D net depend on D";
  }
  return "";
}

}  // namespace

Map ImpulseResponse(nn::Net& net, int size, int channel, c10::Device device, at::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  const at::Tensor out = net.forward(Impulse(size, device, dtype));
  const at::Tensor m = out[0][channel].to(at::kCPU, at::kDouble).contiguous();
  Map map;
  map.h = static_cast<int>(m.size(0));
  map.w = static_cast<int>(m.size(1));
  map.v.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  return map;
}

ForwardResult RunForward(const Config& config, const ForwardOptions& options) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const Setup setup = MakeSetup(config, options.dtype);
  nn::NetOptions net_options = nn::NetOptions::FromConfig(config);
  const nn::InitOptions init = nn::InitOptions::FromConfig(config);
  ForwardResult result;
  result.arch = net_options.arch;
  result.init = init.scheme;
  result.dtype = options.dtype;
  result.device = setup.device.str();
  result.size = options.size;
  result.level = options.level;
  torch::NoGradGuard no_grad;
  const at::Tensor x = Impulse(options.size, setup.device, setup.dtype);

  if (net_options.arch == "fcn_resnet50") {
    if (options.depths.size() > 1) {
      throw UsageError("--depths applies to net.arch fcn; fcn_resnet50 has one fixed depth");
    }
    nn::NetPtr net = BuildInitNet(net_options, init, setup);
    SetBnMode(*net, options.bn);
    result.method = "single";
    result.depths.push_back(Profile(net->forward(x), options.channel, 50, options.level));
    result.wall_s = SecondsSince(t0);
    return result;
  }

  std::vector<int> depths = options.depths;
  if (depths.empty()) depths.push_back(net_options.depth);
  std::sort(depths.begin(), depths.end());
  depths.erase(std::unique(depths.begin(), depths.end()), depths.end());

  auto net_of_depth = [&](int depth) {
    nn::NetOptions o = net_options;
    o.depth = depth;
    return BuildInitNet(o, init, setup);
  };

  std::string obstacle = options.incremental ? IncrementalObstacle(net_options, init)
                                             : "a fresh net per depth was asked for";
  if (obstacle.empty()) {
    const int max_depth = depths.back();
    nn::NetPtr deep_ptr = net_of_depth(max_depth);
    nn::FcnImpl& deep = AsFcn(deep_ptr);
    if (!SkipsAreZero(deep)) {
      obstacle = "input skips with non-zero weights under init.scheme " + init.scheme +
                 " change the output at every depth";
    }
    at::Tensor h = x;  // the activated output of the last hidden layer applied (D−2)
    int applied = 0;   // hidden layers applied to h
    for (size_t k = 0; k < depths.size() && obstacle.empty(); ++k) {
      const int depth = depths[k];
      while (applied < depth - 1) {
        h = deep.activate(deep.conv[applied]->forward(h));
        ++applied;
      }
      nn::NetPtr net_ptr = net_of_depth(depth);
      nn::FcnImpl& net = AsFcn(net_ptr);
      for (int i = 0; i + 1 < depth && obstacle.empty(); ++i) {
        if (!SameConv(net.conv[i], deep.conv[i])) {
          obstacle = "init.scheme " + init.scheme + " gives layer " + std::to_string(i) +
                     " of a depth-" + std::to_string(depth) +
                     " net other weights than in a deeper net (the scheme depends on the depth)";
        }
      }
      if (!obstacle.empty()) break;
      if (!SkipsAreZero(net)) {
        obstacle = "input skips with non-zero weights under init.scheme " + init.scheme +
                   " change the output at every depth";
        break;
      }
      // The read-out: the depth-D net's own last layer (width→2) on the scan's hidden state.
      const at::Tensor out = net.conv[depth - 1]->forward(h);
      result.depths.push_back(Profile(out, options.channel, depth, options.level));
    }
    if (obstacle.empty()) {
      result.method = "incremental";
      result.wall_s = SecondsSince(t0);
      return result;
    }
  }
  // One fresh net per depth.
  result.depths.clear();
  result.method = "fresh";
  result.method_note = obstacle;
  for (int depth : depths) {
    nn::NetPtr net = net_of_depth(depth);
    result.depths.push_back(Profile(net->forward(x), options.channel, depth, options.level));
  }
  result.wall_s = SecondsSince(t0);
  return result;
}

}  // namespace rfx::probe

namespace rfx::probe {

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
  if (threads < 0) config.Fail("train.threads", "must be >= 0 (0 = all cores)");
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
