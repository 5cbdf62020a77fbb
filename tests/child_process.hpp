// A program the test starts (fastagi_demo, esl_outbound) with its standard
// output on a pipe the test reads line by line; killed when the test is done.
#pragma once

#include "support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace costrix::test {

struct child_process {
  pid_t pid = -1;
  int out = -1;
  std::string pending;
  bool reaped = false;

  /// `args[0]` is the program's path. Descriptors without FD_CLOEXEC are inherited.
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
    if (!reaped) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::close(out);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line any process writing to the pipe printed (a successor it
  /// started writes there too); nothing after 20 s or once every writer has exited.
  std::optional<std::string> line() {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
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
  /// Reads lines until one matches; its groups (into `storage`, the line).
  std::optional<std::smatch> until(const std::regex& pattern, std::string& storage) {
    while (auto l = line()) {
      storage = *l;
      std::smatch m;
      if (std::regex_search(storage, m, pattern)) return m;
    }
    return std::nullopt;
  }
  /// The exit status, once the process has exited (10 s at most; -1 if not).
  int exit_status() {
    int status = 0;
    reaped = eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
    if (!reaped) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

}  // namespace costrix::test
