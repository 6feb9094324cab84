#include "rfx/train/result.h"

#include <cmath>
#include <stdexcept>

#include "rfx/util/enum_text.h"
#include "rfx/util/json.h"

namespace rfx::train {

const char* StatusText(TrainStatus status) {
  switch (status) {
    case TrainStatus::kOk:
      return "ok";
    case TrainStatus::kDiverged:
      return "diverged";
    case TrainStatus::kFailed:
      return "failed";
  }
  return "failed";
}

TrainStatus ParseStatus(const std::string& text) {
  const auto statuses = {TrainStatus::kOk, TrainStatus::kDiverged, TrainStatus::kFailed};
  if (auto status = FindByText(statuses, StatusText, text)) return *status;
  throw std::invalid_argument("unknown training status '" + text + "'");
}

nlohmann::json TrainResult::ToJson() const {
  const auto number = FiniteOrNull;
  nlohmann::json j;
  j["accuracy"] = number(accuracy);
  j["loss"] = number(loss);
  j["steps"] = steps;
  j["status"] = StatusText(status);
  j["wall_s"] = wall_s;
  j["device"] = device;
  j["train_accuracy"] = number(train_accuracy);
  if (check_every > 0) {
    j["check_every"] = check_every;
    j["learned_at"] = learned_at >= 0 ? nlohmann::json(learned_at) : nlohmann::json(nullptr);
    j["early_stopped"] = early_stopped;
  }
  if (!message.empty()) j["message"] = message;
  return j;
}

TrainResult TrainResult::FromJson(const nlohmann::json& j) {
  auto number = [&](const char* key, double fallback) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
  };
  auto integer = [&](const char* key, int64_t fallback) {
    return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : fallback;
  };
  auto text = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  TrainResult r;
  try {
    r.status = ParseStatus(text("status"));
  } catch (const std::invalid_argument&) {
    r.status = TrainStatus::kFailed;
  }
  r.accuracy = number("accuracy", 0.0);
  r.loss = number("loss", NAN);
  r.steps = integer("steps", 0);
  r.wall_s = number("wall_s", 0.0);
  r.device = text("device");
  r.train_accuracy = number("train_accuracy", 0.0);
  r.message = text("message");
  r.check_every = integer("check_every", 0);
  r.learned_at = integer("learned_at", -1);
  r.early_stopped = j.contains("early_stopped") && j["early_stopped"].is_boolean() &&
                    j["early_stopped"].get<bool>();
  return r;
}

}  // namespace rfx::train
