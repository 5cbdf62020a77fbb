// Named regressions of the ESL client and the outbound ESL server.
#include <costrix/esl/api.hpp>
#include <costrix/esl/server.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "regression/esl_sim.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
using costrix::result;
namespace asio = boost::asio;
namespace esl = costrix::esl;
namespace sim = costrix::sim;
using esl_test::esl_fixture;

namespace {

awaitable<void> yield() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }

// An outbound ESL server on a runtime of `threads` threads, stopped at the end.
struct outbound {
  costrix::runtime rt;
  esl::server srv;
  explicit outbound(unsigned threads) : rt({.threads = threads}), srv(rt, {.listen = "127.0.0.1:0"}) {}
  ~outbound() { stop(); }
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
  asio::ip::tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), srv.port()}; }
};

}  // namespace

TEST_CASE("regression: an ESL api reply after its call timed out never completes another call", "[regression][esl]") {
  esl_fixture f{{}, {.delays = {{"status", 150ms}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto late = co_await f.client.api(esl::api::status{}, 5ms);
    REQUIRE(!late);
    CHECK(late.error() == errc::timeout);
    // Sent while the status reply is still due: the reply that comes first is
    // status's, and it must not be taken for this call's.
    auto mine = co_await f.client.api("global_getvar hostname");
    REQUIRE(mine);
    CHECK(*mine == "vm");
    CHECK(f.client.stats().orphans == 1);
  }());
}

TEST_CASE("regression: an ESL api whose connection drops completes with disconnected at once", "[regression][esl]") {
  esl_fixture f{{.command_timeout = 0ms, .reconnect = {.enabled = false}}, {.delays = {{"status", 60s}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    result<std::string> got;
    bool done = false;
    f.client.api("status", [&](result<std::string> r) {
      got = std::move(r);
      done = true;
    });
    while (f.server.srv.commands_received("api") < 1) co_await yield();
    costrix::test::latch_flag closed;
    f.server.srv.disconnect_all([&] { closed.set(); });
    closed.wait();
    while (!done) co_await yield();
    REQUIRE(!got);
    CHECK(got.error() == errc::disconnected);
    CHECK(f.client.stats().in_flight == 0);
  }());
}

TEST_CASE("regression: ESL reconnects after each server restart authenticated and subscribed once", "[regression][esl]") {
  // The backoff doubles from 20 ms with each failed attempt. The first outage
  // lasts until 6 attempts have failed (after waits of 20, 40 ... 640 ms), so
  // the attempt that authenticates again waited 1280 ms. A backoff that did not
  // start over after that login would wait 2560 ms or more before the first
  // attempt of the next outage; one that starts over waits 20 ms. Timers never
  // fire early, so the first outage's waits are at least their delays; the
  // later outages' first waits are checked against 1280 ms: 64 times the
  // initial delay, half of the least a grown backoff would wait.
  constexpr auto initial = 20ms;
  constexpr int long_outage_failures = 6;
  constexpr auto grown = initial * (1 << long_outage_failures);
  esl_fixture f{{.reconnect = {.initial_delay = initial, .max_delay = 60s}}};
  f.run([&]() -> awaitable<void> {
    using clock = std::chrono::steady_clock;
    // Per outage: each attempt's wait (from the state going disconnected to
    // connecting) and the attempts that failed (connecting, then disconnected).
    std::vector<clock::duration> waits;
    int failures = 0, connected = 0;
    clock::time_point down{};
    auto last = esl::connection_state::disconnected;
    f.client.on_state([&](esl::connection_state s) {
      const auto now = clock::now();
      if (s == esl::connection_state::disconnected) {
        down = now;
        if (last == esl::connection_state::connecting) ++failures;
      } else if (s == esl::connection_state::connecting) {
        waits.push_back(now - down);
      } else if (s == esl::connection_state::connected) {
        ++connected;
      }
      last = s;
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto filtered = co_await f.client.filter("Event-Name", "CHANNEL_ANSWER");
    REQUIRE(filtered);
    constexpr int restarts = 5;
    for (int i = 0; i < restarts; ++i) {
      // Nobody listens until the client has failed this many attempts.
      const int outage_failures = i == 0 ? long_outage_failures : 1;
      INFO("outage " << i << " (" << outage_failures << " failed attempts)");
      const int before = connected;
      waits.clear();
      failures = 0;
      costrix::test::latch_flag stopped, dropped;
      f.server.srv.stop_listening([&] { stopped.set(); });
      stopped.wait();
      f.server.srv.disconnect_all([&] { dropped.set(); });
      dropped.wait();
      while (failures < outage_failures) co_await yield();
      REQUIRE(f.server.srv.start_listening());
      while (connected == before) co_await yield();
      // The failed attempts, then the one that authenticated.
      REQUIRE(waits.size() == static_cast<std::size_t>(failures + 1));
      REQUIRE(failures >= outage_failures);
      if (i == 0) {
        // The backoff grew: attempt k waited 20 ms * 2^k at least.
        for (int k = 0; k <= failures; ++k) CHECK(waits[k] >= initial * (1 << k));
      } else {
        // It started over after the last login.
        CHECK(waits[0] < grown);
        CHECK(waits[1] >= 2 * initial);
      }
    }
    CHECK(f.client.stats().reconnects == restarts);
    CHECK(f.server.srv.stats().auths == restarts + 1);
    CHECK(f.server.srv.commands_received("filter") == restarts + 1);  // once per connection
    CHECK(f.client.state() == esl::connection_state::connected);
    // Closed here (the state callback runs now), while the locals it writes live.
    f.client.close();
    co_await yield();
  }());
}

TEST_CASE("regression: an ESL header value containing colon-space is kept whole", "[regression][esl]") {
  outbound s{1};
  std::string seen;
  s.srv.default_route([&](esl::session& sess) -> awaitable<void> {
    seen = std::string(sess.channel_variable("sip_h_X-Note").value_or("<none>"));
    co_await sess.answer();
  });
  s.start();
  asio::io_context ctx;
  sim::esl_call call;
  call.variables["sip_h_X-Note"] = "Via: SIP/2.0/UDP 10.0.0.1: rport";
  auto r = costrix::test::run(ctx, sim::call_esl_outbound(s.endpoint(), call));
  s.stop();
  REQUIRE(r);
  REQUIRE_FALSE(r->executed.empty());
  CHECK(seen == "Via: SIP/2.0/UDP 10.0.0.1: rport");
}

TEST_CASE("regression: an ESL handler that sleeps does not delay another call on the same thread", "[regression][esl]") {
  outbound s{1};  // one thread: both calls share it
  std::atomic<asio::steady_timer*> sleeper{nullptr};
  costrix::test::latch_flag asleep;
  std::atomic<bool> woke{false};
  s.srv.route("sleep", [&](esl::session& sess) -> awaitable<void> {
    asio::steady_timer long_sleep{co_await asio::this_coro::executor, asio::steady_timer::time_point::max()};
    sleeper = &long_sleep;
    asleep.set();
    co_await long_sleep.async_wait(asio::as_tuple(asio::use_awaitable));
    woke = true;
    co_await sess.hangup();
  });
  s.srv.default_route([](esl::session& sess) -> awaitable<void> {
    co_await sess.answer();
    co_await sess.hangup();
  });
  s.start();
  std::thread sleeping_call([&] {
    asio::io_context ctx;
    sim::esl_call call;
    call.destination_number = "sleep";
    auto r = costrix::test::run(ctx, sim::call_esl_outbound(s.endpoint(), call));
    (void)r;
  });
  asleep.wait();
  // The other call runs to its end while the first one sleeps.
  asio::io_context ctx;
  auto r = costrix::test::run(ctx, sim::call_esl_outbound(s.endpoint(), sim::esl_call{}));
  const bool slept_throughout = !woke.load();
  asio::post(sleeper.load()->get_executor(), [&] { sleeper.load()->cancel(); });
  sleeping_call.join();
  REQUIRE(r);
  REQUIRE_FALSE(r->executed.empty());
  CHECK(r->executed[0].app == "answer");
  CHECK(r->hung_up);
  CHECK(slept_throughout);  // the other call ended while the sleeper still slept
}
