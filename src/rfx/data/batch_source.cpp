#include "rfx/data/batch_source.h"

#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/runtime/device.h"
#include "rfx/util/error.h"

namespace rfx::data {

namespace {
// More producers than this only contend for the same cores (and thousands hang thread creation).
int MaxThreads() { return 4 * HardwareThreads(); }
// Batches held ahead: a few hide a slow step; each costs a batch of memory.
constexpr int kMaxPrefetch = 64;
}  // namespace

void BatchSourceOptions::validate() const {
  if (batch_size < 1) {
    throw ConfigError("train.batch_size",
                      "value " + std::to_string(batch_size) + " is out of range; allowed >= 1");
  }
  if (threads < 0 || threads > MaxThreads()) {
    throw ConfigError("dataset.threads",
                      "value " + std::to_string(threads) + " is out of range; allowed 0.." +
                          std::to_string(MaxThreads()) + " (0 = all cores; at most 4 × the " +
                          std::to_string(HardwareThreads()) + " CPUs this process may use)");
  }
  if (prefetch < 1 || prefetch > kMaxPrefetch) {
    throw ConfigError("dataset.prefetch", "value " + std::to_string(prefetch) +
                                              " is out of range; allowed 1.." +
                                              std::to_string(kMaxPrefetch));
  }
}

BatchSourceOptions BatchSourceOptions::FromConfig(const Config& config) {
  BatchSourceOptions o;
  try {
    o.threads = config.GetInt32("dataset.threads");
    o.prefetch = config.GetInt32("dataset.prefetch");
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

namespace {

// Recycles batch buffers: returning freed tensors' memory to malloc and getting it back costs
// page faults and system time at this rate (a 128² batch of 8 is 1.5 MB). A tensor's deleter
// gives its block back; the pool lives as long as any tensor still uses one of its blocks.
// Blocks are reused as raw memory (every byte of a batch is written again).
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  explicit BufferPool(size_t keep) : keep_(keep) {}
  ~BufferPool() {
    for (auto& [bytes, blocks] : free_) {
      for (void* p : blocks) std::free(p);
    }
  }

  at::Tensor Empty(at::IntArrayRef sizes) {
    size_t bytes = sizeof(float);
    for (int64_t d : sizes) bytes *= static_cast<size_t>(d);
    bytes = (bytes + 63) / 64 * 64;
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& blocks = free_[bytes];
      if (!blocks.empty()) {
        p = blocks.back();
        blocks.pop_back();
      }
    }
    if (p == nullptr) {
      p = std::aligned_alloc(64, bytes);
      if (p == nullptr) throw std::bad_alloc();
    }
    auto self = shared_from_this();
    return at::from_blob(
        p, sizes, [self, bytes](void* q) { self->Put(q, bytes); },
        at::TensorOptions().dtype(at::kFloat));
  }

 private:
  void Put(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& blocks = free_[bytes];
    if (blocks.size() < keep_) {
      blocks.push_back(p);
    } else {
      std::free(p);
    }
  }

  std::mutex mu_;
  size_t keep_;
  std::map<size_t, std::vector<void*>> free_;
};

}  // namespace

struct BatchSource::State {
  State(const DatasetOptions& dataset, const BatchSourceOptions& o) : generator(dataset), opt(o) {}

  Generator generator;
  BatchSourceOptions opt;
  bool pinned = false;
  std::shared_ptr<BufferPool> pool;

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
    Batch out;
    out.first_index = opt.first_index + k * static_cast<uint64_t>(b);
    if (pinned) {  // LibTorch's pinned allocator caches its blocks itself
      const auto options = at::TensorOptions().dtype(at::kFloat).pinned_memory(true);
      out.image = at::empty({b, 1, s, s}, options);
      out.target = at::empty({b, 2, s, s}, options);
      out.label = at::empty({b}, options);
    } else {
      out.image = pool->Empty({b, 1, s, s});
      out.target = pool->Empty({b, 2, s, s});
      out.label = pool->Empty({b});
    }
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
  if (options.device.is_cuda() && !at::globalContext().hasCUDA()) {
    // Pinned host memory needs the CUDA runtime: say so now, not from a producer thread.
    throw ConfigError("train.device", "'" + options.device.str() +
                                          "' asks for CUDA but no CUDA device is available");
  }
  state_ = std::make_unique<State>(dataset, options);
  State& st = *state_;
  // For a CUDA device the batches are made in pinned (page-locked) host memory, so that the
  // copy in Next() is asynchronous: the host queues it and the next step's kernels and goes
  // on while the GPU copies. Never on a CPU device (pinning needs CUDA and buys nothing there).
  st.pinned = options.device.is_cuda();
  const int n = options.threads > 0 ? options.threads : HardwareThreads();
  // Enough blocks for the queue, the batches being made and a few held by the consumer.
  if (!st.pinned) {
    st.pool = std::make_shared<BufferPool>(static_cast<size_t>(options.prefetch + n + 4));
  }
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
  if (st.pinned) {
    // Asynchronous from pinned memory. The pinned blocks are freed when `batch` drops them
    // below; LibTorch's pinned allocator reuses a block only once the copy recorded on it has
    // finished, so this is safe without a sync.
    batch.image = batch.image.to(st.opt.device, /*non_blocking=*/true);
    batch.target = batch.target.to(st.opt.device, /*non_blocking=*/true);
    batch.label = batch.label.to(st.opt.device, /*non_blocking=*/true);
  }
  return batch;
}

}  // namespace rfx::data
