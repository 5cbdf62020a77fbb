// agi::session against a scripted peer on a socketpair: timeouts, broken peers,
// garbage, limits, and the allocation count of the command path.
#include <costrix/agi/session.hpp>
#include <costrix/metrics.hpp>

#include "alloc_counter.hpp"
#include "scripted_peer.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
using costrix::test::peer_io;
using costrix::test::socket_pair;

namespace {

const std::string env_block =
    "agi_network: yes\nagi_network_script: demo?lang=en\nagi_request: agi://127.0.0.1/demo?lang=en\n"
    "agi_channel: PJSIP/100-00000001\nagi_uniqueid: 1700000000.7\nagi_callerid: 5551234\n"
    "agi_arg_1: first\nagi_arg_2: second arg\n\n";

struct fixture {
  boost::asio::io_context ctx;
  socket_pair pair;
  costrix::io::stream stream = costrix::io::stream::duplicate(ctx.get_executor(), pair.near(), pair.near());
  costrix::test::peer_checks checks;  // the peer thread's
  fixture() { pair.close_near(); }  // the stream holds its own duplicates
};

}  // namespace

TEST_CASE("session reads the environment and answers commands in order", "[agi][session]") {
  fixture f;
  std::thread peer([fd = f.pair.far(), &checks = f.checks] {
    peer_io io(fd);
    io.send(env_block);
    PEER_CHECK(checks, io.read_line() == "ANSWER");
    io.send("200 result=0\n");
    PEER_CHECK(checks, io.read_line() == "GET VARIABLE CALLERID(num)");
    io.send("200 result=1 (5551234)\n");
    PEER_CHECK(checks, io.read_line() == "STREAM FILE demo-thanks \"12\"");
    io.send("200 result=49 endpos=22080\r\n");  // '1' pressed
  });
  costrix::agi::session s{f.stream};
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    CHECK(s.script() == "demo");
    CHECK(s.param("lang") == "en");
    CHECK(std::ranges::equal(s.args(), std::vector<std::string_view>{"first", "second arg"}));
    CHECK(s.env().channel() == "PJSIP/100-00000001");
    auto answered = co_await s.answer();
    CHECK(answered);
    auto number = co_await s.get_variable("CALLERID(num)");
    REQUIRE(number);
    CHECK(*number == "5551234");
    auto played = co_await s.stream_file("demo-thanks", "12");
    REQUIRE(played);
    CHECK(played->digit == '1');
    CHECK(played->endpos == 22080);
  }());
  peer.join();
  f.checks.verify();
}

TEST_CASE("session: a command without a reply in time is a timeout and ends the session", "[agi][session]") {
  fixture f;
  std::thread peer([fd = f.pair.far(), &checks = f.checks] {
    peer_io io(fd);
    io.send(env_block);
    PEER_CHECK(checks, io.read_line() == "ANSWER");
    io.read_line();  // never answers; returns at end of stream when the session closes
    PEER_CHECK(checks, io.eof());
  });
  costrix::agi::session s{f.stream, {.command_timeout = 50ms}};
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    auto r = co_await s.answer();
    REQUIRE(!r);
    CHECK(r.error() == errc::timeout);
    auto later = co_await s.answer();  // the session closed: nothing more is sent
    REQUIRE(!later);
    CHECK(later.error() == errc::disconnected);
  }());
  peer.join();
  f.checks.verify();
}

TEST_CASE("session: a peer that closes mid-line ends the command with disconnected", "[agi][session]") {
  fixture f;
  std::thread peer([&f] {
    peer_io io(f.pair.far());
    io.send(env_block);
    io.read_line();
    io.send("200 resu");
    f.pair.close_far();
  });
  costrix::agi::session s{f.stream};
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    auto r = co_await s.answer();
    REQUIRE(!r);
    CHECK(r.error() == errc::disconnected);
  }());
  peer.join();
}

TEST_CASE("session: an environment cut short - garbage - or too big is an error", "[agi][session]") {
  struct scenario {
    std::string bytes;
    errc expected;
  };
  auto s = GENERATE(scenario{"agi_network: yes\nagi_chan", errc::disconnected},
                    scenario{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", errc::protocol},
                    scenario{std::string(1 << 20, 'A') + "\n", errc::limit_exceeded},
                    scenario{std::string("agi_x: \0\xff\n", 10) + "garbage without colon\n\n", errc::protocol});
  fixture f;
  std::thread peer([&f, bytes = s.bytes] {
    peer_io io(f.pair.far());
    io.send(bytes);
    f.pair.close_far();
  });
  costrix::agi::session sess{f.stream};
  auto r = costrix::test::run(f.ctx, sess.start());
  REQUIRE(!r);
  CHECK(r.error() == s.expected);
  peer.join();
}

TEST_CASE("session: a garbage reply is a protocol error and ends the session", "[agi][session]") {
  fixture f;
  std::thread peer([fd = f.pair.far(), &checks = f.checks] {
    peer_io io(fd);
    io.send(env_block);
    io.read_line();
    io.send("this is not AGI\n");
    io.read_line();
    PEER_CHECK(checks, io.eof());
  });
  costrix::agi::session s{f.stream};
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    auto r = co_await s.answer();
    REQUIRE(!r);
    CHECK(r.error() == errc::protocol);
    auto again = co_await s.answer();
    CHECK(again.error() == errc::disconnected);
  }());
  peer.join();
  f.checks.verify();
}

TEST_CASE("session: a 1 MiB reply line is refused without buffering it", "[agi][session]") {
  fixture f;
  std::thread peer([fd = f.pair.far()] {
    peer_io io(fd);
    io.send(env_block);
    io.read_line();
    io.send("200 result=1 (" + std::string(1 << 20, 'v') + ")\n");  // fails once the session closes
  });
  costrix::agi::session s{f.stream};
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    auto r = co_await s.get_variable("BIG");
    REQUIRE(!r);
    CHECK(r.error() == errc::limit_exceeded);
  }());
  peer.join();
}

TEST_CASE("session: HANGUP fails the command in flight and every later one - unsent", "[agi][session]") {
  fixture f;
  std::thread peer([fd = f.pair.far(), &checks = f.checks] {
    peer_io io(fd);
    io.send(env_block);
    PEER_CHECK(checks, io.read_line() == "NOOP");
    io.send("HANGUP\n200 result=0\n");
    io.read_line();  // nothing else arrives before the session closes
    PEER_CHECK(checks, io.eof());
  });
  costrix::agi::session s{f.stream};
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    auto r = co_await s.noop();
    REQUIRE(!r);
    CHECK(r.error() == errc::hangup);
    CHECK(s.hung_up());
    auto after = co_await s.get_variable("FOO");
    CHECK(after.error() == errc::hangup);
    s.close();
  }());
  peer.join();
  f.checks.verify();
}

TEST_CASE("session: commands allocate nothing once warm - with metrics off and on", "[agi][session][alloc]") {
  const bool metrics_on = GENERATE(false, true);
  costrix::metrics::library().enable(metrics_on);
  const costrix::metrics::labels stream_file{{"command", "STREAM FILE"}};
  const double counted_before = costrix::metrics::library().collect().value("costrix_commands_total", stream_file).value_or(0);
  fixture f;
  constexpr int rounds = 2000;
  std::thread peer([fd = f.pair.far()] {
    peer_io io(fd);
    io.send(env_block);
    for (int i = 0; i < rounds; ++i) {
      io.read_line();
      io.send("200 result=0 endpos=44160\n");
    }
  });
  costrix::agi::session s{f.stream};
  std::size_t during = 0;
  costrix::test::run(f.ctx, [&]() -> awaitable<void> {
    auto started = co_await s.start();
    REQUIRE(started);
    std::size_t failures = 0;
    for (int i = 0; i < 100; ++i) failures += !(co_await s.stream_file("demo-thanks", "12"));  // warm up
    std::size_t before = costrix::test::allocations();
    for (int i = 100; i < rounds; ++i) failures += !(co_await s.stream_file("demo-thanks", "12"));
    during = costrix::test::allocations() - before;
    CHECK(failures == 0);
  }());
  peer.join();
  if (!costrix::test::counting_allocations) WARN("allocation counting is off under sanitizers");
  else CHECK(during == 0);
  const double counted = costrix::metrics::library().collect().value("costrix_commands_total", stream_file).value_or(0);
  CHECK(counted - counted_before == (metrics_on ? rounds : 0));
  costrix::metrics::library().enable(false);
}
