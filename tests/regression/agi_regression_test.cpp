// Named regressions of the FastAGI server and AGI sessions.
#include <costrix/fastagi/server.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace sim = costrix::sim;
namespace fastagi = costrix::fastagi;

namespace {

struct agi_served {
  costrix::runtime rt;
  fastagi::server srv;
  explicit agi_served(unsigned threads) : rt({.threads = threads}), srv(rt, {.listen = "127.0.0.1:0"}) {}
  ~agi_served() { stop(); }
  // Stops the server and joins the runtime: what handlers wrote may be read after it.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    costrix::test::latch_flag stopped;
    srv.stop(0ms, [&] { stopped.set(); });
    stopped.wait();
    rt.stop();
    rt.join();
  }
  bool stopped_ = false;
  void start() {
    REQUIRE(srv.start());
    rt.start();
  }
  costrix::result<sim::call_report> call(sim::agi_call c) {
    asio::io_context ctx;
    return costrix::test::run(ctx, sim::call_fastagi({asio::ip::make_address("127.0.0.1"), srv.port()}, std::move(c)));
  }
};

std::vector<std::string> commands(const sim::call_report& r) {
  std::vector<std::string> out;
  for (const auto& ex : r.exchanges) out.push_back(ex.command);
  return out;
}

}  // namespace

TEST_CASE("regression: a 520 usage reply in the middle of an AGI script lets the script continue", "[regression][agi]") {
  agi_served s{1};
  std::vector<std::string> notes;  // written on the runtime's thread, read after the call
  s.srv.route("demo", [&](costrix::agi::session& sess) -> awaitable<void> {
    auto a = co_await sess.answer();
    notes.push_back(a ? "answer ok" : a.error().what());
    auto played = co_await sess.stream_file("demo-thanks", "12");
    if (!played) notes.push_back(played.error() == errc::usage ? "usage" : played.error().what());
    auto set = co_await sess.set_variable("RESULT", "continued");
    notes.push_back(set ? "set ok" : set.error().what());
    co_await sess.hangup();
  });
  s.start();
  sim::agi_call call;
  call.rules["STREAM FILE"].reply =
      "520-Invalid command syntax.  Proper usage follows:\n"
      " Usage: STREAM FILE <filename> <escape_digits> [sample offset]\n"
      "520 End of proper usage.";
  auto r = s.call(call);
  s.stop();
  REQUIRE(r);
  CHECK(notes == std::vector<std::string>{"answer ok", "usage", "set ok"});
  CHECK(commands(*r) == std::vector<std::string>{"ANSWER", "STREAM FILE demo-thanks \"12\"",
                                                 "SET VARIABLE RESULT continued", "HANGUP"});
  CHECK(r->variables.at("RESULT") == "continued");
}

TEST_CASE("regression: an AGI script that sleeps does not delay another call on the same thread", "[regression][agi]") {
  agi_served s{1};  // one thread: both calls share it
  std::atomic<asio::steady_timer*> sleeper{nullptr};
  costrix::test::latch_flag asleep;
  std::atomic<bool> woke{false};
  s.srv.route("sleep", [&](costrix::agi::session& sess) -> awaitable<void> {
    asio::steady_timer long_sleep{co_await asio::this_coro::executor, asio::steady_timer::time_point::max()};
    sleeper = &long_sleep;
    asleep.set();
    co_await long_sleep.async_wait(asio::as_tuple(asio::use_awaitable));
    woke = true;
    co_await sess.noop();
  });
  s.srv.route("quick", [](costrix::agi::session& sess) -> awaitable<void> {
    co_await sess.answer();
    co_await sess.hangup();
  });
  s.start();
  std::thread sleeping_call([&] {
    auto r = s.call({.script = "sleep"});
    (void)r;
  });
  asleep.wait();
  auto r = s.call({.script = "quick"});
  const bool slept_throughout = !woke.load();
  asio::post(sleeper.load()->get_executor(), [&] { sleeper.load()->cancel(); });
  sleeping_call.join();
  REQUIRE(r);
  CHECK(commands(*r) == std::vector<std::string>{"ANSWER", "HANGUP"});
  CHECK(slept_throughout);  // the other call ended while the sleeper still slept
}
