#include "rfx/util/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "rfx/util/error.h"

namespace rfx {
namespace {

int OpenLockFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(path, errno, "open lock file");
  return fd;
}

// Replaces the file's content with our pid. Best effort: the lock holds without it.
void WritePid(int fd) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    const ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)n;
  }
}

}  // namespace

FileLock::FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd), owner_(::getpid()) {
  WritePid(fd_);
}

std::optional<FileLock> FileLock::TryLock(const std::string& path) {
  const int fd = OpenLockFile(path);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    ::close(fd);
    if (err == EWOULDBLOCK) return std::nullopt;
    throw IoError(path, err, "lock");
  }
  return FileLock(path, fd);
}

FileLock FileLock::Lock(const std::string& path) {
  const int fd = OpenLockFile(path);
  while (::flock(fd, LOCK_EX) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    ::close(fd);
    throw IoError(path, err, "lock");
  }
  return FileLock(path, fd);
}

std::string FileLock::Holder(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[32];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid;
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), owner_(other.owner_) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    Unlock();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    owner_ = other.owner_;
  }
  return *this;
}

FileLock::~FileLock() { Unlock(); }

void FileLock::Unlock() {
  if (fd_ < 0) return;
  // A child forked without exec shares the lock; only the process that took it lets it go.
  if (::getpid() == owner_) {
    // Clear the pid while still holding the lock, so it never names a process that let go.
    const int cleared = ::ftruncate(fd_, 0);
    (void)cleared;
    ::flock(fd_, LOCK_UN);
  }
  ::close(std::exchange(fd_, -1));
}

}  // namespace rfx
