#include "rfx/train/memory.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "rfx/data/batch_source.h"
#include "rfx/nn/depth_key.h"
#include "rfx/nn/layers_net.h"
#include "rfx/train/train.h"
#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::train {
namespace {

// The model, fitted to the peak RSS of real CPU trainings (rfx train, 2 steps, eval_samples 1,
// one torch and one producer thread, LibTorch 1.13; /usr/bin/time -f %M). With a = one hidden
// layer's activation map, batch·width·H·W·4 bytes, and the runtime (184 MB, the peak of a
// 1-layer 1-channel 16² run) subtracted (MB = 10^6 bytes):
//   depth 16, width 16, 128², batch 8,  skip input   183 MB = 21.8 a   (model 21.3 a)
//   depth 16, width 16, 128², batch 8,  skip none    156 MB = 18.6 a   (model 18.1 a)
//   depth 32, width 16, 128², batch 16, skip input   696 MB = 41.5 a   (model 40.5 a)
//   depth 8,  width 16, 256², batch 32, skip input  1558 MB = 11.6 a   (model 11.7 a)
//   depth 16, width 32, 256², batch 8,  skip input  1398 MB = 20.8 a   (model 20.8 a)
// so a layer keeps one map for backward (its ReLU output, which is the next conv's input),
// a skip point (an add) 0.8 more, and about one map of gradients and scratch is live at once,
// on top of the queued batches (data_bytes: 1.1 a at width 16). The model is within 3% of all
// five; memory_test checks one more in-process (depth 8, 128², batch 16: 201 MB, model 197).
//   fcn_resnet50, 128², batch 8                     1335 MB: Adam state of its 32.9 M
// parameters (527 MB), the batches (9 MB), activations of ~6.1 KB per input pixel and sample.
// On CUDA the same tensors are kept (cuDNN workspaces come and go); the runtime there is the
// CUDA context, of similar size.
constexpr double kMapsPerLayer = 1.0;
constexpr double kMapsPerSkip = 0.8;
constexpr double kMapsTransient = 1.0;
constexpr double kRuntimeBytes = 184e6;
constexpr double kResNet50Parameters = 32940994;  // CountParameters(FcnResNet50), tested
constexpr double kResNet50BytesPerPixel = 6100;   // per sample and input pixel
constexpr double kLayersTransientMaps = 2;        // net.arch layers, see Estimate()
// Weights, gradients, Adam's exp_avg and exp_avg_sq: four floats per parameter.
constexpr double kBytesPerParameter = 4 * 4;
// Batches alive besides the prefetch queue: the one being trained on and the one being filled.
constexpr int kBatchesInFlight = 2;

int64_t Saturate(double bytes) {
  constexpr double kMax = static_cast<double>(std::numeric_limits<int64_t>::max());
  return bytes >= kMax ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(bytes);
}

struct Parts {
  double activations = 0, parameters = 0, data = 0;
  double total() const { return activations + parameters + data + kRuntimeBytes; }
};

double FcnParameters(const nn::NetOptions& net) {
  const double k2 = static_cast<double>(net.kernel) * net.kernel;
  double params = 0;
  for (int i = 0; i < net.depth; ++i) {
    const double in = i == 0 ? 1 : net.width;
    const double out = i + 1 == net.depth ? 2 : net.width;
    params += in * out * k2 + out;
  }
  // The input skip's 1×1 chain: at most width² per skip point.
  if (net.skip == nn::SkipKind::kInput) {
    params +=
        static_cast<double>(net.width) * net.width * std::ceil(double(net.depth) / net.skip_step);
  }
  return params;
}

Parts Estimate(const nn::NetOptions& net, const data::DatasetOptions& data, double batch,
               int prefetch) {
  const double pixels = static_cast<double>(data.image_size) * data.image_size;
  Parts p;
  p.data = (prefetch + kBatchesInFlight) * batch * 3 * pixels * 4;  // image + 2 target planes
  if (net.arch == nn::NetArch::kFcnResNet50) {
    p.parameters = kResNet50Parameters * kBytesPerParameter;
    p.activations = kResNet50BytesPerPixel * batch * pixels;
    return p;
  }
  if (net.arch == nn::NetArch::kLayers) {
    // Not fitted, an upper bound: every item's output (and the input) kept for backward, plus
    // kLayersTransientMaps of the largest map for gradients and scratch. The fcn as a layer
    // list (convs and relus) counts 2 maps per layer where the fitted model above finds ~1.1:
    // depth 16, width 16, 128², batch 8, skip none as a list: estimated 464 MB, peak RSS 336 MB
    // (the fcn itself: 332 MB).
    const nn::LayersFootprint f = nn::EstimateLayers(net.layers, data.image_size, data.image_size);
    p.parameters = f.parameters * kBytesPerParameter;
    p.activations = batch * 4 * (f.elements + kLayersTransientMaps * f.largest);
    return p;
  }
  const double map = batch * net.width * pixels * 4;
  const double skips =
      net.skip == nn::SkipKind::kNone ? 0 : std::ceil(double(net.depth) / net.skip_step);
  p.activations = map * (kMapsPerLayer * net.depth + kMapsPerSkip * skips + kMapsTransient);
  p.parameters = FcnParameters(net) * kBytesPerParameter;
  return p;
}

// The first line of `path` as an integer; false when missing or not a number ("max").
bool ReadNumber(const std::string& path, double* out) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::strtod(s.c_str(), nullptr);
  return true;
}

// Room left under this process's cgroup v2 memory limits, walking from its cgroup to the root
// (a Slurm job's limit sits on an ancestor of the step's cgroup). False when none applies.
bool CgroupRoom(double* room) {
  std::ifstream f("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(f, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  if (path.empty()) return false;
  bool found = false;
  while (true) {
    const std::string dir = "/sys/fs/cgroup" + (path == "/" ? std::string() : path);
    double max = 0, current = 0;
    if (ReadNumber(dir + "/memory.max", &max) && ReadNumber(dir + "/memory.current", &current)) {
      const double r = std::max(0.0, max - current);
      *room = found ? std::min(*room, r) : r;
      found = true;
    }
    if (path == "/" || path.empty()) break;
    const size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return found;
}

AvailableMemory Ram() {
  AvailableMemory m;
  std::ifstream f("/proc/meminfo");
  std::string name;
  double kb = 0;
  std::string unit;
  while (f >> name >> kb >> unit) {
    if (name == "MemAvailable:") {
      m.bytes = Saturate(kb * 1024);
      m.source = "available RAM (/proc/meminfo MemAvailable)";
    }
  }
  if (m.bytes <= 0) {
    m.bytes = Saturate(static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE));
    m.source = "physical RAM";
  }
  double room = 0;
  if (CgroupRoom(&room) && room < static_cast<double>(m.bytes)) {
    m.bytes = Saturate(room);
    m.source = "room under this process's cgroup memory limit (memory.max)";
  }
  // An address-space limit (ulimit -v): what is left of it beside the process's mappings.
  rlimit as{};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    double mapped_kb = 0;
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
      if (key == "VmSize:") {
        status >> mapped_kb;
        break;
      }
      std::getline(status, key);
    }
    const double left = std::max(0.0, static_cast<double>(as.rlim_cur) - mapped_kb * 1024);
    if (left < static_cast<double>(m.bytes)) {
      m.bytes = Saturate(left);
      m.source = "left of this process's address-space limit (ulimit -v)";
    }
  }
  return m;
}

// Total memory of CUDA device `index` through the CUDA runtime that a CUDA build of LibTorch
// has loaded (looked up at run time, so a CPU-only build needs no CUDA to compile or link).
bool CudaTotal(int index, double* total) {
  using GetDevice = int (*)(int*);
  using SetDevice = int (*)(int);
  using MemGetInfo = int (*)(size_t*, size_t*);
  auto get = reinterpret_cast<GetDevice>(dlsym(RTLD_DEFAULT, "cudaGetDevice"));
  auto set = reinterpret_cast<SetDevice>(dlsym(RTLD_DEFAULT, "cudaSetDevice"));
  auto info = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
  if (get == nullptr || set == nullptr || info == nullptr) return false;
  int previous = 0;
  if (get(&previous) != 0 || set(index) != 0) return false;
  size_t free_bytes = 0, total_bytes = 0;
  const bool ok = info(&free_bytes, &total_bytes) == 0;
  set(previous);
  if (ok) *total = static_cast<double>(total_bytes);
  return ok && total_bytes > 0;
}

}  // namespace

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 || bytes >= 100 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

MemoryEstimate EstimateTrainingBytes(const nn::NetOptions& net, const data::DatasetOptions& data,
                                     int batch_size, int prefetch) {
  const Parts p = Estimate(net, data, batch_size, prefetch);
  MemoryEstimate e;
  e.activation_bytes = Saturate(p.activations);
  e.parameter_bytes = Saturate(p.parameters);
  e.data_bytes = Saturate(p.data);
  e.runtime_bytes = Saturate(kRuntimeBytes);
  e.bytes = Saturate(p.total());
  // The dominant key: the one whose default would save the most.
  const nn::NetOptions net0;
  const data::DatasetOptions data0;
  const int batch0 = TrainOptions().batch_size;
  e.dominant_value = batch_size;
  double best = 0;
  auto consider = [&](const char* key, int64_t value, int64_t fallback, const Parts& at_default) {
    const double saved = p.total() - at_default.total();
    if (value > fallback && saved > best) {
      best = saved, e.dominant_key = key, e.dominant_value = value;
    }
  };
  consider("train.batch_size", batch_size, batch0, Estimate(net, data, batch0, prefetch));
  data::DatasetOptions d = data;
  d.image_size = data0.image_size;
  consider("dataset.image_size", data.image_size, data0.image_size,
           Estimate(net, d, batch_size, prefetch));
  if (net.arch == nn::NetArch::kFcn) {
    nn::NetOptions n = net;
    n.depth = net0.depth;
    consider(nn::kDepthKey, net.depth, net0.depth, Estimate(n, data, batch_size, prefetch));
    n = net;
    n.width = net0.width;
    consider("net.width", net.width, net0.width, Estimate(n, data, batch_size, prefetch));
  }
  return e;
}

AvailableMemory AvailableBytes(c10::Device device) {
  if (device.is_cuda()) {
    double total = 0;
    const int index = device.has_index() ? device.index() : 0;
    if (CudaTotal(index, &total)) {
      return {Saturate(total), "cuda:" + std::to_string(index) + " total memory"};
    }
  }
  return Ram();
}

void CheckFitsInMemory(const Config& config, c10::Device device) {
  const nn::NetOptions net = nn::NetOptions::FromConfig(config);
  const data::DatasetOptions data = data::DatasetOptions::FromConfig(config);
  const int batch = config.GetInt("train.batch_size", 1, std::numeric_limits<int>::max());
  const int prefetch = data::BatchSourceOptions::FromConfig(config).prefetch;
  const MemoryEstimate e = EstimateTrainingBytes(net, data, batch, prefetch);
  const AvailableMemory avail = AvailableBytes(device);
  if (e.bytes <= avail.bytes) return;
  config.Fail(
      e.dominant_key,
      "value " + std::to_string(e.dominant_value) + " needs about " + FormatBytes(e.bytes) +
          " to train (activations " + FormatBytes(e.activation_bytes) +
          ", weights and Adam state " + FormatBytes(e.parameter_bytes) + ", queued batches " +
          FormatBytes(e.data_bytes) + ") but " + FormatBytes(avail.bytes) + " is " + avail.source +
          "; allowed: a smaller train.batch_size, dataset.image_size, " + "net.depth or net.width");
}

}  // namespace rfx::train
