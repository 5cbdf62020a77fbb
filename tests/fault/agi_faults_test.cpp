// Fault injection against AGI: a peer trickling its reply or its environment,
// and a connection reset during a command.
#include <costrix/agi/session.hpp>
#include <costrix/fastagi/server.hpp>

#include "fault/tcp_peer.hpp"
#include "scripted_peer.hpp"
#include "support.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
using costrix::test::peer_io;
using costrix::test::socket_pair;
namespace asio = boost::asio;

namespace {

const std::string env_block =
    "agi_network: yes\nagi_network_script: fault\nagi_request: agi://127.0.0.1/fault\n"
    "agi_channel: PJSIP/fault-00000001\nagi_uniqueid: 1700000000.9\n\n";

// A FastAGI server on one thread whose "fault" script records how its first command ended.
struct served {
  costrix::runtime rt{{.threads = 1}};
  costrix::fastagi::server srv;
  std::promise<costrix::error> first_error;
  std::atomic<int> scripts{0};
  explicit served(costrix::fastagi::server_options o) : srv(rt, listen_here(std::move(o))) {
    srv.route("fault", [this](costrix::agi::session& s) -> awaitable<void> {
      scripts.fetch_add(1);
      auto r = co_await s.answer();
      first_error.set_value(r ? costrix::error{} : r.error());
    });
    REQUIRE(srv.start());
    rt.start();
  }
  ~served() {
    costrix::test::latch_flag stopped;
    srv.stop(0ms, [&] { stopped.set(); });
    stopped.wait();
    rt.stop();
    rt.join();
  }
  static costrix::fastagi::server_options listen_here(costrix::fastagi::server_options o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
  int connect() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(srv.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
  }
};

}  // namespace

TEST_CASE("fault: an AGI reply trickled a byte every 10 ms hits the 50 ms command timeout", "[fault][agi]") {
  boost::asio::io_context ctx;
  socket_pair pair;
  auto stream = costrix::io::stream::duplicate(ctx.get_executor(), pair.near(), pair.near());
  pair.close_near();
  std::thread peer([fd = pair.far()] {
    peer_io io(fd);
    io.send(env_block);
    io.read_line();  // ANSWER
    costrix::test::trickle(fd, "200 result=0\n", 10ms);
    io.read_line();  // until the session closes
  });
  costrix::agi::session s{stream, {.command_timeout = 50ms}};
  auto r = costrix::test::run(ctx, [&]() -> awaitable<costrix::result<void>> {
    auto started = co_await s.start();
    if (!started) co_return started;
    co_return co_await s.answer();
  }());
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::timeout);
  s.close();
  peer.join();
}

TEST_CASE("fault: an AGI environment trickled a byte every 10 ms hits the 50 ms environment timeout",
          "[fault][fastagi]") {
  served s{{.session = {.environment_timeout = 50ms}}};
  int fd = s.connect();
  costrix::test::trickle(fd, env_block, 10ms);  // ends early once the server has closed
  peer_io io(fd);
  io.read_line();
  CHECK(io.eof());  // closed, no command sent
  ::close(fd);
  CHECK(s.scripts.load() == 0);
}

TEST_CASE("fault: a FastAGI connection reset during a command fails it with disconnected", "[fault][fastagi]") {
  served s{{}};
  int fd = s.connect();
  peer_io io(fd);
  REQUIRE(io.send(env_block));
  REQUIRE(io.read_line() == "ANSWER");
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);  // RST instead of a reply
  auto e = s.first_error.get_future().get();
  CHECK(e == errc::disconnected);
}
