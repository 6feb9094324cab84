// Shared test helpers: temporary directories, running the CLI. (No torch here, so tests
// that do not need it compile fast; the re-seeding fixture is in seeded_test.h.)
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace rfx::test {

// Paths of this build, defined in one translation unit that CMake generates
// (tests/test_paths.cpp.in): no other test file's compile line holds an absolute path, so a
// fresh clone rebuilds every other test object from ccache.
const char* SourceDir();  // the source tree
const char* Python();     // RFX_PYTHON: the Python whose torch traces the test models
const char* BuiltRfx();   // the rfx executable built beside the tests

// The rfx executable under test: $RFX_TEST_EXE when set (a relocated build, as
// scripts/gpu_check.sh runs the cuda suite on another machine), else BuiltRfx().
inline std::string RfxExe() {
  const char* e = std::getenv("RFX_TEST_EXE");
  return e != nullptr && *e != '\0' ? e : BuiltRfx();
}

// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rfx-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The whole content of a file ("" when it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

// `rfx train` flags for a training of a second on the CPU: 32² canvas, depth 4, 12 steps
// (checkpoint/log every 4), one thread each for training and data.
inline const std::string kTinyTrain =
    " --set dataset.image_size=32 --set dataset.distance=7 --set net.depth=4"
    " --set train.steps=12 --set train.eval_samples=16 --set train.log_every=4"
    " --set train.device=cpu --set train.threads=1 --set dataset.threads=1";

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command line, capturing stdout and stderr.
inline CommandResult RunCommand(const std::string& cmd) {
  TempDir tmp;
  const std::string full = cmd + " >" + tmp / "out" + " 2>" + tmp / "err";
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(tmp / "out");
  r.err = Slurp(tmp / "err");
  return r;
}

}  // namespace rfx::test
