#include "datasets/batch_source.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/util/device.h"
#include "rfx/util/error.h"

namespace rfx::data {

void BatchSourceOptions::validate() const {
  if (batch_size < 1) {
    throw ConfigError("train.batch_size",
                      "value " + std::to_string(batch_size) + " is out of range; allowed >= 1");
  }
  if (threads < 0) {
    throw ConfigError("dataset.threads", "value " + std::to_string(threads) +
                                             " is out of range; allowed >= 0 (0 = all cores)");
  }
  if (prefetch < 1) {
    throw ConfigError("dataset.prefetch",
                      "value " + std::to_string(prefetch) + " is out of range; allowed >= 1");
  }
}

BatchSourceOptions BatchSourceOptions::FromConfig(const Config& config) {
  BatchSourceOptions o;
  try {
    auto get = [&](const std::string& key) {
      const int64_t v = config.GetInt(key);
      if (v < 0 || v > 4096) {
        config.Fail(key, "value " + std::to_string(v) + " is out of range; allowed 0..4096");
      }
      return static_cast<int>(v);
    };
    o.threads = get("dataset.threads");
    o.prefetch = get("dataset.prefetch");
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

struct BatchSource::State {
  State(const DatasetOptions& dataset, const BatchSourceOptions& o) : generator(dataset), opt(o) {}

  Generator generator;
  BatchSourceOptions opt;
  bool pinned = false;

  std::mutex mu;
  std::condition_variable can_produce, can_consume;
  uint64_t next_claim = 0;    // next batch number a producer will take
  uint64_t next_consume = 0;  // next batch number Next() returns
  std::map<uint64_t, Batch> ready;
  bool stop = false;
  std::exception_ptr error;
  std::vector<std::thread> workers;

  Batch Make(uint64_t k) const {
    const int b = opt.batch_size, s = generator.options().image_size;
    auto options = at::TensorOptions().dtype(at::kFloat);
    if (pinned) options = options.pinned_memory(true);
    Batch out;
    out.first_index = opt.first_index + k * static_cast<uint64_t>(b);
    out.image = at::empty({b, 1, s, s}, options);
    out.target = at::empty({b, 2, s, s}, options);
    out.label = at::empty({b}, options);
    float* image = out.image.data_ptr<float>();
    float* target = out.target.data_ptr<float>();
    float* label = out.label.data_ptr<float>();
    const size_t plane = static_cast<size_t>(s) * s;
    for (int i = 0; i < b; ++i) {
      label[i] = static_cast<float>(generator.Fill(opt.stream, out.first_index + i,
                                                   image + i * plane, target + 2 * i * plane));
    }
    return out;
  }

  void Produce() {
    while (true) {
      uint64_t k = 0;
      {
        std::unique_lock<std::mutex> lock(mu);
        can_produce.wait(lock, [&] {
          return stop || next_claim < next_consume + static_cast<uint64_t>(opt.prefetch);
        });
        if (stop) return;
        k = next_claim++;
      }
      try {
        Batch batch = Make(k);
        std::lock_guard<std::mutex> lock(mu);
        ready.emplace(k, std::move(batch));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        can_consume.notify_all();
        return;
      }
      can_consume.notify_all();
    }
  }
};

BatchSource::BatchSource(const DatasetOptions& dataset, const BatchSourceOptions& options) {
  options.validate();
  state_ = std::make_unique<State>(dataset, options);
  State& st = *state_;
  st.pinned = options.device.is_cuda();
  const int n = options.threads > 0 ? options.threads : HardwareThreads();
  st.workers.reserve(n);
  try {
    for (int i = 0; i < n; ++i) st.workers.emplace_back([&st] { st.Produce(); });
  } catch (...) {
    Stop();
    throw;
  }
}

BatchSource::~BatchSource() { Stop(); }

int BatchSource::threads() const { return static_cast<int>(state_->workers.size()); }

void BatchSource::Stop() {
  State& st = *state_;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    st.stop = true;
  }
  st.can_produce.notify_all();
  st.can_consume.notify_all();
  for (auto& t : st.workers) {
    if (t.joinable()) t.join();
  }
}

Batch BatchSource::Next() {
  State& st = *state_;
  Batch batch;
  {
    std::unique_lock<std::mutex> lock(st.mu);
    st.can_consume.wait(lock,
                        [&] { return st.stop || st.error || st.ready.count(st.next_consume) > 0; });
    if (st.stop) throw std::logic_error("BatchSource::Next() called after Stop()");
    auto it = st.ready.find(st.next_consume);
    if (it == st.ready.end()) std::rethrow_exception(st.error);
    batch = std::move(it->second);
    st.ready.erase(it);
    ++st.next_consume;
  }
  st.can_produce.notify_all();
  if (st.opt.device.is_cuda()) {
    batch.image = batch.image.to(st.opt.device, /*non_blocking=*/true);
    batch.target = batch.target.to(st.opt.device, /*non_blocking=*/true);
    batch.label = batch.label.to(st.opt.device, /*non_blocking=*/true);
  }
  return batch;
}

}  // namespace rfx::data
