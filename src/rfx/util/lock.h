// Advisory exclusive locks on lock files, so that two processes never write the same output:
// flock(2) on `path` (created if missing), released when the FileLock is destroyed or its
// process dies (kill -9 included). The descriptor is close-on-exec: children started with exec
// (trainings of a sweep) do not hold their parent's lock. The holder's pid is written into the
// file for messages. A lock file is never deleted (deleting it would let two lockers in).
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>

namespace rfx {

class FileLock {
 public:
  // Takes the lock if it is free; std::nullopt if another open file holds it (another process,
  // or another FileLock of this process). Throws IoError if the lock file cannot be opened.
  static std::optional<FileLock> TryLock(const std::string& path);
  // Waits until the lock is free, then takes it (signals do not cut the wait short).
  static FileLock Lock(const std::string& path);
  // The pid written by the lock's current or last holder, "" if none can be read (free, or being
  // taken this instant). For messages only: the lock, not this text, decides who holds it.
  static std::string Holder(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  const std::string& path() const { return path_; }
  // Releases the lock now (no-op if already released or moved from). In a child forked without
  // exec, only closes the child's descriptor: the lock stays with the process that took it.
  void Unlock();

 private:
  FileLock(std::string path, int fd);
  std::string path_;
  int fd_ = -1;
  pid_t owner_ = -1;  // the process that took the lock
};

}  // namespace rfx
