#include "rfx/train/options.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "rfx/runtime/device.h"
#include "rfx/util/error.h"
#include "rfx/util/strings.h"

namespace rfx::train {

namespace {

void CheckMin(const std::string& key, int64_t value, int64_t min) {
  if (value < min) {
    throw ConfigError(key, "value " + std::to_string(value) +
                               " is out of range; allowed >= " + std::to_string(min));
  }
}

// train.freeze's list: integers are layer indices, other scalars names.
std::vector<nn::LayerRef> ReadFreeze(const Config& config) {
  const std::string key = "train.freeze";
  const YAML::Node list = config.Get(key);
  std::vector<nn::LayerRef> refs;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    if (!item.IsScalar() || item.Scalar().empty()) {
      config.Fail(key, "item " + std::to_string(i) +
                           " is not a layer index or name; allowed: e.g. [0, convs.1, layer1]");
    }
    nn::LayerRef ref;
    long long index = 0;
    if (ParseConfigInt(item.Scalar(), &index) && index >= 0) {
      ref.index = index;
    } else {
      ref.name = item.Scalar();  // a negative index stays text: validate() refuses it
    }
    refs.push_back(ref);
  }
  return refs;
}

}  // namespace

void TrainOptions::validate() const {
  CheckMin("train.steps", steps, 1);
  CheckMin("train.batch_size", batch_size, 1);
  if (!(lr > 0) || !std::isfinite(lr)) {
    throw ConfigError("train.lr", "value " + FormatNumber(lr) + " is out of range; allowed > 0");
  }
  CheckMin("train.eval_samples", eval_samples, 1);
  if (device != "auto" && device != "cpu" && device != "cuda" && device.rfind("cuda:", 0) != 0) {
    throw ConfigError("train.device",
                      "value '" + device + "' is not a device; allowed: auto, cpu, cuda, cuda:N");
  }
  const std::string threads_problem = ThreadsProblem(threads);
  if (!threads_problem.empty()) throw ConfigError("train.threads", threads_problem);
  CheckMin("train.log_every", log_every, 1);
  CheckMin("train.checkpoint_every", checkpoint_every, 0);
  CheckMin("train.early_stop.every", early_stop.every, 0);
  CheckMin("train.early_stop.samples", early_stop.samples, 1);
  CheckMin("train.erf_every", erf.every, 0);
  if (erf.samples < 1 || erf.samples > 1000000) {
    throw ConfigError("train.erf_samples", "value " + std::to_string(erf.samples) +
                                               " is out of range; allowed 1 to 1000000");
  }
  if (!(early_stop.accuracy > 0 && early_stop.accuracy <= 1)) {
    throw ConfigError("train.early_stop.accuracy", "value " + FormatNumber(early_stop.accuracy) +
                                                       " is out of range; allowed (0, 1]");
  }
  for (const nn::LayerRef& ref : freeze) {
    long long index = 0;
    if (ref.index < 0 && (ref.name.empty() || ParseConfigInt(ref.name, &index))) {
      throw ConfigError("train.freeze", "value " + ref.text() +
                                            " is out of range; allowed: a layer index >= 0 or "
                                            "a layer name");
    }
  }
}

TrainOptions TrainOptions::FromConfig(const Config& config) {
  TrainOptions o;
  try {
    // An int field: a value beyond int names the key's own range (min..max), not int's; values
    // within int are checked by validate().
    auto get_int = [&](const std::string& key, int64_t min, int64_t max = INT32_MAX) {
      const int64_t v = config.GetInt(key);
      if (v < INT32_MIN || v > INT32_MAX) config.GetInt(key, min, max);  // throws
      return static_cast<int>(v);
    };
    o.steps = config.GetInt("train.steps");
    o.batch_size = get_int("train.batch_size", 1);
    o.lr = config.GetFloat("train.lr");
    o.eval_samples = get_int("train.eval_samples", 1);
    o.seed =
        static_cast<uint64_t>(config.GetInt("train.seed", 0, std::numeric_limits<int64_t>::max()));
    o.device = config.GetString("train.device");
    const std::string threads_problem = ThreadsProblem(config.GetInt("train.threads"));
    if (!threads_problem.empty()) throw ConfigError("train.threads", threads_problem);
    o.threads = get_int("train.threads", 0);
    o.log_every = get_int("train.log_every", 1);
    o.checkpoint_every = get_int("train.checkpoint_every", 0);
    o.early_stop.every = config.GetInt("train.early_stop.every");
    o.early_stop.samples = get_int("train.early_stop.samples", 1);
    o.early_stop.accuracy = config.GetDouble("train.early_stop.accuracy");
    o.early_stop.stop = config.GetBool("train.early_stop.stop");
    o.erf.every = config.GetInt("train.erf_every");
    o.erf.samples = get_int("train.erf_samples", 1, 1000000);
    o.freeze = ReadFreeze(config);
    o.validate();
  } catch (const ConfigError& e) {
    config.Rethrow(e);
  }
  return o;
}

}  // namespace rfx::train
