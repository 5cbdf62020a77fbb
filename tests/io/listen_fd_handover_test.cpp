// A server started with --listen-fd hands its socket over on SIGUSR2: the
// successor runs the same command line (with that --listen-fd in it) and must
// take its sockets from LISTEN_FDS alone. fastagi_demo and esl_outbound as
// child processes, on a listening socket the test makes and passes them.
#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/esl_caller.hpp>

#include <catch2/catch.hpp>

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
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

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

// A child process with its standard output on a pipe the test reads line by line.
struct child_process {
  pid_t pid = -1;
  int out = -1;
  std::string pending;

  explicit child_process(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out = fds[0];
    REQUIRE(rc == 0);
  }
  ~child_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::close(out);
  }

  // The next line a process writing to the pipe printed; nothing after 20 s
  // or once every writer has exited.
  std::optional<std::string> line() {
    auto give_up = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      if (auto nl = pending.find('\n'); nl != std::string::npos) {
        std::string l = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
      pollfd p{out, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char buf[4096];
      auto n = ::read(out, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      pending.append(buf, static_cast<std::size_t>(n));
    }
  }
  // The pid in the first "NAME[PID]: serving" line from a process other than `not_pid`.
  std::optional<pid_t> serving(const std::regex& banner, pid_t not_pid) {
    while (auto l = line()) {
      std::smatch m;
      if (std::regex_search(*l, m, banner) && std::stoi(m[1]) != not_pid) return std::stoi(m[1]);
    }
    return std::nullopt;
  }
  // The exit status once the process has exited (-1 if not within the wait).
  int exit_status() {
    int status = 0;
    if (!costrix::test::eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; })) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

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
    child_process old{{program, "--listen-fd", std::to_string(sock.fd), "--threads", "1", "--drain", "5"}};
    auto first = old.serving(banner, -1);
    REQUIRE(first);
    ::close(sock.fd);  // only the server holds the socket now
    sock.fd = -1;
    CHECK(call_ok(sock.port));
    REQUIRE(::kill(old.pid, SIGUSR2) == 0);
    auto next = old.serving(banner, *first);  // the successor prints its banner on the same pipe
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
