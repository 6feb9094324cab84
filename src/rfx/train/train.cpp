// The training loop (docs/design.md#training-and-accuracy). Options, results, accuracy, checkpoints
// and the run directory live in their own files of rfx/train.
#include "rfx/train/train.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "rfx/data/batch_source.h"
#include "rfx/nn/init.h"
#include "rfx/runtime/device.h"
#include "rfx/train/accuracy.h"
#include "rfx/train/checkpoint.h"
#include "rfx/train/memory.h"
#include "rfx/train/model.h"
#include "rfx/train/run_dir.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/progress.h"
#include "rfx/util/strings.h"

namespace rfx::train {

namespace {

constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// A freshly initialised net on `device` and its optimiser.
struct Model {
  nn::NetPtr net;
  std::unique_ptr<torch::optim::Adam> optimizer;
};

Model FreshModel(const Config& config, const TrainOptions& opt, const nn::NetOptions& net_opt,
                 const nn::InitOptions& init_opt, c10::Device device) {
  Model m;
  m.net = PrepareNet(config, opt, net_opt, init_opt, device);  // train.freeze applied
  m.optimizer = MakeOptimizer(*m.net, opt);                    // frozen layers: no state
  return m;
}

}  // namespace

data::DatasetOptions RunDatasetOptions(const Config& config) {
  data::DatasetOptions d = data::DatasetOptions::FromConfig(config);
  const TrainOptions t = TrainOptions::FromConfig(config);
  d.seed += t.seed;
  return d;
}

TrainResult RunTraining(const Config& config, const RunOptions& run) {
  const auto t0 = std::chrono::steady_clock::now();
  // Everything the config says, checked before any work.
  const TrainOptions opt = TrainOptions::FromConfig(config);
  const nn::NetOptions net_opt = nn::NetOptions::FromConfig(config);
  const nn::InitOptions init_opt = nn::InitOptions::FromConfig(config);
  const data::DatasetOptions data_opt = RunDatasetOptions(config);
  data::BatchSourceOptions source_opt = data::BatchSourceOptions::FromConfig(config);
  c10::Device device = c10::Device(c10::kCPU);
  try {
    device = ResolveDevice(opt.device, "train.device");
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  CheckFitsInMemory(config, device);  // before anything is allocated or written
  CheckFreeze(config, opt, net_opt);
  const EarlyStopOptions& es = opt.early_stop;

  // The run directory.
  const bool keep = !run.out_dir.empty();
  const RunPaths paths(keep ? run.out_dir : std::string("."));
  bool resuming = false;
  RunDirPlan dir_plan;
  if (keep) {
    dir_plan = PrepareRunDir(config, run);  // holds the directory's lock until we return
    if (dir_plan.stored) return *dir_plan.stored;
    resuming = dir_plan.resume;
  }

  TrainResult result;
  result.device = device.str();
  result.check_every = es.every;
  SetTorchThreads(opt.threads);

  Model model = FreshModel(config, opt, net_opt, init_opt, device);
  Window window;
  window.Reset(device);
  int64_t step = 0;
  double wall_before = 0;
  LastWindow last;       // the last window logged (its loss is the training's)
  bool resumed = false;  // from the checkpoint (not started over from an unreadable one)
  if (resuming) {
    try {
      const Restored r =
          LoadCheckpoint(paths.checkpoint, *model.net, *model.optimizer, &window, device);
      step = r.step;
      wall_before = r.wall_s;
      result.learned_at = r.learned_at;
      result.early_stopped = r.early_stopped;
      last = r.last;
      TrimMetrics(paths.metrics, step);
      resumed = true;
    } catch (const CheckpointUnreadable& e) {
      // Moved aside, not deleted: the bytes stay for a post-mortem; the run starts over.
      const std::string& bad = paths.bad_checkpoint;
      std::error_code ec;
      std::filesystem::rename(paths.checkpoint, bad, ec);
      result.message = "checkpoint " + paths.checkpoint + " could not be read (" + e.what() +
                       "); moved to " + bad + " and started over from step 0";
      std::cerr << "rfx: warning: " << result.message << "\n";
      ClearRunFiles(paths);
      model = FreshModel(config, opt, net_opt, init_opt, device);
      window.Reset(device);
    }
  }
  nn::Net& net = *model.net;
  torch::optim::Adam& optimizer = *model.optimizer;
  const TrainStart start{config, opt, keep ? &paths : nullptr, device, resumed, step};
  for (const auto& o : run.observers) o->Start(start);
  auto observe = [&](bool last_step) {
    for (const auto& o : run.observers) o->AfterStep(net, step, last_step);
  };
  auto wall = [&] { return wall_before + Seconds(t0); };

  source_opt.batch_size = opt.batch_size;
  source_opt.stream = data::kTrainStream;
  source_opt.first_index = static_cast<uint64_t>(step) * opt.batch_size;
  source_opt.device = device;
  const bool train_more = step < opt.steps && !result.early_stopped;
  std::unique_ptr<data::BatchSource> source;
  if (train_more) source = std::make_unique<data::BatchSource>(data_opt, source_opt);

  std::unique_ptr<Progress> progress;
  if (run.progress) {
    progress = std::make_unique<Progress>("train", opt.steps);
    progress->AddBaseline(step);  // a resumed run's steps: not in the rate
    progress->Update(step);
  }
  auto checkpoint = [&] {
    if (keep) {
      SaveCheckpoint(paths.checkpoint, net, optimizer, step, wall(), window, last,
                     result.learned_at, result.early_stopped);
    }
  };
  auto stop_requested = [&] { return run.stop != nullptr && run.stop->load(); };

  bool stopped = false;
  // Reads the window (one host sync). Returns false when a loss was not finite.
  auto flush = [&]() -> bool {
    if (window.losses.empty()) return true;
    const at::Tensor losses = at::stack(window.losses).to(at::kCPU, at::kDouble);
    const int64_t n = losses.size(0);
    const at::Tensor finite = at::isfinite(losses);
    if (!finite.all().item<bool>()) {
      const int64_t bad = at::argmin(finite.to(at::kInt)).item<int64_t>();
      result.status = TrainStatus::kDiverged;
      step = step - n + bad + 1;
      result.message = "the loss is not finite at step " + std::to_string(step) + " (train.lr " +
                       FormatNumber(opt.lr) + ")";
      last.loss = NAN;
      return false;
    }
    last.loss = losses.mean().item<double>();
    last.train_accuracy = static_cast<double>(window.correct.to(at::kCPU).item<int64_t>()) /
                          static_cast<double>(std::max<int64_t>(1, window.seen));
    if (keep) {
      nlohmann::json line{
          {"step", step}, {"loss", last.loss}, {"train_accuracy", last.train_accuracy}};
      AppendLineDurable(paths.metrics, line.dump());
    }
    window.Reset(device);
    char note[64];
    std::snprintf(note, sizeof note, "loss %.3g  acc %.3f", last.loss, last.train_accuracy);
    if (progress) progress->Update(step, note);
    return true;
  };
  // The periodic held-out check (train.early_stop); returns false when a stop was requested.
  auto check = [&]() -> bool {
    const double acc = Evaluate(net, data_opt, es.samples, device, kCheckStream,
                                std::max(opt.batch_size, 32), source_opt.threads, run.stop);
    if (std::isnan(acc)) return false;
    if (acc >= es.accuracy) {
      result.learned_at = step;
      result.early_stopped = es.stop && step < opt.steps;
    }
    return true;
  };

  if (train_more) observe(/*last_step=*/false);  // the initial net (or a resumed one)
  while (train_more && step < opt.steps) {
    if (stop_requested() || (run.stop_at_step > 0 && step >= run.stop_at_step)) {
      stopped = true;
      break;
    }
    data::Batch batch = source->Next();
    const at::Tensor x = batch.image.to(device, /*non_blocking=*/true).contiguous(kChannelsLast);
    const at::Tensor y = batch.target.to(device, /*non_blocking=*/true).contiguous(kChannelsLast);
    const at::Tensor out = net.forward(x);
    const at::Tensor loss = torch::nn::functional::mse_loss(out, y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    window.losses.push_back(loss.detach());
    window.correct += (PredictYo(out.detach()) == (batch.label.to(device) > 0.5)).sum();
    window.seen += batch.image.size(0);
    ++step;
    const bool checking = es.enabled() && result.learned_at < 0 && step % es.every == 0;
    if (step % opt.log_every == 0 || step == opt.steps || checking) {
      if (!flush()) break;
    } else if (progress && progress->is_tty()) {
      progress->Update(step);
    }
    if (checking) {
      if (!check()) {
        stopped = true;
        break;
      }
    }
    observe(/*last_step=*/step == opt.steps || result.early_stopped);
    if (result.early_stopped) break;
    if (opt.checkpoint_every > 0 && step % opt.checkpoint_every == 0 && step < opt.steps) {
      checkpoint();
    }
  }
  if (source) source->Stop();

  result.steps = step;
  const std::string resume_hint = keep ? "; checkpoint saved, continue with --resume" : "";
  if (result.status == TrainStatus::kDiverged) {
    result.loss = NAN;
  } else if (stopped) {
    result.status = TrainStatus::kFailed;
    result.message = "stopped at step " + std::to_string(step) + " of " +
                     std::to_string(opt.steps) + resume_hint;
    checkpoint();
    result.loss = last.loss;
  } else {
    flush();  // a window resumed exactly at the end
    checkpoint();
    result.loss = last.loss;
    result.accuracy = Evaluate(net, data_opt, opt.eval_samples, device, data::kEvalStream,
                               std::max(opt.batch_size, 32), source_opt.threads, run.stop);
    if (std::isnan(result.accuracy)) {
      result.status = TrainStatus::kFailed;
      result.accuracy = 0;
      result.message = "stopped during the final evaluation" + resume_hint;
    }
  }
  result.train_accuracy = last.train_accuracy;
  if (keep && result.status != TrainStatus::kDiverged) nn::SaveNet(net, paths.model);
  result.wall_s = wall();
  if (keep) WriteFileAtomic(paths.result, result.ToJson().dump(2) + "\n");
  if (progress) {
    char note[96];
    std::snprintf(note, sizeof note, "%s  accuracy %.3f%s", StatusText(result.status),
                  result.accuracy, result.early_stopped ? "  (stopped early)" : "");
    progress->Finish(note);
  }
  return result;
}

}  // namespace rfx::train
