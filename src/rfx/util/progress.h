// Progress reporting for long work: a live bar (done/total, rate, ETA, last note) on a
// terminal, and sparse plain lines in logs (not a TTY), so logs stay quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace rfx {

class Progress {
 public:
  // `label` prefixes every line; `total` is the expected count (0 if unknown).
  // Writes to `out` (stderr by default); a TTY gets a redrawn bar, anything else a line at
  // most every `log_interval_s` seconds and one at the end.
  Progress(std::string label, int64_t total, std::FILE* out = stderr, double log_interval_s = 60.0);
  ~Progress();

  // Work done before this run (a resumed training's steps) or done without work (a sweep's
  // reused cells): `n` more of `done` that the rate and ETA leave out. Call before the
  // Update that counts them.
  void AddBaseline(int64_t n);
  // Records that work advanced to `done` (absolute), with an optional short note.
  void Update(int64_t done, const std::string& note = "");
  // Final line; called by the destructor if not called before.
  void Finish(const std::string& note = "");

  bool is_tty() const { return tty_; }

  // "1h02m", "3m05s", "12s".
  static std::string FormatDuration(double seconds);
  // "12.5/s", "3.2/min", "4.0/h": the largest unit at which the rate is at least 1.
  static std::string FormatRate(double per_second);

 private:
  void Draw(bool final_line);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t baseline_ = 0;  // AddBaseline's: in done_, not in the rate
  std::string note_;
  std::FILE* out_;
  bool tty_;
  bool finished_ = false;
  double log_interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace rfx
