// Crash-safe file helpers: whole-file writes are atomic (temp + fsync + rename), appended
// records are flushed and fsynced one by one. A write that fails throws IoError (rfx/util/error.h)
// naming the caller's path and leaves nothing behind: no temp file, no partial line.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace rfx {

// Writes `content` to `path` atomically: a crash or a failure leaves either the old or the new
// file, never a mix and never a temp file. Throws IoError ("no space left on device: <path>" on
// ENOSPC; EISDIR for a directory, ENOENT for an empty path).
void WriteFileAtomic(const std::string& path, const std::string& content);

// Appends one line (a '\n' is added) to `path` and fsyncs before returning. One writer per file:
// on failure the file is cut back to its size before the call (no partial line) and IoError is
// thrown.
void AppendLineDurable(const std::string& path, const std::string& line);

// Reads a whole regular file; throws std::runtime_error naming the path when it cannot, and
// UsageError when it is not a regular file (a FIFO is not waited on).
std::string ReadFile(const std::string& path);

// One complete line of a line-oriented log and its 1-based line number in the file.
struct NumberedLine {
  size_t number = 0;
  std::string text;  // without the '\n'
};

// The complete non-empty lines of a log with their line numbers. A last line without its '\n'
// (a write cut short by a crash, or one still being written) is not returned; `*truncated` says
// whether there was one.
std::vector<NumberedLine> ReadNumberedLines(const std::string& path, bool* truncated = nullptr);

// The same, text only.
std::vector<std::string> ReadCompleteLines(const std::string& path, bool* truncated = nullptr);

// Cuts a file back to its complete lines (drops a partial last line). No-op if none.
void DropPartialLastLine(const std::string& path);

// Creates a directory and its parents; throws IoError naming the path on failure.
void MakeDirs(const std::string& path);

bool FileExists(const std::string& path);

// Test hook: called with the caller's path before every write(2) of the helpers above; a non-zero
// return is an errno to fail that write with, after half of its bytes have reached the file (as
// when a disk fills up mid-write). nullptr (the default) removes the hook. Thread-safe.
void SetWriteFailureForTesting(std::function<int(const std::string& path)> hook);

}  // namespace rfx
