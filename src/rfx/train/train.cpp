#include "rfx/train/train.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "datasets/batch_source.h"
#include "rfx/nn/init.h"
#include "rfx/util/device.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/progress.h"

namespace rfx::train {

namespace {

constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;

void CheckMin(const std::string& key, int64_t value, int64_t min) {
  if (value < min) {
    throw ConfigError(key, "value " + std::to_string(value) +
                               " is out of range; allowed >= " + std::to_string(min));
  }
}

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

struct Paths {
  explicit Paths(const std::string& dir)
      : config(dir + "/config.yaml"),
        metrics(dir + "/metrics.jsonl"),
        result(dir + "/result.json"),
        model(dir + "/model.pt"),
        checkpoint(dir + "/checkpoint.pt") {}
  std::string config, metrics, result, model, checkpoint;
};

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

void SaveCheckpoint(const std::string& path, nn::Net& net, torch::optim::Adam& optimizer,
                    int64_t step, double wall_s, const Window& window) {
  torch::serialize::OutputArchive archive;
  archive.write("step", at::tensor(step, at::kLong));
  archive.write("wall_s", at::tensor(wall_s, at::kDouble));
  archive.write("window_losses", window.losses.empty()
                                     ? at::zeros({0}, at::kFloat)
                                     : at::stack(window.losses).to(at::kCPU, at::kFloat));
  archive.write("window_correct", window.correct.to(at::kCPU));
  archive.write("window_seen", at::tensor(window.seen, at::kLong));
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("rng_cpu", gen.get_state());
  }
  torch::serialize::OutputArchive model, opt;
  net.save(model);
  optimizer.save(opt);
  archive.write("model", model);
  archive.write("optimizer", opt);
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::filesystem::rename(tmp, path);
}

struct Restored {
  int64_t step = 0;
  double wall_s = 0;
};

Restored LoadCheckpoint(const std::string& path, nn::Net& net, torch::optim::Adam& optimizer,
                        Window* window, c10::Device device) {
  torch::serialize::InputArchive archive;
  Restored r;
  try {
    archive.load_from(path, device);
    auto read = [&](const char* key) {
      at::Tensor t;  // a fresh tensor each time: read() into a defined one would set_() it
      archive.read(key, t);
      return t.to(at::kCPU);
    };
    r.step = read("step").item<int64_t>();
    r.wall_s = read("wall_s").item<double>();
    window->Reset(device);
    const at::Tensor losses = read("window_losses").to(device);
    for (int64_t i = 0; i < losses.size(0); ++i) window->losses.push_back(losses[i]);
    window->correct = read("window_correct").to(device);
    window->seen = read("window_seen").item<int64_t>();
    const at::Tensor rng = read("rng_cpu");
    {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng);
    }
    torch::serialize::InputArchive model, opt;
    archive.read("model", model);
    archive.read("optimizer", opt);
    net.load(model);
    optimizer.load(opt);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot resume from " + path + ": " + e.what_without_backtrace());
  }
  return r;
}

// The first line where two YAML dumps differ, as "key: value" text (for resume errors).
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(sa, la));
    const bool gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "";
    if (!ga || !gb || la != lb) {
      auto trim = [](std::string s) {
        const size_t p = s.find_first_not_of(' ');
        return p == std::string::npos ? s : s.substr(p);
      };
      return "stored '" + trim(ga ? la : "") + "', given '" + trim(gb ? lb : "") + "'";
    }
  }
}

// Config with the keys that may change on resume set to `stored`'s values.
Config WithResumableKeysFrom(const Config& config, const Config& stored) {
  Config c = config;
  for (const char* key : {"train.device", "train.threads", "dataset.threads", "dataset.prefetch"}) {
    c.Set(key, stored.Get(key), "resume");
  }
  return c;
}

void TrimMetrics(const std::string& path, int64_t last_step) {
  if (!FileExists(path)) return;
  std::string kept;
  for (const std::string& line : ReadCompleteLines(path)) {
    try {
      if (nlohmann::json::parse(line).at("step").get<int64_t>() > last_step) continue;
    } catch (const std::exception&) {
      continue;
    }
    kept += line + "\n";
  }
  WriteFileAtomic(path, kept);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void TrainOptions::validate() const {
  CheckMin("train.steps", steps, 1);
  CheckMin("train.batch_size", batch_size, 1);
  if (!(lr > 0) || !std::isfinite(lr)) {
    throw ConfigError("train.lr", "value " + Num(lr) + " is out of range; allowed > 0");
  }
  CheckMin("train.eval_samples", eval_samples, 1);
  if (device != "auto" && device != "cpu" && device != "cuda" && device.rfind("cuda:", 0) != 0) {
    throw ConfigError("train.device",
                      "value '" + device + "' is not a device; allowed: auto, cpu, cuda, cuda:N");
  }
  CheckMin("train.threads", threads, 0);
  CheckMin("train.log_every", log_every, 1);
  CheckMin("train.checkpoint_every", checkpoint_every, 0);
}

TrainOptions TrainOptions::FromConfig(const Config& config) {
  TrainOptions o;
  try {
    auto get_int = [&](const std::string& key) {
      const int64_t v = config.GetInt(key);
      if (v > (int64_t{1} << 31) - 1) {
        config.Fail(key, "value " + std::to_string(v) + " is out of range; allowed < 2^31");
      }
      return static_cast<int>(v);
    };
    o.steps = config.GetInt("train.steps");
    o.batch_size = get_int("train.batch_size");
    o.lr = config.GetDouble("train.lr");
    o.eval_samples = get_int("train.eval_samples");
    const int64_t seed = config.GetInt("train.seed");
    if (seed < 0) config.Fail("train.seed", "value " + std::to_string(seed) + " is negative");
    o.seed = static_cast<uint64_t>(seed);
    o.device = config.GetString("train.device");
    o.threads = get_int("train.threads");
    o.log_every = get_int("train.log_every");
    o.checkpoint_every = get_int("train.checkpoint_every");
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

nlohmann::json TrainResult::ToJson() const {
  nlohmann::json j;
  j["accuracy"] = accuracy;
  j["loss"] = std::isfinite(loss) ? nlohmann::json(loss) : nlohmann::json(nullptr);
  j["steps"] = steps;
  j["status"] = status;
  j["wall_s"] = wall_s;
  j["device"] = device;
  j["train_accuracy"] = train_accuracy;
  if (!message.empty()) j["message"] = message;
  return j;
}

TrainResult TrainResult::FromJson(const nlohmann::json& j) {
  TrainResult r;
  r.accuracy = j.value("accuracy", 0.0);
  r.loss = j.contains("loss") && j["loss"].is_number() ? j["loss"].get<double>() : NAN;
  r.steps = j.value("steps", int64_t{0});
  r.status = j.value("status", std::string("failed"));
  r.wall_s = j.value("wall_s", 0.0);
  r.device = j.value("device", std::string());
  r.train_accuracy = j.value("train_accuracy", 0.0);
  r.message = j.value("message", std::string());
  return r;
}

at::Tensor PredictYo(const at::Tensor& output, int radius) {
  const int64_t h = output.size(2), w = output.size(3);
  const int64_t cy = h / 2, cx = w / 2;
  // The disc's bounding box, then a mask inside it (13 px for radius 2).
  const int64_t y0 = std::max<int64_t>(0, cy - radius), y1 = std::min<int64_t>(h, cy + radius + 1);
  const int64_t x0 = std::max<int64_t>(0, cx - radius), x1 = std::min<int64_t>(w, cx + radius + 1);
  const at::TensorOptions opt = at::TensorOptions().dtype(output.scalar_type());
  at::Tensor yy = (at::arange(y0, y1, opt) - cy).view({-1, 1});
  at::Tensor xx = (at::arange(x0, x1, opt) - cx).view({1, -1});
  at::Tensor mask = ((yy * yy + xx * xx) <= radius * radius).to(output.scalar_type());
  mask = mask.to(output.device());
  const at::Tensor patch = output.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0);
  const at::Tensor means = (patch * mask).sum({2, 3});  // [B, 2]; the same count per channel
  return means.select(1, 1) >= means.select(1, 0);
}

double Evaluate(nn::Net& net, const data::DatasetOptions& dataset, int samples, c10::Device device,
                uint64_t stream, int batch_size, int threads) {
  const bool was_training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  const int bs = std::max(1, std::min(batch_size, samples));
  data::BatchSourceOptions so;
  so.batch_size = bs;
  so.threads = threads;
  so.stream = stream;
  so.device = device;
  data::BatchSource source(dataset, so);
  at::Tensor correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(device));
  for (int done = 0; done < samples; done += bs) {
    data::Batch b = source.Next();
    const int n = std::min(bs, samples - done);
    const at::Tensor x = b.image.to(device).narrow(0, 0, n).contiguous(kChannelsLast);
    const at::Tensor yo = PredictYo(net.forward(x));
    correct += (yo == (b.label.to(device).narrow(0, 0, n) > 0.5)).sum();
  }
  source.Stop();
  net.train(was_training);
  return static_cast<double>(correct.item<int64_t>()) / samples;
}

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

  // The run directory.
  const bool keep = !run.out_dir.empty();
  const Paths paths(keep ? run.out_dir : std::string("."));
  bool resuming = false;
  if (keep) {
    MakeDirs(run.out_dir);
    const bool has_result = FileExists(paths.result);
    const bool has_checkpoint = FileExists(paths.checkpoint);
    std::string stored_status;
    TrainResult stored;
    if (has_result) {
      try {
        stored = TrainResult::FromJson(nlohmann::json::parse(ReadFile(paths.result)));
        stored_status = stored.status;
      } catch (const nlohmann::json::exception&) {
        stored_status = "";  // unreadable: treat as unfinished
      }
    }
    const bool finished = stored_status == "ok" || stored_status == "diverged";
    if (!run.force) {
      if (finished && !run.resume) {
        throw UsageError("'" + run.out_dir + "' holds a finished run (status " + stored_status +
                         "); pass --force to overwrite it or choose another --out");
      }
      if ((has_checkpoint || has_result) && !run.resume) {
        throw UsageError("'" + run.out_dir +
                         "' holds an unfinished run; pass --resume to continue it or --force to "
                         "start over");
      }
      if (run.resume && (has_checkpoint || finished) && FileExists(paths.config)) {
        const Config stored_config = Config::Load(paths.config);
        const std::string diff = FirstDifference(
            stored_config.Dump(), WithResumableKeysFrom(config, stored_config).Dump());
        if (!diff.empty()) {
          throw UsageError("cannot resume '" + run.out_dir +
                           "': the config differs from its config.yaml (" + diff +
                           "); pass the same config, or --force to start over");
        }
      }
      if (run.resume && finished) return stored;
      resuming = run.resume && has_checkpoint;
    }
    if (!resuming) {
      for (const std::string& p : {paths.metrics, paths.result, paths.model, paths.checkpoint}) {
        std::error_code ec;
        std::filesystem::remove(p, ec);
      }
    }
    WriteFileAtomic(paths.config, config.Dump());
  }

  TrainResult result;
  result.device = device.str();
  SetTorchThreads(opt.threads);

  // Net, optimiser, RNG.
  nn::NetPtr net = nn::BuildNet(net_opt);
  try {
    nn::InitNet(*net, init_opt, opt.seed);
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  torch::manual_seed(opt.seed);
  net->to(device);
  for (auto& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(kChannelsLast));
  }
  net->train();
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(opt.lr));

  Window window;
  window.Reset(device);
  int64_t step = 0;
  double wall_before = 0;
  if (resuming) {
    const Restored r = LoadCheckpoint(paths.checkpoint, *net, optimizer, &window, device);
    step = r.step;
    wall_before = r.wall_s;
    TrimMetrics(paths.metrics, step);
  }
  auto wall = [&] { return wall_before + Seconds(t0); };

  source_opt.batch_size = opt.batch_size;
  source_opt.stream = data::kTrainStream;
  source_opt.first_index = static_cast<uint64_t>(step) * opt.batch_size;
  source_opt.device = device;
  std::unique_ptr<data::BatchSource> source;
  if (step < opt.steps) source = std::make_unique<data::BatchSource>(data_opt, source_opt);

  std::unique_ptr<Progress> progress;
  if (run.progress) {
    progress = std::make_unique<Progress>("train", opt.steps);
    progress->Update(step);
  }
  auto checkpoint = [&] {
    if (keep) SaveCheckpoint(paths.checkpoint, *net, optimizer, step, wall(), window);
  };

  double last_loss = NAN, last_train_acc = 0;
  bool stopped = false;
  // Reads the window (one host sync). Returns false when a loss was not finite.
  auto flush = [&]() -> bool {
    if (window.losses.empty()) return true;
    const at::Tensor losses = at::stack(window.losses).to(at::kCPU, at::kDouble);
    const int64_t n = losses.size(0);
    const at::Tensor finite = at::isfinite(losses);
    if (!finite.all().item<bool>()) {
      const int64_t bad = at::argmin(finite.to(at::kInt)).item<int64_t>();
      result.status = "diverged";
      step = step - n + bad + 1;
      result.message = "the loss is not finite at step " + std::to_string(step) + " (train.lr " +
                       Num(opt.lr) + ")";
      last_loss = NAN;
      return false;
    }
    last_loss = losses.mean().item<double>();
    last_train_acc = static_cast<double>(window.correct.to(at::kCPU).item<int64_t>()) /
                     static_cast<double>(std::max<int64_t>(1, window.seen));
    if (keep) {
      nlohmann::json line{{"step", step}, {"loss", last_loss}, {"train_accuracy", last_train_acc}};
      AppendLineDurable(paths.metrics, line.dump());
    }
    window.Reset(device);
    char note[64];
    std::snprintf(note, sizeof note, "loss %.3g  acc %.3f", last_loss, last_train_acc);
    if (progress) progress->Update(step, note);
    return true;
  };

  while (step < opt.steps) {
    if ((run.stop != nullptr && run.stop->load()) ||
        (run.stop_at_step > 0 && step >= run.stop_at_step)) {
      stopped = true;
      break;
    }
    data::Batch batch = source->Next();
    const at::Tensor x = batch.image.to(device, /*non_blocking=*/true).contiguous(kChannelsLast);
    const at::Tensor y = batch.target.to(device, /*non_blocking=*/true).contiguous(kChannelsLast);
    const at::Tensor out = net->forward(x);
    const at::Tensor loss = torch::nn::functional::mse_loss(out, y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    window.losses.push_back(loss.detach());
    window.correct += (PredictYo(out.detach()) == (batch.label.to(device) > 0.5)).sum();
    window.seen += batch.image.size(0);
    ++step;
    if (step % opt.log_every == 0 || step == opt.steps) {
      if (!flush()) break;
    } else if (progress && progress->is_tty()) {
      progress->Update(step);
    }
    if (opt.checkpoint_every > 0 && step % opt.checkpoint_every == 0 && step < opt.steps) {
      checkpoint();
    }
  }
  if (source) source->Stop();

  result.steps = step;
  if (result.status == "diverged") {
    result.loss = NAN;
  } else if (stopped) {
    result.status = "failed";
    result.message = "stopped at step " + std::to_string(step) + " of " +
                     std::to_string(opt.steps) +
                     (keep ? "; checkpoint saved, continue with --resume" : "");
    checkpoint();
    result.loss = last_loss;
  } else {
    flush();  // a window resumed exactly at the end
    checkpoint();
    result.loss = last_loss;
    result.train_accuracy = last_train_acc;
    result.accuracy = Evaluate(*net, data_opt, opt.eval_samples, device, data::kEvalStream,
                               std::max(opt.batch_size, 32), source_opt.threads);
  }
  result.train_accuracy = last_train_acc;
  if (keep && result.status != "diverged") nn::SaveNet(*net, paths.model);
  result.wall_s = wall();
  if (keep) WriteFileAtomic(paths.result, result.ToJson().dump(2) + "\n");
  if (progress) {
    char note[96];
    std::snprintf(note, sizeof note, "%s  accuracy %.3f", result.status.c_str(), result.accuracy);
    progress->Finish(note);
  }
  return result;
}

}  // namespace rfx::train
