// A server started with --listen-fd hands its socket over on SIGUSR2: the
// successor runs the same command line (with that --listen-fd in it) and must
// take its sockets from LISTEN_FDS alone. fastagi_demo and esl_outbound as
// child processes, on a listening socket the test makes and passes them.
#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/esl_caller.hpp>

#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "support.hpp"

#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace sim = costrix::sim;

namespace {

// A listening TCP socket on 127.0.0.1, a free port; inheritable (no FD_CLOEXEC).
struct listening_socket {
  int fd = -1;
  unsigned short port = 0;
  listening_socket() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 128) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~listening_socket() { ::close(fd); }
};

// The pid in the first "NAME[PID]: serving" line from a process other than `not_pid`.
std::optional<pid_t> serving(costrix::test::child_process& p, const std::regex& banner, pid_t not_pid) {
  while (auto l = p.line()) {
    std::smatch m;
    if (std::regex_search(*l, m, banner) && std::stoi(m[1]) != not_pid) return std::stoi(m[1]);
  }
  return std::nullopt;
}

bool fastagi_call_ok(unsigned short port) {
  asio::io_context client;
  sim::agi_call call{.script = "demo"};
  auto r = costrix::test::run(client, sim::call_fastagi({asio::ip::make_address("127.0.0.1"), port}, call));
  return r && r->exchanges.size() == 5;
}

bool esl_call_ok(unsigned short port) {
  asio::io_context client;
  sim::esl_call call;
  call.dtmf = "12#";
  auto r = costrix::test::run(client, sim::call_esl_outbound({asio::ip::make_address("127.0.0.1"), port}, call, 20s));
  return r && r->hung_up;
}

// Starts `program` on an adopted socket, checks it serves, hands over, checks
// the successor serves on the same socket, then stops it.
void check_handover(const char* program, const std::regex& banner, bool (*call_ok)(unsigned short)) {
  listening_socket sock;
  pid_t successor = -1;
  {
    costrix::test::child_process old{{program, "--listen-fd", std::to_string(sock.fd), "--threads", "1", "--drain", "5"}};
    auto first = serving(old, banner, -1);
    REQUIRE(first);
    ::close(sock.fd);  // only the server holds the socket now
    sock.fd = -1;
    CHECK(call_ok(sock.port));
    REQUIRE(::kill(old.pid, SIGUSR2) == 0);
    auto next = serving(old, banner, *first);  // the successor prints its banner on the same pipe
    REQUIRE(next);
    successor = *next;
    CHECK(old.exit_status() == 0);  // the old process drained and exited
    CHECK(call_ok(sock.port));      // served by the successor on the same socket
    CHECK(::kill(successor, SIGTERM) == 0);
    // The successor is not our child: wait until it has gone (it exits 0 after its drain).
    CHECK(costrix::test::eventually([&] { return ::kill(successor, 0) != 0; }));
  }
}

}  // namespace

TEST_CASE("graceful: fastagi_demo started with --listen-fd hands over to a successor that serves", "[graceful]") {
  check_handover(COSTRIX_FASTAGI_DEMO, std::regex{R"(fastagi_demo\[(\d+)\]: serving agi://)"}, fastagi_call_ok);
}

TEST_CASE("graceful: esl_outbound started with --listen-fd hands over to a successor that serves", "[graceful]") {
  check_handover(COSTRIX_ESL_OUTBOUND, std::regex{R"(esl_outbound\[(\d+)\]: serving socket)"}, esl_call_ok);
}
