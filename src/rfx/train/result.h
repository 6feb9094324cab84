// What a training gave (result.json, a sweep record, the child-process protocol) and how it
// ended.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace rfx::train {

// How a training ended. Text ("ok", "diverged", "failed") in StatusText only.
enum class TrainStatus {
  kOk,        // trained (maybe stopped early) and evaluated: `accuracy` is the outcome
  kDiverged,  // the loss became non-finite: an outcome of the experiment (nothing learned)
  kFailed,    // crashed, killed, stopped or out of resources: not an outcome; retried by sweeps
};
const char* StatusText(TrainStatus status);
// Parses StatusText's words; throws std::invalid_argument otherwise.
TrainStatus ParseStatus(const std::string& text);

// What one training gave: result.json, a sweep record and the child-process protocol all carry
// exactly this (ToJson / FromJson).
struct TrainResult {
  double accuracy = 0;  // on eval_samples fresh samples (kEvalStream); 0 unless kOk
  double loss = 0;      // mean training loss over the last log window (NaN: diverged)
  int64_t steps = 0;    // steps done (diverged: the step whose loss was not finite)
  TrainStatus status = TrainStatus::kOk;
  double wall_s = 0;
  std::string device;         // "cpu", "cuda:0", ...
  std::string message;        // why, when status is not kOk; notes (e.g. a bad checkpoint)
  double train_accuracy = 0;  // accuracy on the training batches of the last log window
  // Periodic held-out checks (train.early_stop.every > 0): the first step whose check reached
  // train.early_stop.accuracy (-1: none did, or no checks), and whether training stopped there.
  int64_t check_every = 0;  // train.early_stop.every of this run (0: learned_at is unknown)
  int64_t learned_at = -1;
  bool early_stopped = false;
  bool ok() const { return status == TrainStatus::kOk; }
  bool failed() const { return status == TrainStatus::kFailed; }
  nlohmann::json ToJson() const;  // the result.json object (a non-finite loss is null)
  // Reads ToJson's object (also a sweep record, whose extra keys are ignored). A missing or
  // unknown status reads as kFailed: a result that does not say it finished is not an outcome.
  static TrainResult FromJson(const nlohmann::json& j);
};

}  // namespace rfx::train
