#include "rfx/config/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rfx/util/error.h"

namespace rfx {
namespace {

const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a pipe (FIFO)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes a file descriptor at scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int Line(const YAML::Node& n) { return n.Mark().line + 1; }

// "lines 3 and 7", or "line 1, columns 2 and 10" for a one-line (flow or --set) mapping.
std::string BothPlaces(const YAML::Mark& first, const YAML::Mark& second) {
  if (first.line == second.line) {
    return "line " + std::to_string(first.line + 1) + ", columns " +
           std::to_string(first.column + 1) + " and " + std::to_string(second.column + 1);
  }
  return "lines " + std::to_string(first.line + 1) + " and " + std::to_string(second.line + 1);
}

class KeyChecker {
 public:
  explicit KeyChecker(const std::string& source) : source_(source) {}

  // Walks `node`, whose dotted key is `path` ("" for the document).

  void Check(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap() && !node.IsSequence()) return;
    // An alias is the anchored node itself (same mark): walk it once, so a document of nested
    // aliases ("billion laughs") costs its size, not its expansion.
    const YAML::Mark m = node.Mark();
    if (m.pos >= 0 && !seen_.insert({m.pos, node.IsMap()}).second) return;
    if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        Check(node[i], path + "[" + std::to_string(i) + "]");
      }
      return;
    }
    std::map<std::string, YAML::Mark> first;  // key -> where it first appears
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        throw ConfigError(path.empty() ? "(top level)" : path,
                          "a mapping key must be a plain name, got a " +
                              std::string(kv.first.IsMap() ? "mapping" : "list") + " as a key",
                          source_ + " line " + std::to_string(Line(kv.first)));
      }
      const std::string& name = kv.first.Scalar();
      const std::string key = path.empty() ? name : path + "." + name;
      const auto [it, fresh] = first.emplace(name, kv.first.Mark());
      if (!fresh) {
        throw ConfigError(key,
                          "appears twice in one mapping (" +
                              BothPlaces(it->second, kv.first.Mark()) + "); keep one",
                          source_ + " line " + std::to_string(Line(kv.first)));
      }
      Check(kv.second, key);
    }
  }

 private:
  const std::string& source_;
  std::set<std::pair<int, bool>> seen_;
};

// Expanded node counts, each anchored node computed once (an alias is its anchor's node: same
// mark), saturating at kMaxConfigNodes + 1.
class SizeCounter {
 public:
  int64_t Size(const YAML::Node& node) {
    if (!node.IsMap() && !node.IsSequence()) return 1;
    const YAML::Mark m = node.Mark();
    const std::pair<int, bool> id{m.pos, node.IsMap()};
    if (m.pos >= 0) {
      const auto it = memo_.find(id);
      if (it != memo_.end()) return it->second;
      // Until it is counted, a node is infinite: an alias inside its own anchor (`&a [*a]`, found
      // by fuzzing; the recursion overflowed the stack) expands without end.
      memo_[id] = kMaxConfigNodes + 1;
    }
    int64_t n = 1;
    if (node.IsSequence()) {
      for (const auto& child : node) n = Add(n, Size(child));
    } else {
      for (const auto& kv : node) n = Add(n, Add(Size(kv.first), Size(kv.second)));
    }
    if (m.pos >= 0) memo_[id] = n;
    return n;
  }

 private:
  static int64_t Add(int64_t a, int64_t b) { return std::min(a + b, kMaxConfigNodes + 1); }
  std::map<std::pair<int, bool>, int64_t> memo_;
};

// Parser events dropped: only whether there is a document is asked.
class NoEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

void CheckYamlSize(const YAML::Node& document, const std::string& source,
                   const std::string& prefix) {
  SizeCounter count;
  if (count.Size(document) <= kMaxConfigNodes) return;
  // Name the outermost key whose value alone is too big: down through mappings.
  YAML::Node node = document;
  std::string key = prefix;
  while (node.IsMap()) {
    bool found = false;
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && count.Size(kv.second) > kMaxConfigNodes) {
        key = key.empty() ? kv.first.Scalar() : key + "." + kv.first.Scalar();
        node.reset(kv.second);
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  throw ConfigError(key.empty() ? "(top level)" : key,
                    "expands to more than " + std::to_string(kMaxConfigNodes) +
                        " YAML nodes (each alias *name repeats all it names); a config holds at "
                        "most " +
                        std::to_string(kMaxConfigNodes),
                    source);
}

YAML::Node ParseConfigYaml(const std::string& text, const std::string& source) {
  YAML::Node user;
  try {
    user = YAML::Load(text);
    // A second document (after ---) was silently ignored. Asked of the parser twice at most:
    // YAML::LoadAll loops without end on some malformed text (found by fuzzing: 288 bytes
    // starting ",,,,,,,#" kept it allocating for over a minute).
    std::istringstream in(text);
    YAML::Parser parser(in);
    NoEvents none;
    if (parser.HandleNextDocument(none) && parser.HandleNextDocument(none)) {
      throw UsageError(source +
                       " holds more than one YAML document (--- starts each); a config is one "
                       "document");
    }
  } catch (const YAML::DeepRecursion& e) {
    throw UsageError(source + " line " + std::to_string(e.mark.line + 1) +
                     ": lists and mappings nested too deeply (yaml-cpp reads at most ~1000 "
                     "levels); a config nests a few");
  } catch (const YAML::Exception& e) {
    throw UsageError(source + " line " + std::to_string(e.mark.line + 1) +
                     ": not valid YAML: " + e.msg);
  }
  if (!user.IsDefined() || user.IsNull()) return user;
  CheckYamlSize(user, source);
  CheckYamlKeys(user, source);
  return user;
}

std::string ReadConfigFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked on the open file
  // (no window between a check and the open).
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw UsageError("config file '" + path + "' does not exist");
    throw UsageError("config file '" + path + "' cannot be opened: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    throw std::runtime_error("cannot inspect config file '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw UsageError("config file '" + path + "' is " + FileKind(st.st_mode) +
                     ", not a YAML file; give the path of a regular file");
  }
  const auto too_big = [&] {
    return UsageError("config file '" + path + "' is larger than " +
                      std::to_string(kMaxConfigFileBytes >> 20) +
                      " MiB; a config is a short YAML file");
  };
  if (st.st_size > kMaxConfigFileBytes) throw too_big();
  // The size may change or lie (/proc files say 0): read to the limit + 1 byte at most.
  std::string text;
  char buf[65536];
  while (static_cast<int64_t>(text.size()) <= kMaxConfigFileBytes) {
    const size_t want = std::min<int64_t>(sizeof buf, kMaxConfigFileBytes + 1 - text.size());
    const ssize_t n = ::read(f.fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw std::runtime_error("cannot read config file '" + path + "': " + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (static_cast<int64_t>(text.size()) > kMaxConfigFileBytes) throw too_big();
  return text;
}

void CheckYamlKeys(const YAML::Node& document, const std::string& source,
                   const std::string& prefix) {
  KeyChecker(source).Check(document, prefix);
}

}  // namespace rfx
