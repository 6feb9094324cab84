// TorchScript models traced at test time by tests/theory/trace_models.py (random weights, no
// downloads), run by RFX_PYTHON: the Python whose torch matches the LibTorch built against.
//
// Under ctest every test is a process of its own, and Python with torch takes seconds to
// start, so: Traced(names) traces once per process into a directory removed at exit (for the
// big torchvision files), and TracedCached(names) traces once per machine into a small cache
// directory in the temp dir keyed by the script's text and the names (for the small models;
// made under a temporary name and renamed into place, so concurrent tests never see half a
// cache).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "test_util.h"

namespace rfx::test {

struct TracedModels {
  std::string dir;     // empty when the models could not be made
  std::string reason;  // why not (skip: no torchvision; fail: anything else)
  bool skip = false;   // Python() cannot import torchvision
  std::string operator/(const std::string& name) const { return dir + "/" + name + ".pt"; }
};

inline std::string TraceScript() {
  return std::string(SourceDir()) + "/tests/theory/trace_models.py";
}

// Runs the script into `dir`; fills reason/skip on failure.
inline bool TraceInto(const std::string& dir, const std::string& names, TracedModels* m) {
  const auto r = RunCommand(std::string(Python()) + " " + TraceScript() + " " + dir + " " + names);
  if (r.exit_code == 0) return true;
  m->skip = r.exit_code == 3;
  m->reason = "trace_models.py exited " + std::to_string(r.exit_code) + ": " + r.err;
  return false;
}

// `names`: space-separated model names of trace_models.py ("" = all of them).
inline const TracedModels& Traced(const std::string& names) {
  static std::map<std::string, std::pair<std::unique_ptr<TempDir>, TracedModels>> cache;
  auto it = cache.find(names);
  if (it != cache.end()) return it->second.second;
  auto tmp = std::make_unique<TempDir>();
  TracedModels m;
  if (TraceInto(tmp->path(), names, &m)) m.dir = tmp->path();
  auto& slot = cache[names];
  slot.first = std::move(tmp);
  slot.second = m;
  return slot.second;
}

inline const TracedModels& TracedCached(const std::string& names) {
  static std::map<std::string, TracedModels> cache;
  auto it = cache.find(names);
  if (it != cache.end()) return it->second;
  std::ostringstream text;
  // Keyed by the Python too: each LibTorch build reads the graphs of its own torch.
  text << std::ifstream(TraceScript()).rdbuf() << "\n" << names << "\n" << Python();
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("rfx-traced-" + std::to_string(::getuid()) + "-" +
                                   std::to_string(std::hash<std::string>{}(text.str())));
  TracedModels m;
  if (fs::exists(dir / "done")) {
    m.dir = dir.string();
  } else {
    auto tmp = std::make_unique<TempDir>();
    if (TraceInto(tmp->path(), names, &m)) {
      std::ofstream(tmp->path() + "/done") << "ok\n";
      std::error_code ec;
      fs::rename(tmp->path(), dir, ec);  // fails harmlessly when another test was first
      if (fs::exists(dir / "done"))
        m.dir = dir.string();
      else
        m.reason = "cannot create " + dir.string() + ": " + ec.message();
    }
  }
  return cache[names] = m;
}

}  // namespace rfx::test

// Skips (no torchvision) or fails (any other problem) the test when the models are missing.
#define RFX_REQUIRE_TRACED(models)                                                              \
  do {                                                                                          \
    if ((models).skip)                                                                          \
      GTEST_SKIP() << rfx::test::Python() << " cannot import torchvision: " << (models).reason; \
    ASSERT_FALSE((models).dir.empty()) << (models).reason;                                      \
  } while (0)
