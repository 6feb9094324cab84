// --position: the output pixel a probe reads, the input pixel it corresponds to (through the
// analytic graph's jump and start), and the forward profile and extents read there.
#include "rfx/probe/placement.h"

#include <torch/torch.h>

#include <cmath>

#include "rfx/nn/depth_key.h"
#include "rfx/probe/common.h"
#include "rfx/theory/theory.h"
#include "rfx/util/error.h"

namespace rfx::probe {

Position ParsePosition(const std::string& text) {
  const size_t comma = text.find(',');
  auto field = [&](const std::string& f) -> int64_t {
    if (f.empty() || f.size() > 6 || f.find_first_not_of("0123456789") != std::string::npos) {
      return -1;
    }
    return std::stoll(f);
  };
  Position p;
  p.row = comma == std::string::npos ? -1 : field(text.substr(0, comma));
  p.col = comma == std::string::npos ? -1 : field(text.substr(comma + 1));
  if (p.row < 0 || p.col < 0) {
    throw UsageError("--position '" + text +
                     "' is not an output pixel; allowed: ROW,COL with integers >= 0 inside the "
                     "output map (e.g. 10,20; default: the centre)");
  }
  return p;
}

void CheckInside(const Position& at, int64_t h, int64_t w) {
  if (at.row < 0 || at.col < 0 || at.row >= h || at.col >= w) {
    throw UsageError("--position " + std::to_string(at.row) + "," + std::to_string(at.col) +
                     " is outside the " + std::to_string(h) + "×" + std::to_string(w) +
                     " output map; allowed: ROW 0 … " + std::to_string(h - 1) + ", COL 0 … " +
                     std::to_string(w - 1));
  }
}

Placement PlaceAt(const theory::Row& row, const Position& at, int h, int w) {
  Placement p;
  p.out_h = row.h.n;
  p.out_w = row.w.n;
  CheckInside(at, p.out_h, p.out_w);
  p.output = at;
  // Pixel i spans [i, i+1): the unit's centre start + j·i lies in pixel floor(start + j·i).
  p.input.row = static_cast<int64_t>(std::floor(row.h.start + row.h.j * at.row));
  p.input.col = static_cast<int64_t>(std::floor(row.w.start + row.w.j * at.col));
  if (p.input.row < 0 || p.input.row >= h || p.input.col < 0 || p.input.col >= w) {
    throw UsageError("--position " + std::to_string(at.row) + "," + std::to_string(at.col) +
                     ": the centre of that unit's field (input pixel " +
                     std::to_string(p.input.row) + "," + std::to_string(p.input.col) +
                     ") lies outside the " + std::to_string(h) + "×" + std::to_string(w) +
                     " input; allowed: an output pixel whose field is centred inside it");
  }
  return p;
}

Placement PlaceInNet(const Config& config, const Position& at, int h, int w) {
  const theory::Table table = theory::Analyze(
      theory::BuildNet(theory::NamedNetOfConfig(config), config), theory::Axes(h, w));
  return PlaceAt(table.rows.back(), at, h, w);
}

Config WithDepth(const Config& config, int depth) {
  if (depth <= 0) return config;
  Config c = config;
  c.Set(nn::kDepthKey, YAML::Node(depth), "probe --depths");
  return c;
}

Map ChannelMap(const at::Tensor& out, int channel) {
  const at::Tensor m = out[0][channel].to(at::kCPU, at::kDouble).contiguous();
  Map map;
  map.h = static_cast<int>(m.size(0));
  map.w = static_cast<int>(m.size(1));
  map.v.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  return map;
}

DepthProfile ProfileAt(const at::Tensor& out, int channel, const Placement& at, int depth,
                       double level) {
  const Position p = at.output;
  CheckInside(p, out.size(2), out.size(3));
  DepthProfile d = RowProfile(out[0][channel][p.row].slice(0, p.col, out.size(3)), depth, level);
  d.extents = DirectionalRadii(ChannelMap(out, channel), static_cast<int>(p.row),
                               static_cast<int>(p.col), level);
  return d;
}

nlohmann::json ExtentsJson(const Extents& e) {
  auto one = [](const Extent& x) {
    return nlohmann::json{{"radius", x.radius}, {"clipped", x.clipped}};
  };
  return {{"left", one(e.left)}, {"right", one(e.right)}, {"up", one(e.up)}, {"down", one(e.down)}};
}

void AddPlacementJson(const Placement& p, nlohmann::json& j) {
  j["position"] = {p.output.row, p.output.col};
  j["input_position"] = {p.input.row, p.input.col};
  j["output_size"] = {p.out_h, p.out_w};
}

}  // namespace rfx::probe
