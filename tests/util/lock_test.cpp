#include "rfx/util/lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "test_util.h"

namespace rfx {
namespace {

// A process that takes a lock and holds it until killed or told to let go.
class Holder {
 public:
  // With `exec_child`, the holder also starts `sleep` (fork + exec) that outlives it.
  Holder(const std::string& path, bool exec_child = false) {
    int up[2], down[2];
    if (::pipe(up) != 0 || ::pipe(down) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::close(up[0]);
      ::close(down[1]);
      FileLock lock = FileLock::Lock(path);
      pid_t grandchild = 0;
      if (exec_child) {
        grandchild = ::fork();
        if (grandchild == 0) {
          ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
          ::_exit(127);
        }
      }
      if (::write(up[1], &grandchild, sizeof grandchild) != sizeof grandchild) ::_exit(1);
      char c;
      if (::read(down[0], &c, 1) != 1) ::_exit(1);  // parent said go (or died)
      lock.Unlock();
      ::_exit(0);
    }
    ::close(up[1]);
    ::close(down[0]);
    go_ = down[1];
    if (::read(up[0], &grandchild_, sizeof grandchild_) != sizeof grandchild_) {
      throw std::runtime_error("the holder did not take the lock");
    }
    ::close(up[0]);
    // Until the grandchild has exec'd, it still shares the holder's descriptor (and lock):
    // wait for its exec, or the test would race it.
    for (int i = 0; grandchild_ > 0 && i < 500; ++i) {
      std::ifstream comm("/proc/" + std::to_string(grandchild_) + "/comm");
      std::string name;
      if (std::getline(comm, name) && name == "sleep") break;
      ::usleep(10000);
    }
  }
  ~Holder() {
    Kill();
    if (grandchild_ > 0) ::kill(grandchild_, SIGKILL);
    ::close(go_);
  }
  pid_t pid() const { return pid_; }
  void Release() {  // the holder unlocks and exits normally
    const char c = 'x';
    EXPECT_EQ(::write(go_, &c, 1), 1);
    Wait();
  }
  void Kill() {  // kill -9: no destructor runs
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    Wait();
  }

 private:
  void Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  pid_t pid_ = -1;
  pid_t grandchild_ = 0;
  int go_ = -1;
};

TEST(FileLockTest, SecondLockFailsWhileHeldInTheSameProcess) {
  test::TempDir dir;
  const std::string p = dir / "results.jsonl.lock";
  {
    auto a = FileLock::TryLock(p);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(FileLock::Holder(p), std::to_string(::getpid()));
    EXPECT_FALSE(FileLock::TryLock(p).has_value());
    FileLock moved = std::move(*a);  // moving keeps the lock
    EXPECT_FALSE(FileLock::TryLock(p).has_value());
  }
  EXPECT_TRUE(FileLock::TryLock(p).has_value()) << "released at scope exit";
  EXPECT_EQ(FileLock::Holder(p), "") << "no pid left behind";
}

TEST(FileLockTest, AnotherProcessHoldsItUntilItExits) {
  test::TempDir dir;
  const std::string p = dir / ".lock";
  Holder holder(p);
  EXPECT_FALSE(FileLock::TryLock(p).has_value());
  EXPECT_EQ(FileLock::Holder(p), std::to_string(holder.pid()));
  holder.Release();
  auto mine = FileLock::TryLock(p);
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(FileLock::Holder(p), std::to_string(::getpid()));
}

TEST(FileLockTest, KillNineReleasesIt) {
  test::TempDir dir;
  const std::string p = dir / ".lock";
  Holder holder(p);
  EXPECT_FALSE(FileLock::TryLock(p).has_value());
  holder.Kill();
  EXPECT_TRUE(FileLock::TryLock(p).has_value()) << "the kernel drops a dead process's lock";
}

TEST(FileLockTest, ExecutedChildrenDoNotInheritIt) {
  test::TempDir dir;
  const std::string p = dir / ".lock";
  Holder holder(p, /*exec_child=*/true);
  EXPECT_FALSE(FileLock::TryLock(p).has_value());
  holder.Kill();  // its `sleep 30` child lives on
  EXPECT_TRUE(FileLock::TryLock(p).has_value()) << "the lock leaked into an exec'd child";
}

void OnAlarm(int) {}

TEST(FileLockTest, BlockingLockWaitsThroughSignals) {
  test::TempDir dir;
  const std::string p = dir / ".lock";
  auto holder = std::make_unique<Holder>(p);
  // A signal without SA_RESTART every 20 ms interrupts flock(2) with EINTR.
  struct sigaction sa {
  }, old{};
  sa.sa_handler = OnAlarm;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGALRM, &sa, &old), 0);
  itimerval every{{0, 20000}, {0, 20000}}, off{};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every, nullptr), 0);
  const pid_t helper = ::fork();  // lets the holder go after 300 ms
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::usleep(300000);
    ::kill(holder->pid(), SIGKILL);
    ::_exit(0);
  }
  const auto t0 = std::chrono::steady_clock::now();
  FileLock lock = FileLock::Lock(p);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &old, nullptr);
  ::waitpid(helper, nullptr, 0);
  EXPECT_GE(waited, 0.25) << "took the lock while the holder still had it";
  EXPECT_EQ(FileLock::Holder(p), std::to_string(::getpid()));
}

TEST(FileLockTest, UnopenableLockFileIsAnError) {
  EXPECT_THROW(FileLock::TryLock("/nonexistent-dir-rfx/x.lock"), std::runtime_error);
}

}  // namespace
}  // namespace rfx
