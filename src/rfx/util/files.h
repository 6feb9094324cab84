// Crash-safe file helpers: whole-file writes are atomic (temp + fsync + rename), appended
// records are flushed and fsynced one by one.
#pragma once
#include <string>
#include <vector>

namespace rfx {

// Writes `content` to `path` atomically: a crash leaves either the old or the new file.
void WriteFileAtomic(const std::string& path, const std::string& content);

// Appends one line (a '\n' is added) to `path` and fsyncs before returning.
void AppendLineDurable(const std::string& path, const std::string& line);

// Reads a whole file; throws std::runtime_error naming the path when it cannot.
std::string ReadFile(const std::string& path);

// Reads the complete lines of a line-oriented log. A last line without its '\n' (a write cut
// short by a crash) is not returned; `*truncated` says whether there was one.
std::vector<std::string> ReadCompleteLines(const std::string& path, bool* truncated = nullptr);

// Cuts a file back to its complete lines (drops a partial last line). No-op if none.
void DropPartialLastLine(const std::string& path);

// Creates a directory and its parents; throws naming the path on failure.
void MakeDirs(const std::string& path);

bool FileExists(const std::string& path);

}  // namespace rfx
