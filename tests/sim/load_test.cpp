// The load generator against costrix's own FastAGI server, well and badly behaved.
#include <costrix/fastagi/server.hpp>
#include <costrix/sim/load.hpp>

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <future>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace asio = boost::asio;
namespace sim = costrix::sim;

namespace {

awaitable<void> demo(costrix::agi::session& s) {
  co_await s.answer();
  co_await s.get_variable("CALLERID(num)");
  co_await s.stream_file("demo-thanks", "12");
  co_await s.set_variable("RESULT", "ok");
  co_await s.hangup();
}

struct served {
  costrix::runtime rt{{.threads = 2}};
  costrix::fastagi::server srv{rt, {.listen = "127.0.0.1:0"}};
  served() {
    srv.route("demo", demo);
    srv.route("bad", [](costrix::agi::session& s) -> awaitable<void> { co_await s.raw("FOO BAR"); });
    srv.route("silent", [](costrix::agi::session& s) -> awaitable<void> {
      asio::steady_timer forever{co_await asio::this_coro::executor, asio::steady_timer::time_point::max()};
      co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));  // ends when the server stops
      (void)s;
    });
    srv.route("park", [](costrix::agi::session& s) -> awaitable<void> { co_await s.wait_for_digit(-1ms); });
    REQUIRE(srv.start());
    rt.start();
  }
  ~served() {
    costrix::test::latch_flag stopped;
    srv.stop(0ms, [&] { stopped.set(); });
    stopped.wait();
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(srv.port()); }
};

}  // namespace

TEST_CASE("load: closed loop counts calls - commands and per-command latencies", "[sim][load]") {
  served s;
  sim::load_options o{.target = s.target(), .concurrency = 20, .calls = 200, .threads = 2};
  o.call.script = "demo";
  auto r = sim::run_load(o);
  CHECK(r.ok == 200);
  CHECK(r.failed == 0);
  CHECK(r.commands == 1000);
  CHECK(r.call_latency.count() == 200);
  REQUIRE(r.command_latency.size() == 5);
  for (const auto& [name, h] : r.command_latency) {
    INFO(name);
    CHECK(h.count() == 200);
  }
  CHECK(r.errors.empty());
  CHECK(r.json().find("\"calls_ok\":200") != std::string::npos);
  CHECK(r.text().find("STREAM FILE") != std::string::npos);
}

TEST_CASE("load: open loop starts calls at the given rate", "[sim][load]") {
  served s;
  sim::load_options o{.target = s.target(), .concurrency = 50, .calls = 100, .rate = 2000};
  o.call.script = "demo";
  auto r = sim::run_load(o);
  CHECK(r.ok + r.skipped == 100);
  CHECK(r.ok > 0);
  CHECK(r.failed == 0);
}

TEST_CASE("load: bad server behaviour is counted - not fatal", "[sim][load]") {
  served s;
  SECTION("a command Asterisk would reject") {
    sim::load_options o{.target = s.target(), .concurrency = 5, .calls = 10};
    o.call.script = "bad";
    auto r = sim::run_load(o);
    CHECK(r.failed == 10);
    CHECK(r.errors.at("commands Asterisk would reject (510/520)") == 10);
  }
  SECTION("a server that never sends a command") {
    sim::load_options o{.target = s.target(), .concurrency = 3, .calls = 3, .stall_timeout = 50ms};
    o.call.script = "silent";
    auto r = sim::run_load(o);
    CHECK(r.failed == 3);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors.begin()->first.starts_with("timeout"));
  }
  SECTION("a server that is not there") {
    sim::load_options o{.target = "127.0.0.1:1", .concurrency = 2, .calls = 4};
    auto r = sim::run_load(o);
    CHECK(r.failed == 4);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors.begin()->first.find("connect") != std::string::npos);
  }
}

TEST_CASE("load: park mode holds every call until the caller has looked", "[sim][load]") {
  served s;
  std::size_t active_when_parked = 0;
  sim::load_options o{.target = s.target(), .concurrency = 50, .park = true};
  o.call.script = "park";
  o.on_parked = [&](std::size_t n) {
    CHECK(n == 50);
    active_when_parked = s.srv.active();
  };
  auto r = sim::run_load(o);
  CHECK(active_when_parked == 50);
}

TEST_CASE("sim: rules delay - replace - hang up and hold", "[sim]") {
  sim::agi_call call;
  call.rules["STREAM FILE"].reply = "200 result=49 endpos=10";
  call.rules["WAIT FOR DIGIT"].hangup = true;
  call.rules["*"].delay = 5ms;
  sim::agi_channel ch{call};
  CHECK(ch.reply("STREAM FILE x \"1\"") == "200 result=49 endpos=10\n");
  CHECK(ch.last_command() == "STREAM FILE");
  CHECK(ch.reply("NOOP") == "200 result=0\n");
  CHECK(ch.last_rule().delay == 5ms);  // "*" applies to commands without a rule
  CHECK(ch.reply("WAIT FOR DIGIT 100") == "200 result=-1\n");
  CHECK(ch.hung_up());
  CHECK(ch.reply("NOOP") == "HANGUP\n200 result=0\n");
  CHECK(ch.reply("FOO") == "510 Invalid or unknown command\n");
  CHECK(ch.last_command() == "unknown");
}

TEST_CASE("load: several targets - a stopped target is skipped and no call is lost", "[sim][load]") {
  served first, second;
  sim::load_progress progress;
  sim::load_options o{.target = first.target() + "," + second.target(), .concurrency = 20, .calls = 0, .threads = 2};
  o.call.script = "demo";
  auto running = std::async(std::launch::async, [&] { return sim::run_load(o, &progress); });
  REQUIRE(costrix::test::eventually([&] { return progress.ok.load() >= 300; }));
  costrix::test::latch_flag stopped;
  first.srv.stop(2s, [&] { stopped.set(); });  // the calls in flight finish; new ones are refused
  stopped.wait();
  auto at_stop = progress.ok.load();
  REQUIRE(costrix::test::eventually([&] { return progress.ok.load() >= at_stop + 300; }));
  progress.stop = true;
  auto r = running.get();
  INFO(r.text());
  CHECK(r.failed == 0);
  CHECK(r.errors.empty());
  CHECK(r.by_target[first.target()] == first.srv.accepted());
  CHECK(r.by_target[second.target()] == second.srv.accepted());
  CHECK(r.by_target[second.target()] >= 300);
  CHECK(r.by_target[first.target()] + r.by_target[second.target()] == r.ok);
  CHECK(r.text().find("target " + second.target()) != std::string::npos);
}

TEST_CASE("load: several targets - every call goes to the first while it takes calls", "[sim][load]") {
  served first, second;
  sim::load_options o{.target = first.target() + "," + second.target(), .concurrency = 10, .calls = 100};
  o.call.script = "demo";
  auto r = sim::run_load(o);
  CHECK(r.ok == 100);
  CHECK(r.by_target.size() == 1);
  CHECK(r.by_target[first.target()] == 100);
  CHECK(second.srv.accepted() == 0);
}
