#include "rfx/sweep/run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "rfx/sweep/store.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/progress.h"

namespace rfx::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

int HardwareThreadCount() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string Describe(const Plan& plan, const Cell& cell) {
  std::string s;
  for (size_t i = 0; i < plan.axes().size(); ++i) {
    if (cell[i] < 0) continue;
    s += (s.empty() ? "" : " ") + plan.axes()[i].key + "=" + plan.axes()[i].Text(cell[i]);
  }
  return s;
}

// Runs fn(i) for i in [0, n) on `workers` threads; rethrows the first exception.
void ParallelFor(int64_t n, int workers, const std::function<void(int64_t, int)>& fn) {
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex mu;
  std::atomic<bool> failed{false};
  auto body = [&](int w) {
    while (!failed) {
      const int64_t i = next++;
      if (i >= n) return;
      try {
        fn(i, w);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(workers, n)));
  if (t == 1) {
    body(0);
  } else {
    std::vector<std::thread> threads;
    for (int w = 0; w < t; ++w) threads.emplace_back(body, w);
    for (auto& th : threads) th.join();
  }
  if (error) std::rethrow_exception(error);
}

// The searches of this shard, and how they run in waves of `workers`.
std::vector<Search> ShardSearches(const Plan& plan, const SweepRunOptions& o) {
  std::vector<Search> mine;
  const auto all = plan.Searches();
  for (size_t i = 0; i < all.size(); ++i) {
    if (Plan::InShard(static_cast<int64_t>(i), o.shard, o.shard_count)) mine.push_back(all[i]);
  }
  return mine;
}

}  // namespace

void SweepRunOptions::validate() const {
  if (out_dir.empty()) throw UsageError("--out is required: the sweep directory");
  if (shard_count < 1 || shard < 1 || shard > shard_count) {
    throw UsageError("--shard " + std::to_string(shard) + "/" + std::to_string(shard_count) +
                     " is out of range; use I/N with 1 <= I <= N");
  }
  if (workers < 1) throw UsageError("--workers must be >= 1, got " + std::to_string(workers));
}

void ParseShard(const std::string& text, int* shard, int* count) {
  const size_t slash = text.find('/');
  auto bad = [&]() {
    return UsageError("--shard '" + text + "' is not of the form I/N with 1 <= I <= N (e.g. 2/8)");
  };
  if (slash == std::string::npos) throw bad();
  try {
    size_t p1 = 0, p2 = 0;
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    *shard = std::stoi(a, &p1);
    *count = std::stoi(b, &p2);
    if (p1 != a.size() || p2 != b.size()) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (*count < 1 || *shard < 1 || *shard > *count) throw bad();
}

json ScalarJson(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (s == "true" || s == "false") return s == "true";
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && errno == 0 && *end == '\0') return i;
  double d = 0;
  if (ScalarNumber(n, &d)) return d;
  return s;
}

json MakeRecord(const Plan& plan, const Cell& cell, int repeat, const CellResult& r) {
  json j;
  j["key"] = plan.CellKey(cell, repeat);
  for (size_t i = 0; i < plan.axes().size(); ++i) {
    j[plan.axes()[i].key] = ScalarJson(plan.axes()[i].values[cell[i]]);
  }
  j["repeat"] = repeat;
  j["seed"] = plan.Seed(repeat);
  j["accuracy"] = std::isfinite(r.accuracy) ? json(r.accuracy) : json(nullptr);
  j["loss"] = std::isfinite(r.loss) ? json(r.loss) : json(nullptr);
  j["status"] = r.status;
  j["steps"] = r.steps;
  j["wall_s"] = r.wall_s;
  j["device"] = r.device;
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

std::string SweepSummary::ToText() const {
  std::string s;
  char buf[256];
  for (const auto& r : searches) {
    std::string where;
    for (auto it = r.outer.begin(); it != r.outer.end(); ++it) {
      where += (where.empty() ? "" : " ") + it.key() + "=" +
               (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
    }
    std::string v = r.value ? json(*r.value).dump() : "none";
    if (r.censored == "below") v = "none (sees nothing)";
    if (r.censored == "above") v = ">= " + v + " (sees everything)";
    std::snprintf(buf, sizeof buf, "%s  threshold %s  (%d cells)\n", where.c_str(), v.c_str(),
                  r.cells);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "%lld trainings run, %lld reused, %lld failed -> %s\n",
                static_cast<long long>(trained), static_cast<long long>(reused),
                static_cast<long long>(failed), results_path.c_str());
  s += buf;
  if (interrupted) s += "interrupted: rerun the same command to resume\n";
  if (failed > 0 && !interrupted) {
    s += "failed trainings are trained again when the same command is rerun "
         "(each one's log: cells/KEY.log)\n";
  }
  return s;
}

SweepSummary RunSweep(const Config& config, const SweepRunOptions& o, const Evaluator& evaluate) {
  o.validate();
  const Plan plan(config);
  const SweepOptions& so = plan.options();
  SweepSummary sum;
  sum.note = CheckAndStoreConfig(o.out_dir, config, o.force_new);
  const std::string out_path =
      o.shard_count > 1 ? ShardPath(o.out_dir, o.shard, o.shard_count) : ResultsPath(o.out_dir);
  sum.results_path = out_path;
  ResultStore store(o.out_dir, out_path);
  const bool tty = o.progress && ::isatty(::fileno(stderr)) != 0;
  std::mutex mu;  // guards sum and progress

  const int hw = HardwareThreadCount();
  auto runtime_config = [&](const Cell& cell, int repeat, int worker) {
    Config c = plan.CellConfig(cell, repeat);
    if (!o.devices.empty()) {
      c.Set("train.device", YAML::Node(o.devices[worker % o.devices.size()]), "--devices");
    }
    if (o.workers > 1) {
      const int share = std::max(1, hw / o.workers);
      if (c.GetInt("train.threads") == 0) c.Set("train.threads", YAML::Node(share), "--workers");
      if (c.GetInt("dataset.threads") == 0) {
        c.Set("dataset.threads", YAML::Node(share), "--workers");
      }
    }
    return c;
  };

  std::unique_ptr<Progress> progress;
  int64_t done = 0;
  auto log_line = [&](const std::string& line) {
    if (!o.progress || tty) return;
    std::fprintf(stderr, "sweep: %s\n", line.c_str());
    std::fflush(stderr);
  };

  // Evaluates one training (cached); returns its accuracy (failed = 0).
  auto run_one = [&](const Cell& cell, int repeat, int worker, bool* trained) -> double {
    const std::string key = plan.CellKey(cell, repeat);
    if (const json* rec = store.Find(key)) {
      std::lock_guard<std::mutex> lock(mu);
      ++sum.reused;
      *trained = false;
      const json& a = (*rec)["accuracy"];
      return a.is_number() ? a.get<double>() : 0.0;
    }
    if (o.stop && *o.stop) throw Interrupted();
    CellTask task;
    task.key = key;
    task.cell_dir = o.out_dir + "/cells/" + key;
    task.worker = worker;
    const Config c = runtime_config(cell, repeat, worker);
    CellResult r;
    try {
      r = evaluate(c, task);
    } catch (const UsageError&) {
      throw;
    } catch (...) {
      if (o.stop && *o.stop) throw Interrupted();
      throw;
    }
    if (o.stop && *o.stop) throw Interrupted();  // a cut-short training is not a result
    store.Append(MakeRecord(plan, cell, repeat, r));
    *trained = true;
    char buf[160];
    std::snprintf(buf, sizeof buf, " seed=%llu accuracy=%.3f %s %.1fs",
                  static_cast<unsigned long long>(plan.Seed(repeat)), r.accuracy, r.status.c_str(),
                  r.wall_s);
    const std::string note = Describe(plan, cell) + buf;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++sum.trained;
      if (r.status == "failed") ++sum.failed;
      if (progress) progress->Update(done, note);
    }
    log_line("trained " + note + (r.message.empty() ? "" : " (" + r.message + ")"));
    return r.status == "failed" ? 0.0 : r.accuracy;
  };

  try {
    if (!so.threshold_mode()) {
      std::vector<std::pair<Cell, int>> work;
      const auto cells = plan.GridCells();
      for (size_t i = 0; i < cells.size(); ++i) {
        if (!Plan::InShard(static_cast<int64_t>(i), o.shard, o.shard_count)) continue;
        for (int r = 0; r < so.repeats; ++r) work.emplace_back(cells[i], r);
      }
      if (o.progress) progress = std::make_unique<Progress>("sweep", work.size(), stderr, 60.0);
      ParallelFor(static_cast<int64_t>(work.size()), o.workers, [&](int64_t i, int w) {
        bool trained = false;
        run_one(work[i].first, work[i].second, w, &trained);
        std::lock_guard<std::mutex> lock(mu);
        ++done;
        if (progress) progress->Update(done);
      });
    } else {
      const auto searches = ShardSearches(plan, o);
      const int ti = plan.threshold_axis_index();
      const int m = static_cast<int>(so.axes[ti].values.size());
      if (o.progress) progress = std::make_unique<Progress>("sweep", searches.size(), stderr, 60.0);
      std::map<int, int> chain_answer;  // chain -> last answer from an earlier wave
      sum.searches.resize(searches.size());
      for (size_t w0 = 0; w0 < searches.size(); w0 += static_cast<size_t>(o.workers)) {
        const size_t n = std::min(searches.size() - w0, static_cast<size_t>(o.workers));
        std::vector<int> answers(n, -1);
        ParallelFor(static_cast<int64_t>(n), o.workers, [&](int64_t k, int w) {
          const Search& s = searches[w0 + k];
          auto it = chain_answer.find(s.chain);
          const int start = it == chain_answer.end() ? 0 : std::min(it->second + 1, m - 1);
          int asked = 0;
          const int t = FindThreshold(m, start, [&](int idx) {
            Cell cell = s.outer;
            cell[ti] = idx;
            double acc = 0;
            for (int r = 0; r < so.repeats; ++r) {
              bool trained = false;
              acc += run_one(cell, r, w, &trained);
            }
            ++asked;
            return acc / so.repeats >= so.accuracy;
          });
          answers[k] = t;
          SearchResult res;
          for (size_t a = 0; a < so.axes.size(); ++a) {
            if (static_cast<int>(a) == ti) continue;
            res.outer[so.axes[a].key] = ScalarJson(so.axes[a].values[s.outer[a]]);
          }
          res.cells = asked;
          if (t >= 0) {
            double v = 0;
            ScalarNumber(so.axes[ti].values[t], &v);
            res.value = v;
          }
          res.censored = t < 0 ? "below" : (t == m - 1 ? "above" : "");
          std::lock_guard<std::mutex> lock(mu);
          sum.searches[w0 + k] = res;
          ++done;
          const std::string note = Describe(plan, s.outer) + " threshold " +
                                   (t < 0 ? std::string("none") : so.axes[ti].Text(t));
          if (progress) progress->Update(done, note);
          log_line("search " + std::to_string(done) + "/" + std::to_string(searches.size()) + " " +
                   note + " (" + std::to_string(asked) + " cells)");
        });
        for (size_t k = 0; k < n; ++k) chain_answer[searches[w0 + k].chain] = answers[k];
      }
    }
  } catch (const Interrupted&) {
    sum.interrupted = true;
  }
  if (progress) {
    progress->Finish(sum.interrupted ? "interrupted" : "done");
  }
  return sum;
}

// ---- dry run ---------------------------------------------------------------------------------

DryRun PlanDryRun(const Config& config, const SweepRunOptions& o) {
  if (o.shard_count < 1 || o.shard < 1 || o.shard > o.shard_count || o.workers < 1) o.validate();
  const Plan plan(config);
  const SweepOptions& so = plan.options();
  DryRun d;
  d.mode = so.mode;
  d.workers = o.workers;
  d.grid_cells = plan.GridSize();
  const auto cells = plan.GridCells();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (Plan::InShard(static_cast<int64_t>(i), o.shard, o.shard_count)) ++d.cells;
  }
  if (!so.threshold_mode()) {
    d.trainings_bound = d.trainings_bound_any = d.cells * so.repeats;
    d.grid_trainings = d.trainings_bound;
    return d;
  }
  const auto searches = ShardSearches(plan, o);
  const int m = static_cast<int>(so.axes[plan.threshold_axis_index()].values.size());
  d.searches = static_cast<int64_t>(searches.size());
  d.grid_trainings = d.searches * m * so.repeats;
  d.cells = d.searches * m;
  // Groups per chain: the chain's searches that share a wave share a start.
  std::map<int, std::vector<int>> groups;  // chain -> group sizes
  std::map<int, size_t> last_wave;
  for (size_t i = 0; i < searches.size(); ++i) {
    const size_t wave = i / static_cast<size_t>(o.workers);
    auto& g = groups[searches[i].chain];
    auto it = last_wave.find(searches[i].chain);
    if (it != last_wave.end() && it->second == wave) {
      ++g.back();
    } else {
      g.push_back(1);
    }
    last_wave[searches[i].chain] = wave;
  }
  for (const auto& [chain, g] : groups) {
    int64_t any = 0;
    d.trainings_bound += ChainBound(m, g, &any) * so.repeats;
    d.trainings_bound_any += any * so.repeats;
  }
  return d;
}

json DryRun::ToJson() const {
  json j = {{"mode", mode},
            {"grid_cells", grid_cells},
            {"cells", cells},
            {"trainings_bound", trainings_bound},
            {"grid_trainings", grid_trainings},
            {"workers", workers}};
  if (mode == "threshold") {
    j["searches"] = searches;
    j["trainings_bound_any"] = trainings_bound_any;
  }
  j["cell_s"] = cell_s >= 0 ? json(cell_s) : json(nullptr);
  j["estimate_s"] = estimate_s >= 0 ? json(estimate_s) : json(nullptr);
  return j;
}

std::string DryRun::ToText() const {
  char buf[512];
  std::string s;
  if (mode == "grid") {
    std::snprintf(buf, sizeof buf, "grid: %lld cells (of %lld), %lld trainings\n",
                  static_cast<long long>(cells), static_cast<long long>(grid_cells),
                  static_cast<long long>(trainings_bound));
    s += buf;
  } else {
    std::snprintf(buf, sizeof buf,
                  "threshold: %lld searches over %lld cells; at most %lld trainings if thresholds "
                  "do not shrink along the chain axis (%lld in any case), vs %lld for the full "
                  "grid (%.1f%%)\n",
                  static_cast<long long>(searches), static_cast<long long>(cells),
                  static_cast<long long>(trainings_bound),
                  static_cast<long long>(trainings_bound_any),
                  static_cast<long long>(grid_trainings),
                  grid_trainings > 0 ? 100.0 * trainings_bound / grid_trainings : 0.0);
    s += buf;
  }
  if (cell_s >= 0) {
    std::snprintf(buf, sizeof buf, "measured %.2f s per training -> at most %s with %d worker(s)\n",
                  cell_s, Progress::FormatDuration(estimate_s).c_str(), workers);
    s += buf;
  }
  return s;
}

// ---- child-process evaluator -----------------------------------------------------------------

Evaluator ChildProcessEvaluator(const std::string& exe, const std::atomic<bool>* stop) {
  return [exe, stop](const Config& config, const CellTask& task) -> CellResult {
    const std::string dir = task.cell_dir;
    const std::string yaml = dir + ".yaml", log = dir + ".log";
    MakeDirs(fs::path(dir).parent_path().string());
    WriteFileAtomic(yaml, config.Dump());
    const pid_t parent = ::getpid();
    const auto t0 = std::chrono::steady_clock::now();
    // --resume: a cell cut short by a crash continues from its checkpoint; a cell whose
    // training finished just before a crash returns its stored result.
    auto spawn = [&](const char* mode) {
      std::vector<std::string> args = {exe, "train", "--config", yaml, "--out", dir, mode};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the training dies with the sweep
        if (::getppid() != parent) ::_exit(127);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
          ::close(fd);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw std::runtime_error("waitpid failed");
      }
      return status;
    };
    auto log_text = [&]() {
      try {
        return ReadFile(log);
      } catch (const std::exception&) {
        return std::string();
      }
    };
    int status = spawn("--resume");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2 &&
        log_text().find("cannot resume") != std::string::npos) {
      status = spawn("--force");  // its files were made with other settings: start over
    }
    CellResult r;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto tail = [&]() {
      std::string text = log_text();
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      const size_t nl = text.rfind('\n');
      return nl == std::string::npos ? text : text.substr(nl + 1);
    };
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && FileExists(dir + "/result.json")) {
      const json j = json::parse(ReadFile(dir + "/result.json"));
      r.accuracy = j.value("accuracy", 0.0);
      r.loss = j.contains("loss") && j["loss"].is_number() ? j["loss"].get<double>() : NAN;
      r.status = j.value("status", std::string("ok"));
      r.steps = j.value("steps", int64_t{0});
      r.wall_s = j.value("wall_s", r.wall_s);
      r.device = j.value("device", std::string());
      r.message = j.value("message", std::string());
      return r;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
      throw UsageError("cell " + task.key + ": rfx train refused its config: " + tail());
    }
    if (stop && *stop) throw std::runtime_error("interrupted");
    r.status = "failed";
    r.accuracy = 0;
    r.device = config.GetString("train.device");
    r.message = WIFSIGNALED(status)
                    ? "rfx train killed by signal " + std::to_string(WTERMSIG(status))
                    : "rfx train exited with code " + std::to_string(WEXITSTATUS(status));
    r.message += "; see " + log + ": " + tail();
    return r;
  };
}

}  // namespace rfx::sweep
