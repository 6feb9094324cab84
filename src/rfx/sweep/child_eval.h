// The evaluator that trains each cell in a child process (`rfx train`).
#pragma once
#include <atomic>
#include <string>

#include "rfx/sweep/run.h"

namespace rfx::sweep {

// An Evaluator that runs `exe train --config CELLDIR.yaml --out CELLDIR --resume` in a child
// process (its output in CELLDIR.log) and reads CELLDIR/result.json. A crash of the child is a
// kFailed training; exit code 2 (bad config) stops the sweep; exit code
// train::kExitResumeConflict (the cell's files were made with other settings) reruns it with
// --force. The child dies with the sweep.
Evaluator ChildProcessEvaluator(const std::string& exe, const std::atomic<bool>* stop = nullptr);

}  // namespace rfx::sweep
