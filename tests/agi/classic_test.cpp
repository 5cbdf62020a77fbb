// Classic AGI: examples/classic_agi runs as a child process, as Asterisk would
// start it, and the simulator plays Asterisk's side over its stdin/stdout.
#include <costrix/agi/classic.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "scripted_peer.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace {

struct child {
  pid_t pid = -1;
  int to_child = -1;    // its stdin
  int from_child = -1;  // its stdout

  explicit child(const char* path) {
    int in[2], out[2];
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char* argv[] = {const_cast<char*>(path), nullptr};
    REQUIRE(posix_spawn(&pid, path, &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    to_child = in[1];
    from_child = out[0];
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~child() {
    ::close(to_child);
    ::close(from_child);
  }
};

}  // namespace

TEST_CASE("classic AGI: the example script runs over stdin/stdout", "[agi][classic]") {
  child c(COSTRIX_CLASSIC_EXAMPLE);
  boost::asio::io_context ctx;
  costrix::io::stream pipes = costrix::io::stream::duplicate(ctx.get_executor(), c.from_child, c.to_child);
  auto r = costrix::test::run(ctx, costrix::sim::play(pipes, {.args = {"Ada"}, .dtmf = "7"}));
  REQUIRE(r);
  std::vector<std::string> sent;
  for (const auto& ex : r->exchanges) sent.push_back(ex.command);
  CHECK(sent == std::vector<std::string>{"ANSWER", "VERBOSE \"classic AGI greeting Ada\" 3", "WAIT FOR DIGIT 3000",
                                         "SET VARIABLE CLASSIC_KEY 7"});
  CHECK(r->variables.at("CLASSIC_KEY") == "7");
  pipes.close();
  CHECK(c.wait() == 0);
}

TEST_CASE("classic AGI: SIGHUP from Asterisk turns later commands into hangup errors", "[agi][classic]") {
  costrix::test::socket_pair pair;
  std::promise<void> got_env;
  std::vector<costrix::errc> seen;
  // run_classic in a thread on one end of a socketpair; the test is Asterisk on the other.
  std::thread script([&] {
    costrix::agi::run_classic(
        [&](costrix::agi::session& s) -> costrix::awaitable<void> {
          got_env.set_value();
          auto first = co_await s.answer();
          seen.push_back(first ? costrix::errc{} : static_cast<costrix::errc>(first.error().code.value()));
          ::raise(SIGHUP);  // what Asterisk sends the process when the caller hangs up
          auto second = co_await s.answer();
          seen.push_back(second ? costrix::errc{} : static_cast<costrix::errc>(second.error().code.value()));
        },
        {}, pair.near(), pair.near());
  });
  costrix::test::peer_io io(pair.far());
  io.send("agi_request: /usr/local/bin/x\nagi_channel: PJSIP/1-1\n\n");
  got_env.get_future().wait();
  pair.close_near();  // run_classic reads and writes its own duplicates
  CHECK(io.read_line() == "ANSWER");
  io.send("200 result=0\n");
  io.read_line();  // the second ANSWER is never sent: end of stream when the script ends
  CHECK(io.eof());
  script.join();
  CHECK(seen == std::vector<costrix::errc>{costrix::errc{}, costrix::errc::hangup});
}
