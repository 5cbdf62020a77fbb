// Listening sockets a server adopts instead of binding (systemd, a hand-over).
#include <costrix/fastagi/server.hpp>
#include <costrix/io/listener.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
