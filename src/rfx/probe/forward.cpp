// The forward-pass estimate (docs/design.md#forward-pass-estimate) and its incremental depth scan.
#include "rfx/probe/forward.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "rfx/nn/init.h"
#include "rfx/probe/common.h"
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
  CheckCommonFlags(size, /*size_optional=*/false, level, channel, dtype, bn);
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
  j["linear"] = linear;
  j["method"] = method;
  if (!method_note.empty()) j["method_note"] = method_note;
  j["size"] = size;
  j["level"] = level;
  j["wall_s"] = wall_s;
  if (placement) AddPlacementJson(*placement, j);
  nlohmann::json radii = nlohmann::json::array();
  for (const auto& d : depths) {
    nlohmann::json e = {{"depth", d.depth}, {"radius", d.radius}, {"clipped", d.clipped}};
    if (d.extents) e["extent"] = ExtentsJson(*d.extents);
    radii.push_back(e);
  }
  j["radii"] = radii;
  return j;
}

DepthProfile RowProfile(const at::Tensor& centre_row, int depth, double level) {
  const at::Tensor row = centre_row.abs().to(at::kCPU, at::kDouble).contiguous();
  const double* p = row.data_ptr<double>();
  DepthProfile d;
  d.depth = depth;
  d.profile = NormalizeProfile(std::vector<double>(p, p + row.numel()));
  d.radius = RadiusAtLevel(d.profile, level);
  d.clipped = d.radius >= static_cast<int>(d.profile.size());
  return d;
}

namespace {

// A 1.0 at `at` (default: the centre) of a 1×1×S×S zero input.
at::Tensor Impulse(int size, c10::Device device, at::ScalarType dtype,
                   const std::optional<Position>& at = std::nullopt) {
  at::Tensor x = at::zeros({1, 1, size, size}, at::TensorOptions().dtype(dtype).device(device));
  const Position p = at ? *at : Position{size / 2, size / 2};
  x.index_put_({0, 0, p.row, p.col}, 1.0);
  return x;
}

DepthProfile Profile(const at::Tensor& out, int channel, int depth, double level) {
  const int64_t c = out.size(2) / 2;
  return RowProfile(out[0][channel][c].slice(0, c, out.size(3)), depth, level);
}

// A rectangle [r0, r1] × [c0, c1] (inclusive, global coordinates) of an S×S activation map.
// The incremental scan only computes what later read-outs can see: the read-out at depth D
// needs rows centre ± p of the hidden state and columns from centre − p to the right edge, so
// hidden layer i needs rows centre ± (M−1−i)·p (M = the deepest depth). Values are exact: a
// side is zero-padded only where it is the map's real border.
struct Region {
  at::Tensor t;  // 1×C×(r1−r0+1)×(c1−c0+1)
  int64_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
};

Region Crop(const Region& in, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  r0 = std::max(r0, in.r0), r1 = std::min(r1, in.r1);
  c0 = std::max(c0, in.c0), c1 = std::min(c1, in.c1);
  Region out;
  out.t = in.t.slice(2, r0 - in.r0, r1 - in.r0 + 1).slice(3, c0 - in.c0, c1 - in.c0 + 1);
  out.r0 = r0, out.r1 = r1, out.c0 = c0, out.c1 = c1;
  return out;
}

// A stride-1 'same' conv (kernel 2p+1) on a region: the largest exactly computable region.
Region ConvRegion(const Region& in, const at::Tensor& weight, const at::Tensor& bias, int64_t p,
                  int64_t size) {
  const int64_t top = in.r0 == 0 ? p : 0, bottom = in.r1 == size - 1 ? p : 0;
  const int64_t left = in.c0 == 0 ? p : 0, right = in.c1 == size - 1 ? p : 0;
  const at::Tensor padded = at::constant_pad_nd(in.t, {left, right, top, bottom}, 0);
  Region out;
  out.t = at::conv2d(padded, weight, bias);
  out.r0 = in.r0 + p - top, out.r1 = in.r1 - p + bottom;
  out.c0 = in.c0 + p - left, out.c1 = in.c1 - p + right;
  return out;
}

// The read-out of output channel `channel` of `conv` (width→2) on the centre row only.
DepthProfile ReadOut(const Region& h, const torch::nn::Conv2d& conv, int channel, int64_t p,
                     int64_t size, int depth, double level) {
  const int64_t c = size / 2;
  const Region band = Crop(h, c - p, c + p, c - p, size - 1);
  const at::Tensor w = conv->weight.slice(0, channel, channel + 1);
  const at::Tensor b =
      conv->bias.defined() ? conv->bias.slice(0, channel, channel + 1) : at::Tensor();
  const Region out = ConvRegion(band, w, b, p, size);
  return RowProfile(out.t[0][0][c - out.r0].slice(0, c - out.c0, out.c1 - out.c0 + 1), depth,
                    level);
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
  if (net.skip == nn::SkipKind::kResidual) {
    return "residual skips: the identity shortcuts of a depth-D net depend on D";
  }
  return "";
}

}  // namespace

Map ImpulseResponse(nn::Net& net, int size, int channel, c10::Device device, at::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  return ChannelMap(net.forward(Impulse(size, device, dtype)), channel);
}

ForwardResult RunForward(const Config& config, const ForwardOptions& options) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const Setup setup = MakeSetup(config, options.dtype);
  nn::NetOptions net_options = nn::NetOptions::FromConfig(config);
  const nn::InitOptions init = nn::InitOptions::FromConfig(config);
  ForwardResult result;
  result.arch = nn::NetArchText(net_options.arch);
  result.init = nn::InitSchemeText(init.scheme);
  result.dtype = options.dtype;
  result.device = setup.device.str();
  result.size = options.size;
  result.level = options.level;
  result.linear = options.linear;
  torch::NoGradGuard no_grad;
  const at::Tensor x = Impulse(options.size, setup.device, setup.dtype);

  if (net_options.arch != nn::NetArch::kFcn) {  // fcn_resnet50, layers: one net of a fixed depth
    if (options.depths.size() > 1) {
      throw UsageError("--depths applies to net.arch fcn; " + result.arch + " has one fixed depth");
    }
    if (options.linear) throw UsageError("--linear applies to net.arch fcn only");
    nn::NetPtr net = BuildInitNet(net_options, init, setup);
    SetBnMode(*net, options.bn);
    result.method = "single";
    const int depth =
        net_options.arch == nn::NetArch::kLayers ? nn::CountConvs(net_options.layers) : 50;
    if (options.position) {
      result.placement = PlaceInNet(config, *options.position, options.size, options.size);
      const at::Tensor out =
          net->forward(Impulse(options.size, setup.device, setup.dtype, result.placement->input));
      result.depths.push_back(
          ProfileAt(out, options.channel, *result.placement, depth, options.level));
    } else {
      result.depths.push_back(Profile(net->forward(x), options.channel, depth, options.level));
    }
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

  std::string obstacle = !options.incremental ? "a fresh net per depth was asked for"
                         : options.position
                             ? "--position: the incremental scan reads the centre row only"
                             : IncrementalObstacle(net_options, init);
  if (obstacle.empty()) {
    const int max_depth = depths.back();
    nn::NetPtr deep_ptr = net_of_depth(max_depth);
    nn::FcnImpl& deep = AsFcn(deep_ptr);
    if (!SkipsAreZero(deep)) {
      obstacle = "input skips with non-zero weights under init.scheme " + result.init +
                 " change the output at every depth";
    }
    if (obstacle.empty() && init.scheme == nn::InitScheme::kConstant && max_depth >= 2) {
      // The constant shortcut below relies on the scheme being depth-independent: check it
      // once on a depth-2 net (first layer and width→2 last layer).
      nn::NetPtr two_ptr = net_of_depth(2);
      nn::FcnImpl& two = AsFcn(two_ptr);
      if (!SameConv(two.conv[0], deep.conv[0]) ||
          !SameConv(two.conv[1], deep.conv[max_depth - 1])) {
        obstacle = "init.scheme constant gave a depth-2 net other weights than the scan's";
      }
    }
    const int64_t S = options.size, c = S / 2, p = net_options.kernel / 2;
    auto needed = [&](const Region& r, int64_t layers_left) {
      const int64_t reach = layers_left * p;
      return Crop(r, c - reach, c + reach, c - reach, S - 1);
    };
    Region h;  // the activated output of the last hidden layer applied (layer D−2)
    h.t = x;
    h.r1 = h.c1 = S - 1;
    h = needed(h, max_depth);
    int applied = 0;  // hidden layers applied to h
    for (size_t k = 0; k < depths.size() && obstacle.empty(); ++k) {
      const int depth = depths[k];
      while (applied < depth - 1) {
        const torch::nn::Conv2d& conv = deep.conv[applied];
        h = ConvRegion(h, conv->weight, conv->bias, p, S);
        if (!options.linear) h.t = deep.activate(h.t);
        ++applied;
        h = needed(h, max_depth - applied);
      }
      if (init.scheme == nn::InitScheme::kConstant && (depth >= 2 || max_depth == 1)) {
        // Every conv weight is init.value, biases and skips 0, whatever the depth: the deep
        // net's own last layer (width→2) is the last layer of a depth-D net, and its first D−1
        // layers are the scan's. No per-depth net to build.
        result.depths.push_back(
            ReadOut(h, deep.conv[max_depth - 1], options.channel, p, S, depth, options.level));
        continue;
      }
      nn::NetPtr net_ptr = net_of_depth(depth);
      nn::FcnImpl& net = AsFcn(net_ptr);
      for (int i = 0; i + 1 < depth && obstacle.empty(); ++i) {
        if (!SameConv(net.conv[i], deep.conv[i])) {
          obstacle = "init.scheme " + result.init + " gives layer " + std::to_string(i) +
                     " of a depth-" + std::to_string(depth) +
                     " net other weights than in a deeper net (the scheme depends on the depth)";
        }
      }
      if (!obstacle.empty()) break;
      if (!SkipsAreZero(net)) {
        obstacle = "input skips with non-zero weights under init.scheme " + result.init +
                   " change the output at every depth";
        break;
      }
      // The read-out: the depth-D net's own last layer (width→2) on the scan's hidden state.
      result.depths.push_back(
          ReadOut(h, net.conv[depth - 1], options.channel, p, S, depth, options.level));
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
    at::Tensor in = x;
    if (options.position) {
      result.placement =
          PlaceInNet(WithDepth(config, depth), *options.position, options.size, options.size);
      in = Impulse(options.size, setup.device, setup.dtype, result.placement->input);
    }
    const at::Tensor out = options.linear ? AsFcn(net).forward_linear(in) : net->forward(in);
    result.depths.push_back(
        options.position ? ProfileAt(out, options.channel, *result.placement, depth, options.level)
                         : Profile(out, options.channel, depth, options.level));
  }
  result.wall_s = SecondsSince(t0);
  return result;
}

}  // namespace rfx::probe
