// Restarts without dropping calls: fastagi_demo as a child process, stopped
// by SIGTERM or handed over to a successor by SIGUSR2 while simulated calls flow.
#include <costrix/io/listener.hpp>
#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/load.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "support.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <future>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace asio = boost::asio;
namespace sim = costrix::sim;

namespace {

// fastagi_demo with its standard output on a pipe the test reads line by line.
struct demo_process : costrix::test::child_process {
  explicit demo_process(std::vector<std::string> args) : child_process(with_program(std::move(args))) {}
  static std::vector<std::string> with_program(std::vector<std::string> args) {
    args.insert(args.begin(), COSTRIX_FASTAGI_DEMO);
    return args;
  }
};

const std::regex serving{R"(fastagi_demo\[(\d+)\]: serving agi://127\.0\.0\.1:(\d+)/)"};
const std::regex stopped{R"(fastagi_demo\[(\d+)\]: stopped after (\d+) calls)"};

// Coroutines as functions: their parameters live in the frame (a lambda's
// captures would die with the closure).
awaitable<void> play_call(asio::ip::tcp::endpoint server, sim::agi_call call, sim::play_options po,
                          std::vector<costrix::result<sim::call_report>>* results) {
  auto r = co_await sim::call_fastagi(server, std::move(call), std::move(po));
  results->push_back(std::move(r));
}

// Sends `signal` to `pid` once every call has read a command from the server.
awaitable<void> signal_when_running(const std::vector<std::size_t>* commands, pid_t pid, int signal, bool* sent) {
  asio::steady_timer tick{co_await asio::this_coro::executor};
  while (std::count(commands->begin(), commands->end(), std::size_t{0}) > 0) {
    tick.expires_after(1ms);
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  *sent = ::kill(pid, signal) == 0;
}

// Sends `signal` to `pid` once `server` refuses connections (its listener closed).
awaitable<void> signal_when_refused(asio::ip::tcp::endpoint server, pid_t pid, int signal, bool* refused) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer tick{ex};
  for (int tries = 0; tries < 10'000 && !*refused; ++tries) {
    asio::ip::tcp::socket probe{ex};
    auto [ec] = co_await probe.async_connect(server, asio::as_tuple(asio::use_awaitable));
    *refused = ec == asio::error::connection_refused;
    tick.expires_after(1ms);
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  ::kill(pid, signal);
}

}  // namespace

TEST_CASE("graceful: SIGUSR2 hands the listening sockets to a new process and no call fails", "[graceful]") {
  demo_process old{{"--listen", "127.0.0.1:0", "--threads", "2", "--drain", "5"}};
  std::string text;
  auto started = old.until(serving, text);
  REQUIRE(started);
  std::string port = (*started)[2];

  sim::load_progress progress;
  sim::load_options o{.target = "127.0.0.1:" + port, .concurrency = 20, .calls = 0, .threads = 1};
  o.call.script = "demo";
  auto running = std::async(std::launch::async, [&] { return sim::run_load(o, &progress); });
  REQUIRE(costrix::test::eventually([&] { return progress.ok.load() >= 300; }));

  REQUIRE(::kill(old.pid, SIGUSR2) == 0);
  // The successor prints its banner on the same pipe; the old process drains.
  std::string successor_pid, old_calls;
  while (successor_pid.empty() || old_calls.empty()) {
    auto l = old.line();
    REQUIRE(l);
    std::smatch m;
    if (std::regex_search(*l, m, serving) && m[1] != std::to_string(old.pid)) {
      successor_pid = m[1];
      CHECK(m[2] == port);
    }
    if (std::regex_search(*l, m, stopped)) {
      CHECK(m[1] == std::to_string(old.pid));
      old_calls = m[2];
    }
  }
  CHECK(old.exit_status() == 0);
  auto at_exit = progress.ok.load();
  REQUIRE(costrix::test::eventually([&] { return progress.ok.load() >= at_exit + 300; }));  // served by the successor
  progress.stop = true;
  auto r = running.get();

  pid_t successor = std::stoi(successor_pid);
  REQUIRE(::kill(successor, SIGTERM) == 0);
  auto ended = old.until(stopped, text);
  REQUIRE(ended);
  CHECK((*ended)[1] == successor_pid);
  auto new_calls = std::stoull((*ended)[2]);
  INFO(r.text());
  CHECK(r.failed == 0);
  CHECK(std::stoull(old_calls) > 0);
  CHECK(new_calls >= 300);
  CHECK(std::stoull(old_calls) + new_calls == r.ok);
}

TEST_CASE("graceful: SIGTERM lets the calls in flight finish then the process exits 0", "[graceful]") {
  demo_process demo{{"--listen", "127.0.0.1:0", "--threads", "1", "--drain", "5"}};
  std::string text;
  auto started = demo.until(serving, text);
  REQUIRE(started);
  asio::ip::tcp::endpoint server{asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(std::stoi((*started)[2]))};
  constexpr int calls = 10;
  std::vector<std::size_t> commands(calls, 0);
  std::vector<costrix::result<sim::call_report>> results;
  asio::io_context ctx;
  for (int i = 0; i < calls; ++i) {
    sim::agi_call call{.script = "demo"};
    call.rules["STREAM FILE"].delay = 300ms;  // the calls are still running when SIGTERM comes
    sim::play_options po{.keep_exchanges = false};
    po.commands_read = &commands[i];
    asio::co_spawn(ctx, play_call(server, std::move(call), std::move(po), &results), asio::detached);
  }
  // Once every call has reached the server's script: SIGTERM.
  bool signalled = false;
  asio::co_spawn(ctx, signal_when_running(&commands, demo.pid, SIGTERM, &signalled), asio::detached);
  ctx.run();
  CHECK(signalled);
  REQUIRE(results.size() == calls);
  for (auto& r : results) {
    REQUIRE(r);
    CHECK(r->timings.size() == 5);
    CHECK(r->variables["RESULT"] == "ok");
  }
  auto ended = demo.until(stopped, text);
  REQUIRE(ended);
  CHECK((*ended)[2] == std::to_string(calls));
  CHECK(demo.exit_status() == 0);
  // The listener is closed: a new call is refused.
  asio::io_context late;
  auto refused = costrix::test::run(late, sim::call_fastagi(server, {.script = "demo"}));
  CHECK(!refused);
}

TEST_CASE("graceful: a second SIGTERM exits at once with calls still held", "[graceful]") {
  demo_process demo{{"--listen", "127.0.0.1:0", "--threads", "1", "--drain", "60"}};
  std::string text;
  auto started = demo.until(serving, text);
  REQUIRE(started);
  asio::ip::tcp::endpoint server{asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(std::stoi((*started)[2]))};
  asio::io_context ctx;
  sim::agi_call call{.script = "demo"};
  call.rules["*"].hold = true;  // the call stays at its first command until the server closes it
  bool held = false, refused = false;
  std::vector<costrix::result<sim::call_report>> results;
  sim::play_options po{.keep_exchanges = false};
  po.on_hold = [&] {
    held = true;
    ::kill(demo.pid, SIGTERM);  // drains: the held call could keep it 60 s
    // Once the first signal has closed the listener, the second one: exits at once.
    asio::co_spawn(ctx, signal_when_refused(server, demo.pid, SIGTERM, &refused), asio::detached);
  };
  asio::co_spawn(ctx, play_call(server, call, po, &results), asio::detached);
  ctx.run();  // ends when the process is gone and the call's connection closes
  CHECK(held);
  CHECK(refused);
  CHECK(results.size() == 1);
  CHECK(demo.exit_status() == 1);
}

TEST_CASE("graceful: a call still held when the drain deadline passes is closed and the process exits 0",
          "[graceful]") {
  demo_process demo{{"--listen", "127.0.0.1:0", "--threads", "1", "--drain", "1"}};
  std::string text;
  auto started = demo.until(serving, text);
  REQUIRE(started);
  asio::ip::tcp::endpoint server{asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(std::stoi((*started)[2]))};
  asio::io_context ctx;
  sim::agi_call call{.script = "demo"};
  call.rules["*"].hold = true;  // the call never finishes by itself
  bool held = false;
  std::vector<costrix::result<sim::call_report>> results;
  sim::play_options po{.keep_exchanges = false};
  po.on_hold = [&] {
    held = true;
    ::kill(demo.pid, SIGTERM);  // one signal: drain for at most 1 s, then close what is left
  };
  asio::co_spawn(ctx, play_call(server, call, po, &results), asio::detached);
  ctx.run();  // ends when the server closes the held call's connection
  CHECK(held);
  REQUIRE(results.size() == 1);
  CHECK(demo.exit_status() == 0);  // a deadline reached is still a clean stop
}
