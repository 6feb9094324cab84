#include "rfx/util/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rfx {
namespace {

[[noreturn]] void Fail(const std::string& what, const std::string& path) {
  throw std::runtime_error("cannot " + what + " '" + path + "': " + std::strerror(errno));
}

void WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      Fail("write", path);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void WriteFileAtomic(const std::string& path, const std::string& content) {
  // Unique per writer, also across the nodes of a cluster sharing the directory.
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  static std::atomic<uint64_t> serial{0};
  const std::string tmp = path + ".tmp." + host + "." + std::to_string(::getpid()) + "." +
                          std::to_string(serial++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Fail("create", tmp);
  WriteAll(fd, content, tmp);
  if (::fsync(fd) != 0) {
    ::close(fd);
    Fail("fsync", tmp);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) Fail("rename onto", path);
}

void AppendLineDurable(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) Fail("open for append", path);
  WriteAll(fd, line + "\n", path);
  if (::fsync(fd) != 0) {
    ::close(fd);
    Fail("fsync", path);
  }
  ::close(fd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("read", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ReadCompleteLines(const std::string& path, bool* truncated) {
  std::vector<std::string> lines;
  if (truncated) *truncated = false;
  if (!FileExists(path)) return lines;
  const std::string data = ReadFile(path);
  size_t start = 0;
  while (start < data.size()) {
    const size_t nl = data.find('\n', start);
    if (nl == std::string::npos) {
      if (truncated) *truncated = true;
      break;
    }
    if (nl > start) lines.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

void DropPartialLastLine(const std::string& path) {
  if (!FileExists(path)) return;
  const std::string data = ReadFile(path);
  if (data.empty() || data.back() == '\n') return;
  const size_t nl = data.rfind('\n');
  const size_t keep = nl == std::string::npos ? 0 : nl + 1;
  if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) Fail("truncate", path);
}

void MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw std::runtime_error("cannot create directory '" + path + "': " + ec.message());
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace rfx
