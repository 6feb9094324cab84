#include "rfx/util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace rfx {

Progress::Progress(std::string label, int64_t total, std::FILE* out, double log_interval_s)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      tty_(out != nullptr && ::isatty(::fileno(out)) != 0),
      log_interval_s_(log_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) Finish();
}

std::string Progress::FormatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  } else if (t >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", t);
  }
  return buf;
}

std::string Progress::FormatRate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) return "?/s";
  char buf[32];
  if (per_second >= 1 || per_second == 0) {
    std::snprintf(buf, sizeof buf, "%.1f/s", per_second);
  } else if (per_second * 60 >= 1) {
    std::snprintf(buf, sizeof buf, "%.1f/min", per_second * 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f/h", per_second * 3600);
  }
  return buf;
}

void Progress::AddBaseline(int64_t n) { baseline_ += n; }

void Progress::Update(int64_t done, const std::string& note) {
  done_ = done;
  if (!note.empty()) note_ = note;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if ((tty_ && since >= 0.1) || (!tty_ && since >= log_interval_s_)) {
    last_draw_ = now;
    Draw(false);
  }
}

void Progress::Finish(const std::string& note) {
  if (finished_) return;
  finished_ = true;
  if (!note.empty()) note_ = note;
  Draw(true);
}

void Progress::Draw(bool final_line) {
  if (out_ == nullptr) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t worked = std::max<int64_t>(0, done_ - baseline_);
  const double rate = elapsed > 0 ? static_cast<double>(worked) / elapsed : 0.0;
  std::string line = label_ + " " + std::to_string(done_);
  if (total_ > 0) line += "/" + std::to_string(total_);
  line += "  " + FormatRate(rate);
  if (total_ > 0 && rate > 0 && done_ < total_ && !final_line) {
    line += "  ETA " + FormatDuration(static_cast<double>(total_ - done_) / rate);
  }
  line += "  " + FormatDuration(elapsed);
  if (!note_.empty()) line += "  " + note_;
  if (tty_) {
    if (total_ > 0) {
      const int width = 24;
      const int filled =
          static_cast<int>(std::min<int64_t>(width, width * done_ / std::max<int64_t>(1, total_)));
      line = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] " + line;
    }
    std::fprintf(out_, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace rfx
