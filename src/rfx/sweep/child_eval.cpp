#include "rfx/sweep/child_eval.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "rfx/sweep/run.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "rfx/util/run_paths.h"

namespace rfx::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

Evaluator ChildProcessEvaluator(const std::string& exe, const std::atomic<bool>* stop) {
  return [exe, stop](const Config& config, const CellTask& task) -> train::TrainResult {
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
    if (WIFEXITED(status) && WEXITSTATUS(status) == train::kExitResumeConflict) {
      status = spawn("--force");  // its files were made with other settings: start over
    }
    train::TrainResult r;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto tail = [&]() {
      std::string text = log_text();
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      const size_t nl = text.rfind('\n');
      return nl == std::string::npos ? text : text.substr(nl + 1);
    };
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && FileExists(RunPaths(dir).result)) {
      try {
        return train::TrainResult::FromJson(json::parse(ReadFile(RunPaths(dir).result)));
      } catch (const json::exception& e) {
        r.message = "unreadable " + dir + "/result.json (" + e.what() + ")";
      }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
      throw UsageError("cell " + task.key + ": rfx train refused its config: " + tail());
    }
    if (stop && *stop) throw std::runtime_error("interrupted");
    r.status = train::TrainStatus::kFailed;
    r.accuracy = 0;
    r.device = config.GetString("train.device");
    if (r.message.empty()) {
      r.message = WIFSIGNALED(status)
                      ? "rfx train killed by signal " + std::to_string(WTERMSIG(status))
                      : "rfx train exited with code " + std::to_string(WEXITSTATUS(status));
    }
    r.message += "; see " + log + ": " + tail();
    return r;
  };
}

}  // namespace rfx::sweep
