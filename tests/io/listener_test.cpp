// Listening sockets a server adopts instead of binding (systemd, a hand-over).
#include <costrix/fastagi/server.hpp>
#include <costrix/io/graceful.hpp>
#include <costrix/io/listener.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace asio = boost::asio;
namespace sim = costrix::sim;

namespace {

// A listening TCP socket on a free loopback port, made without costrix; its port.
int listening_socket(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 128) != 0) return -1;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

awaitable<void> answer(costrix::agi::session& s) {
  co_await s.answer();
  co_await s.hangup();
}

}  // namespace

TEST_CASE("listener: one adopted listening socket serves every core", "[listener]") {
  std::uint16_t port = 0;
  int fd = listening_socket(port);
  REQUIRE(fd >= 0);
  costrix::runtime rt{{.threads = 2}};
  costrix::fastagi::server srv{rt, {.listen = "invalid", .listen_fds = {fd}}};  // `listen` is not used
  srv.default_route(answer);
  REQUIRE(srv.start());
  rt.start();
  CHECK(srv.port() == port);
  CHECK(srv.listening_fds().size() == 2);
  CHECK(::fcntl(fd, F_GETFD) == -1);  // taken over: the server holds duplicates
  asio::io_context client;
  asio::ip::tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), port};
  for (int i = 0; i < 20; ++i) {
    auto r = costrix::test::run(client, sim::call_fastagi(ep, {.script = "x"}));
    REQUIRE(r);
    CHECK(r->timings.size() == 2);
  }
  CHECK(srv.accepted() == 20);
  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();
}

TEST_CASE("listener: an adopted descriptor that is not a listening TCP socket is refused", "[listener]") {
  costrix::runtime rt{{.threads = 1}};
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  int unbound = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  for (int fd : {pipe_fds[0], unbound}) {
    costrix::fastagi::server srv{rt, {.listen_fds = {fd}}};
    auto r = srv.start();
    REQUIRE(!r);
    CHECK(r.error() == costrix::errc::invalid_argument);
    CHECK(::fcntl(fd, F_GETFD) != -1);  // left open on an error
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ::close(unbound);
}

TEST_CASE("listener: more adopted descriptors than threads is an error", "[listener]") {
  costrix::runtime rt{{.threads = 1}};
  std::uint16_t p1 = 0, p2 = 0;
  int a = listening_socket(p1), b = listening_socket(p2);
  costrix::fastagi::server srv{rt, {.listen_fds = {a, b}}};
  auto r = srv.start();
  REQUIRE(!r);
  CHECK(r.error() == costrix::errc::invalid_argument);
  ::close(a);
  ::close(b);
}

TEST_CASE("listener: no systemd variables means no inherited sockets", "[listener]") {
  ::unsetenv("LISTEN_FDS");
  CHECK(costrix::io::inherited_listeners().empty());
  ::setenv("LISTEN_FDS", "1", 1);
  ::setenv("LISTEN_PID", "1", 1);  // meant for another process
  CHECK(costrix::io::inherited_listeners().empty());
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
}

TEST_CASE("listener: spawn_with_listeners passes the sockets by systemd's protocol", "[listener][graceful]") {
  std::uint16_t port = 0;
  int fd = listening_socket(port);
  REQUIRE(fd >= 0);
  char path[] = "/tmp/costrix-spawn-XXXXXX";
  int out = ::mkstemp(path);
  REQUIRE(out >= 0);
  ::close(out);
  // The child reports what it got: LISTEN_FDS, whether LISTEN_PID is its own
  // pid, and whether descriptor 3 is a socket.
  std::string script = std::string("echo \"$LISTEN_FDS $([ \"$LISTEN_PID\" = $$ ] && echo own-pid)") +
                       " $([ -S /proc/$$/fd/3 ] && echo socket)\" > " + path;
  std::vector<int> fds{fd};
  auto pid = costrix::spawn_with_listeners({"sh", "-c", script}, fds);  // "sh": looked up in PATH
  REQUIRE(pid);
  int status = 0;
  REQUIRE(::waitpid(*pid, &status, 0) == *pid);
  CHECK(WIFEXITED(status));
  std::ifstream in(path);
  std::string got;
  std::getline(in, got);
  CHECK(got == "1 own-pid socket");
  ::unlink(path);
  ::close(fd);
}

TEST_CASE("listener: spawn_with_listeners reports a program it cannot run", "[listener][graceful]") {
  auto pid = costrix::spawn_with_listeners({"/nonexistent/costrix-successor"}, {});
  REQUIRE(!pid);
  CHECK(pid.error().what().find("/nonexistent/costrix-successor") != std::string::npos);
  auto none = costrix::spawn_with_listeners({}, {});
  REQUIRE(!none);
  CHECK(none.error() == costrix::errc::invalid_argument);
}
