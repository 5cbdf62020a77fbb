// Out of descriptors on accept (EMFILE): the servers neither spin nor die,
// and serve again once descriptors are free. The test lowers its own
// RLIMIT_NOFILE soft limit and fills the table, then restores both.
#include <costrix/esl/server.hpp>
#include <costrix/fastagi/server.hpp>
#include <costrix/log.hpp>

#include "scripted_peer.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace asio = boost::asio;

namespace {

// The sanitizer runtimes need descriptors of their own for some checks: with
// the table full, UndefinedBehaviorSanitizer reports a bad vptr in Asio's
// scheduler that is not there. These tests run in the plain builds (both I/O
// backends) and under ThreadSanitizer.
bool under_asan_and_ubsan() {
#if defined(__SANITIZE_ADDRESS__)
  WARN("not run under AddressSanitizer + UndefinedBehaviorSanitizer: they need descriptors of their own");
  return true;
#else
  return false;
#endif
}


// Fills the descriptor table up to a lowered soft limit; frees it all on release().
class fd_exhaustion {
 public:
  fd_exhaustion() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(probe >= 0);
    ::close(probe);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(probe + 64);  // room above what is open now
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        full_errno_ = errno;
        break;
      }
      held_.push_back(fd);
    }
  }
  ~fd_exhaustion() { release(); }
  void release() {
    for (int fd : held_) ::close(fd);
    held_.clear();
    if (!restored_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    restored_ = true;
  }
  int full_errno() const { return full_errno_; }

 private:
  rlimit saved_{};
  std::vector<int> held_;
  int full_errno_ = 0;
  bool restored_ = false;
};

// A TCP socket made before the table is full, connected to `port` on loopback
// (the connection waits in the listener's backlog: connect needs no new descriptor).
int connect_loopback(int fd, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

// Waits (test thread, short pauses) until `pred` holds or 10 s pass; not a verdict.
template <class P>
bool eventually(P pred) {
  for (int i = 0; i < 10'000 && !pred(); ++i) std::this_thread::sleep_for(1ms);
  return pred();
}

template <class Server>
void stop_and_join(costrix::runtime& rt, Server& srv) {
  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();
  rt.stop();
  rt.join();
}

}  // namespace

TEST_CASE("fault: fastagi out of descriptors on accept backs off - then serves the waiting call", "[fault][fastagi]") {
  if (under_asan_and_ubsan()) return;
  costrix::test::captured_log log;
  auto failures = [&] { return static_cast<int>(log.containing("accept failed").size()); };
  costrix::runtime rt{{.threads = 1}};
  costrix::fastagi::server srv{rt, {.listen = "127.0.0.1:0"}};
  std::atomic<int> served{0};
  srv.route("noop", [&](costrix::agi::session& s) -> awaitable<void> {
    auto r = co_await s.noop();
    if (r) served.fetch_add(1);
  });
  REQUIRE(srv.start());
  rt.start();
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(client >= 0);
  {
    fd_exhaustion full;
    REQUIRE(full.full_errno() == EMFILE);
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(connect_loopback(client, srv.port()) == 0);
    // The accept loop sees EMFILE, logs it and waits on a timer (50 ms) before
    // trying again: three failures take two waits. A busy loop would log
    // thousands in that time.
    REQUIRE(eventually([&] { return failures() >= 3; }));
    const int seen = failures();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    CHECK(took >= 100ms);
    CHECK(seen <= took.count() / 50 + 2);  // one attempt per wait, however late this thread looked
    full.release();
  }
  // Descriptors are free again: the call that waited is served.
  costrix::test::peer_io io(client);
  REQUIRE(io.send("agi_network: yes\nagi_network_script: noop\nagi_request: agi://127.0.0.1/noop\n"
                  "agi_channel: PJSIP/x-00000001\nagi_uniqueid: 1700000000.1\n\n"));
  CHECK(io.read_line() == "NOOP");
  REQUIRE(io.send("200 result=0\n"));
  io.read_line();  // the server closes after the script
  CHECK(io.eof());
  ::close(client);
  CHECK(served.load() == 1);
  CHECK(srv.accepted() == 1);
  stop_and_join(rt, srv);
}

TEST_CASE("fault: esl server out of descriptors on accept backs off - then serves the waiting call", "[fault][esl]") {
  if (under_asan_and_ubsan()) return;
  costrix::test::captured_log log;
  auto failures = [&] { return static_cast<int>(log.containing("accept failed").size()); };
  costrix::runtime rt{{.threads = 1}};
  costrix::esl::server srv{rt, {.listen = "127.0.0.1:0"}};
  std::atomic<int> started{0};
  srv.default_route([&](costrix::esl::session&) -> awaitable<void> {
    started.fetch_add(1);
    co_return;
  });
  REQUIRE(srv.start());
  rt.start();
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(client >= 0);
  {
    fd_exhaustion full;
    REQUIRE(full.full_errno() == EMFILE);
    REQUIRE(connect_loopback(client, srv.port()) == 0);
    REQUIRE(eventually([&] { return failures() >= 3; }));
    full.release();
  }
  // Served once descriptors are free: the server's first words are `connect`.
  costrix::test::peer_io io(client);
  CHECK(io.read_line() == "connect");
  ::close(client);
  CHECK(eventually([&] { return srv.accepted() == 1; }));
  stop_and_join(rt, srv);
}
