#include "rfx/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include <mutex>
#include <sstream>

#include "rfx/util/files.h"

namespace rfx::train {

void SaveCheckpoint(const std::string& path, nn::Net& net, torch::optim::Adam& optimizer,
                    int64_t step, double wall_s, const Window& window, const LastWindow& last,
                    int64_t learned_at, bool early_stopped) {
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
  archive.write("learned_at", at::tensor(learned_at, at::kLong));
  archive.write("early_stopped", at::tensor(static_cast<int64_t>(early_stopped), at::kLong));
  archive.write("last_loss", at::tensor(last.loss, at::kDouble));
  archive.write("last_train_accuracy", at::tensor(last.train_accuracy, at::kDouble));
  // Serialised in memory, then written by the files layer: a full disk is a typed error with the
  // path, the old checkpoint stays, and no temp file is left (LibTorch's own file writer
  // throws from a destructor on a failed write, which aborts the process).
  std::ostringstream bytes;
  archive.save_to(bytes);
  WriteFileAtomic(path, bytes.str());
}

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
    r.learned_at = read("learned_at").item<int64_t>();
    r.early_stopped = read("early_stopped").item<int64_t>() != 0;
    // Optional: checkpoints of earlier versions do not have them.
    auto read_optional = [&](const char* key, double* out) {
      at::Tensor t;
      if (archive.try_read(key, t)) *out = t.to(at::kCPU).item<double>();
    };
    read_optional("last_loss", &r.last.loss);
    read_optional("last_train_accuracy", &r.last.train_accuracy);
  } catch (const c10::Error& e) {
    throw CheckpointUnreadable(e.what_without_backtrace());
  }
  return r;
}

}  // namespace rfx::train
