// rfx probe forward|gradient: field estimates without training (impulse response, gradient ERF).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/probe_flags.h"
#include "cli/probe_model.h"
#include "rfx/data/dataset.h"
#include "rfx/nn/net.h"
#include "rfx/probe/probe.h"
#include "rfx/runtime/device.h"
#include "rfx/train/memory.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/run_paths.h"

namespace rfx::cli {

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "left 3+, right 9, up 3+, down 9" ('+': the border came first, a lower bound).
std::string ExtentsText(const probe::Extents& e) {
  auto one = [](const char* name, const probe::Extent& x) {
    return std::string(name) + " " + std::to_string(x.radius) + (x.clipped ? "+" : "");
  };
  return one("left", e.left) + ", " + one("right", e.right) + ", " + one("up", e.up) + ", " +
         one("down", e.down);
}

std::string PlacementText(const probe::Placement& p) {
  return "output pixel " + std::to_string(p.output.row) + "," + std::to_string(p.output.col) +
         " of " + std::to_string(p.out_h) + "×" + std::to_string(p.out_w) + ", input pixel " +
         std::to_string(p.input.row) + "," + std::to_string(p.input.col);
}

void EnsureParent(const std::string& file) {
  const auto parent = std::filesystem::path(file).parent_path();
  if (!parent.empty()) MakeDirs(parent.string());
}

Runner AddForward(CLI::App* probe) {
  CLI::App* cmd = probe->add_subcommand(
      "forward", "Impulse-response field radius per depth (constant init: the study's estimate)");
  auto config = std::make_shared<ConfigArgs>();
  auto o = std::make_shared<probe::ForwardOptions>();
  auto depths = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto fresh = std::make_shared<bool>(false);
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--size", o->size, "Side S of the S×S impulse input")->capture_default_str();
  cmd->add_option("--level", o->level, "Radius = first distance where |v|/max < level")
      ->capture_default_str();
  cmd->add_option("--depths", *depths,
                  "fcn depths: LIST (1,2,8) or A:B or A:B:STEP (default: net.depth)");
  cmd->add_option("--dtype", o->dtype, "float32 | float64")->capture_default_str();
  cmd->add_option("--bn", o->bn, "fcn_resnet50 BatchNorm: eval | train")->capture_default_str();
  cmd->add_option("--channel", o->channel, "Output channel (0 | 1)")->capture_default_str();
  cmd->add_flag("--linear", o->linear,
                "fcn: identity activations (the linear part, e.g. for init.scheme decomposed)");
  cmd->add_flag("--fresh", *fresh, "One fresh net per depth instead of the incremental scan");
  cmd->add_option(
      "--out", *out,
      "FILE.csv: the profiles; DIR: profiles.csv, radii.csv, forward.json, config.yaml");
  cmd->add_flag("--json", *json, "Print JSON (radii: [{depth, radius}], method, ...)");
  auto model = AddModelFlags(cmd);
  auto position = AddPositionFlag(cmd);
  return [=]() -> int {
    if (!depths->empty()) o->depths = probe::ParseDepths(*depths, "--depths");
    o->position = position->Parse();
    o->incremental = !*fresh;
    const probe::ModelOptions m = model->Resolve();
    if (!model->active()) o->validate();
    const Config c = LoadConfig(*config);
    const probe::ForwardResult r =
        model->active() ? probe::RunModelForward(c, *o, m) : probe::RunForward(c, *o);
    const nlohmann::json j = r.ToJson();
    if (!out->empty()) {
      std::vector<std::string> names;
      std::vector<std::vector<double>> profiles;
      for (const auto& d : r.depths) {
        names.push_back("depth_" + std::to_string(d.depth));
        profiles.push_back(d.profile);
      }
      if (EndsWith(*out, ".csv")) {
        EnsureParent(*out);
        probe::WriteProfilesCsv(names, profiles, *out);
      } else {
        MakeDirs(*out);
        probe::WriteProfilesCsv(names, profiles, *out + "/profiles.csv");
        std::string radii = "depth,radius,clipped\n";
        for (const auto& d : r.depths) {
          radii += std::to_string(d.depth) + "," + std::to_string(d.radius) + "," +
                   (d.clipped ? "true" : "false") + "\n";
        }
        WriteFileAtomic(*out + "/radii.csv", radii);
        WriteFileAtomic(*out + "/forward.json", j.dump(2) + "\n");
        WriteFileAtomic(*out + "/config.yaml", c.Dump());
      }
    }
    if (*json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    std::printf(
        "forward estimate: %s%s, init %s, %s on %s, %d×%d impulse, level %g, %s%s%s (%.2f s)\n",
        r.arch.c_str(), r.linear ? " (linear)" : "", r.init.c_str(), r.dtype.c_str(),
        r.device.c_str(), r.size, r.size, r.level, r.method.c_str(),
        r.method_note.empty() ? "" : ": ", r.method_note.c_str(), r.wall_s);
    if (r.placement) {
      std::printf(
          "at %s; radius along the row to the right, extents per ray ('+': the border "
          "comes first, a lower bound)\n",
          PlacementText(*r.placement).c_str());
    }
    std::printf("%6s  %6s\n", "depth", "radius");
    for (const auto& d : r.depths) {
      std::printf("%6d  %6d%s%s%s\n", d.depth, d.radius,
                  d.clipped ? "  (reaches the border: a lower bound)" : "",
                  d.extents ? "  extents: " : "", d.extents ? ExtentsText(*d.extents).c_str() : "");
    }
    return 0;
  };
}

// The gradient probe's backward pass holds a training step's activations: `--batch` inputs of
// --size² through the net. Estimated as `rfx train` estimates a step, before anything is
// allocated (--size 16384 under ulimit -v died in LibTorch with a 40-line stack trace).
void CheckGradientFits(const Config& config, const probe::GradientOptions& o) {
  std::optional<nn::NetOptions> read_net;
  data::DatasetOptions data;
  try {  // a config or run the probe cannot read: it says so itself
    const Config net_config =
        o.checkpoint.empty() ? config : Config::Load(RunPaths(o.checkpoint).config);
    read_net = nn::NetOptions::FromConfig(net_config);
    data = data::DatasetOptions::FromConfig(net_config);
  } catch (const UsageError&) {  // ConfigError included
    return;
  }
  const nn::NetOptions& net = *read_net;
  if (o.size > 0) data.image_size = o.size;
  const int batch = std::max(1, o.samples > 0 ? std::min(o.batch, o.samples) : o.batch);
  const train::MemoryEstimate e = train::EstimateTrainingBytes(net, data, batch, /*prefetch=*/0);
  const c10::Device device = ResolveDevice(config.GetString("train.device"), "train.device");
  const train::AvailableMemory avail = train::AvailableBytes(device);
  if (e.bytes <= avail.bytes) return;
  throw UsageError("--size " + std::to_string(data.image_size) + " with --batch " +
                   std::to_string(batch) + " needs about " + train::FormatBytes(e.bytes) +
                   " for one backward pass of the net but " + train::FormatBytes(avail.bytes) +
                   " is " + avail.source + "; allowed: a smaller --size or --batch");
}

Runner AddGradient(CLI::App* probe) {
  CLI::App* cmd = probe->add_subcommand(
      "gradient", "Effective RF (Luo et al.): d out[c,H/2,W/2] / d input over --samples inputs");
  auto config = std::make_shared<ConfigArgs>();
  auto o = std::make_shared<probe::GradientOptions>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  AddConfigOptions(cmd, config.get());
  cmd->add_option("--checkpoint", o->checkpoint,
                  "Run directory of `rfx train` (config.yaml + model.pt); default: a fresh init");
  auto gradient = AddGradientFlags(cmd, o.get());
  cmd->add_option("--size", o->size, "Noise/image input side (0: dataset.image_size)")
      ->capture_default_str();
  cmd->add_option("--channel", o->channel, "Output channel c")->capture_default_str();
  cmd->add_option("--level", o->level, "Radius threshold on the normalised centre row")
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "float32 | float64")->capture_default_str();
  cmd->add_option("--bn", o->bn, "fcn_resnet50 BatchNorm: eval | train")->capture_default_str();
  cmd->add_option("--out", *out,
                  "FILE.csv: the map (+ FILE.png); DIR: erf_map.csv, erf_map.png, erf.json, "
                  "config.yaml")
      ->required();
  cmd->add_flag("--json", *json, "Print JSON (radius, sigma, area_ratio, agg, scale, ...)");
  auto model = AddModelFlags(cmd);
  auto position = AddPositionFlag(cmd);
  return [=]() -> int {
    gradient->Apply(/*channel_is_readout=*/true);
    o->position = position->Parse();
    const probe::ModelOptions m = model->Resolve();
    if (!model->active()) o->validate();
    const Config c = LoadConfig(*config);
    if (!model->active()) CheckGradientFits(c, *o);
    const probe::GradientResult r =
        model->active() ? probe::RunModelGradient(c, *o, m) : probe::RunGradient(c, *o);
    nlohmann::json j = r.ToJson();
    std::string csv, png;
    if (EndsWith(*out, ".csv")) {
      EnsureParent(*out);
      csv = *out;
      png = out->substr(0, out->size() - 4) + ".png";
    } else {
      MakeDirs(*out);
      csv = *out + "/erf_map.csv";
      png = *out + "/erf_map.png";
    }
    j["map_csv"] = csv;
    j["map_png"] = png;
    probe::WriteMapCsv(r.map, csv);
    probe::WriteHeatmapPng(r.map, png);
    if (!EndsWith(*out, ".csv")) {
      WriteFileAtomic(*out + "/erf.json", j.dump(2) + "\n");
      WriteFileAtomic(*out + "/config.yaml", c.Dump());
    }
    if (*json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    const std::string readout = r.replknet ? "RepLKNet read-out sum_c relu(out[c])"
                                           : "channel " + std::to_string(r.channel);
    const std::string input = r.inputs.empty() ? r.input : r.input + " from " + r.inputs;
    std::printf("gradient ERF of %s: %d %s input(s), agg %s, scale %s, %s, %d×%d (%.2f s)\n",
                r.source.c_str(), r.samples, input.c_str(), r.agg.c_str(), r.scale.c_str(),
                readout.c_str(), r.map.h, r.map.w, r.wall_s);
    auto ci = [](const probe::Interval& i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " [95%% CI %.4g, %.4g]", i.lo, i.hi);
      return std::string(buf);
    };
    if (r.placement) {
      std::printf("read at %s (the measures are centred there); extents: %s\n",
                  PlacementText(*r.placement).c_str(), ExtentsText(*r.extents).c_str());
    }
    std::printf("radius at level %g: %d%s%s\n", r.level, r.radius,
                r.ci ? ci(r.ci->radius).c_str() : "",
                r.clipped ? " (reaches the border: a lower bound)" : "");
    std::printf("gaussian sigma (moments): x %.3f%s, y %.3f%s; centre (%.2f, %.2f)\n",
                r.fit.sigma_x, r.ci ? ci(r.ci->sigma_x).c_str() : "", r.fit.sigma_y,
                r.ci ? ci(r.ci->sigma_y).c_str() : "", r.fit.mean_x, r.fit.mean_y);
    for (size_t i = 0; i < r.area_ratios.size(); ++i) {
      const probe::AreaResult& a = r.area_ratios[i];
      const std::string side = r.replknet ? " (side " + std::to_string(a.side) + ")" : "";
      std::printf("area ratio at t=%.2f: %.6f%s%s\n", a.t, a.ratio, side.c_str(),
                  r.ci ? ci(r.ci->areas[i]).c_str() : "");
    }
    if (r.ci) {
      std::printf("bootstrap: %d replicates over %d unit(s), seed %llu\n", r.ci->replicates,
                  r.ci->units, static_cast<unsigned long long>(r.ci->seed));
    }
    std::printf("map: %s, %s\n", csv.c_str(), png.c_str());
    return 0;
  };
}

}  // namespace

Runner AddProbeCommand(CLI::App& app) {
  CLI::App* probe =
      app.add_subcommand("probe", "Field probes without training: forward | gradient | compare");
  probe->require_subcommand(1);
  std::vector<std::pair<CLI::App*, Runner>> subs;
  Runner f = AddForward(probe);
  subs.emplace_back(probe->get_subcommands({}).back(), f);
  Runner g = AddGradient(probe);
  subs.emplace_back(probe->get_subcommands({}).back(), g);
  Runner c = AddProbeCompareCommand(*probe);
  subs.emplace_back(probe->get_subcommands({}).back(), c);
  return Dispatch(probe, subs);
}

}  // namespace rfx::cli
