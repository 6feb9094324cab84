#include "rfx/util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "rfx/util/error.h"

namespace rfx {
namespace {

using WriteHook = std::function<int(const std::string&)>;

std::mutex hook_mu;
std::shared_ptr<const WriteHook> hook;  // guarded by hook_mu

int InjectedError(const std::string& path) {
  std::shared_ptr<const WriteHook> h;
  {
    std::lock_guard<std::mutex> lock(hook_mu);
    h = hook;
  }
  return h && *h ? (*h)(path) : 0;
}

// An open file descriptor, closed once.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Closes now; close(2) can report a failed delayed write (NFS, quotas).
  void Close(const std::string& path) {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 && errno != EINTR) throw IoError(path, errno);
  }

 private:
  int fd_;
};

// A temp file unlinked on scope exit unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void Keep() { path_.clear(); }

 private:
  std::string path_;
};

// Writes all of `data`; `path` (the caller's file) names the errors and is passed to the hook.
void WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const size_t left = data.size() - done;
    if (const int injected = InjectedError(path)) {
      // A disk that fills up mid-write: part of the data lands, then the write fails.
      if (left > 1 && ::write(fd, data.data() + done, left / 2) < 0) throw IoError(path, errno);
      throw IoError(path, injected);
    }
    const ssize_t n = ::write(fd, data.data() + done, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path, errno);
    }
    done += static_cast<size_t>(n);
  }
}

void Fsync(int fd, const std::string& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) throw IoError(path, errno);
  }
}

// Makes a rename durable. Best effort: some file systems cannot sync a directory.
void SyncParentDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Unique per writer, also across the nodes of a cluster sharing the directory.
std::string TempPath(const std::string& path) {
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  static std::atomic<uint64_t> serial{0};
  return path + ".tmp." + host + "." + std::to_string(::getpid()) + "." + std::to_string(serial++);
}

}  // namespace

void SetWriteFailureForTesting(std::function<int(const std::string& path)> h) {
  auto p = h ? std::make_shared<const WriteHook>(std::move(h)) : nullptr;
  std::lock_guard<std::mutex> lock(hook_mu);
  hook = std::move(p);
}

void WriteFileAtomic(const std::string& path, const std::string& content) {
  // An empty path would put the temp file in the working directory and fail at the rename.
  if (path.empty()) throw IoError(path, ENOENT);
  if (IsDirectory(path)) throw IoError(path, EISDIR);
  const std::string tmp = TempPath(path);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.ok()) throw IoError(path, errno);
  TempFile guard(tmp);
  WriteAll(fd.get(), content, path);
  Fsync(fd.get(), path);
  fd.Close(path);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw IoError(path, errno);
  guard.Keep();
  SyncParentDirectory(path);
}

void AppendLineDurable(const std::string& path, const std::string& line) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.ok()) throw IoError(path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw IoError(path, errno);
  try {
    WriteAll(fd.get(), line + "\n", path);
    Fsync(fd.get(), path);
  } catch (const IoError&) {
    // No partial line: cut the file back to where this line began.
    if (::ftruncate(fd.get(), st.st_size) == 0) ::fsync(fd.get());
    throw;
  }
  fd.Close(path);
}

std::string ReadFile(const std::string& path) {
  // O_NONBLOCK and the type checked on the opened file: a FIFO in a file's place would wait for
  // a writer forever (rfx merge hung on a results.jsonl that was one).
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.ok()) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw UsageError("'" + path + "' is " +
                     (S_ISFIFO(st.st_mode)  ? "a pipe (FIFO)"
                      : S_ISDIR(st.st_mode) ? "a directory"
                                            : "not a regular file") +
                     "; rfx reads it as a regular file");
  }
  std::string data;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

std::vector<NumberedLine> ReadNumberedLines(const std::string& path, bool* truncated) {
  std::vector<NumberedLine> lines;
  if (truncated) *truncated = false;
  if (!FileExists(path)) return lines;
  const std::string data = ReadFile(path);
  size_t start = 0, number = 0;
  while (start < data.size()) {
    const size_t nl = data.find('\n', start);
    if (nl == std::string::npos) {
      if (truncated) *truncated = true;
      break;
    }
    ++number;
    if (nl > start) lines.push_back({number, data.substr(start, nl - start)});
    start = nl + 1;
  }
  return lines;
}

std::vector<std::string> ReadCompleteLines(const std::string& path, bool* truncated) {
  std::vector<std::string> out;
  for (auto& l : ReadNumberedLines(path, truncated)) out.push_back(std::move(l.text));
  return out;
}

void DropPartialLastLine(const std::string& path) {
  if (!FileExists(path)) return;
  const std::string data = ReadFile(path);
  if (data.empty() || data.back() == '\n') return;
  const size_t nl = data.rfind('\n');
  const size_t keep = nl == std::string::npos ? 0 : nl + 1;
  if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) {
    throw IoError(path, errno, "truncate");
  }
}

void MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw IoError(path, ec.value(), "create directory");
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace rfx
