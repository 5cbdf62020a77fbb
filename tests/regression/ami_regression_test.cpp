// Named regressions of the AMI client, against the AMI simulator over loopback.
#include "ami/fixture.hpp"

#include <costrix/ami/actions.hpp>

#include <string>
#include <vector>

using namespace ami_test;
using costrix::errc;

TEST_CASE("regression: two AMI actions sent in the same microsecond get their own replies", "[regression][ami]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    // Both initiated from one handler with no suspension between them: they
    // leave in one write, and their answers arrive back to back.
    std::vector<std::string> got(2);
    int done = 0;
    flag both(f.ctx);
    for (int i = 0; i < 2; ++i) {
      ami::raw get{"Getvar"};
      get.add("Variable", "SAME_US_" + std::to_string(i));
      f.client.send(std::move(get), [&, i](costrix::result<ami::response> r) {
        got[i] = r ? std::string(r->get("Variable").value_or("?")) : r.error().what();
        if (++done == 2) both.set();
      });
    }
    co_await both.wait();
    CHECK(got == std::vector<std::string>{"SAME_US_0", "SAME_US_1"});
    CHECK(f.client.stats().orphans == 0);
    co_await f.shutdown();
  }());
}

TEST_CASE("regression: an AMI reply after its action timed out never completes another action", "[regression][ami]") {
  fixture f;
  f.server.srv.rule("Ping", {.delay = 50ms});
  f.server.srv.rule("Getvar", {.delay = 150ms});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    flag orphaned(f.ctx);
    f.client.on_orphan([&](const ami::message&) { orphaned.set(); });
    auto late = co_await f.client.send(ami::ping{}, 5ms);
    REQUIRE(!late);
    CHECK(late.error() == errc::timeout);
    // Waiting while the Ping's answer comes: it must not be taken for this one.
    ami::raw get{"Getvar"};
    get.add("Variable", "MINE");
    auto mine = co_await f.client.send(std::move(get));
    REQUIRE(mine);
    CHECK(mine->get("Variable") == "MINE");
    CHECK_FALSE(mine->get("Ping").has_value());
    co_await orphaned.wait();
    CHECK(f.client.stats().orphans == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("regression: an AMI action whose connection drops completes with disconnected at once", "[regression][ami]") {
  // No action timeout: only the lost connection can end the action.
  fixture f{{.action_timeout = 0ms, .reconnect = {.enabled = false}}};
  f.server.srv.rule("Ping", {.disconnect = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto r = co_await f.client.send(ami::ping{});
    REQUIRE(!r);
    CHECK(r.error() == errc::disconnected);
    CHECK(f.client.stats().in_flight == 0);
    co_await f.shutdown();
  }());
}

TEST_CASE("regression: AMI reconnects after each server restart logged in and subscribed once - the backoff starts over",
          "[regression][ami]") {
  // The backoff doubles from 20 ms with each failed attempt. The first outage
  // lasts until 6 attempts have failed (after waits of 20, 40 ... 640 ms), so
  // the attempt that logs in again waited 1280 ms. A backoff that did not start
  // over after that login would wait 2560 ms or more before the first attempt
  // of the next outage; one that starts over waits 20 ms. Timers never fire
  // early, so the first outage's waits are at least their delays; the later
  // outages' first waits are checked against 1280 ms: 64 times the initial
  // delay, half of the least a grown backoff would wait.
  constexpr auto initial = 20ms;
  constexpr int long_outage_failures = 6;
  constexpr auto grown = initial * (1 << long_outage_failures);  // 1280 ms: the long outage's last wait
  fixture f{{.reconnect = {.initial_delay = initial, .max_delay = 60s}}};
  f.run([&]() -> awaitable<void> {
    using clock = std::chrono::steady_clock;
    // Per outage: each attempt's wait (from the state going disconnected to
    // connecting) and the attempts that failed (connecting, then disconnected).
    std::vector<clock::duration> waits;
    int failures = 0, wanted_failures = 0;
    clock::time_point down{};
    auto last = ami::connection_state::disconnected;
    flag failed_enough(f.ctx), up_again(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      const auto now = clock::now();
      if (s == ami::connection_state::disconnected) {
        down = now;
        if (last == ami::connection_state::connecting && ++failures == wanted_failures) failed_enough.set();
      } else if (s == ami::connection_state::connecting) {
        waits.push_back(now - down);
      } else if (s == ami::connection_state::connected) {
        up_again.set();
      }
      last = s;
    });
    int user_events = 0;
    flag marker(f.ctx), once(f.ctx);
    f.client.on_event("UserEvent", [&](const ami::message& m) {
      if (m.get("UserEvent") == "marker") {
        marker.set();
      } else {
        ++user_events;
        once.set();
      }
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    constexpr int restarts = 5;
    for (int i = 0; i < restarts; ++i) {
      // Nobody listens until the client has failed this many attempts.
      const int outage_failures = i == 0 ? long_outage_failures : 1;
      INFO("outage " << i << " (" << outage_failures << " failed attempts)");
      waits.clear();
      failures = 0;
      wanted_failures = outage_failures;
      failed_enough.reset();
      up_again.reset();
      co_await f.server_call([&](auto d) { f.server.srv.stop_listening(d); });
      co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
      co_await failed_enough.wait();
      REQUIRE(f.server.srv.start_listening());
      co_await up_again.wait();
      // The failed attempts, then the one that logged in.
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
    CHECK(f.client.stats().logins == restarts + 1);
    CHECK(f.server.srv.stats().logins == restarts + 1);
    CHECK(f.server.srv.stats().active == 1);
    CHECK(f.client.state() == ami::connection_state::connected);
    // One handler call per event: the subscription was not doubled. The
    // broadcast is not ordered with the marker's action: await it, then let
    // the marker show that no second copy follows it.
    f.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", "once"}});
    co_await once.wait();
    ami::user_event ue{.event = "marker"};
    auto u = co_await f.client.send(std::move(ue));
    REQUIRE(u);
    co_await marker.wait();
    CHECK(user_events == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("regression: an event consumer that sleeps delays no other consumer and AMI keeps us connected",
          "[regression][ami]") {
  // A Ping unanswered within the keepalive period drops the connection: 500 ms
  // leaves a slow (sanitized, loaded) machine room to answer in time.
  fixture f{{.keepalive = 500ms}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    int state_changes = 0;  // after the login
    f.client.on_state([&](ami::connection_state) { ++state_changes; });
    auto sleepy = f.client.stream({.names = {"UserEvent"}});
    auto busy = f.client.stream({.names = {"UserEvent"}});
    // The sleeper takes one event, then sleeps on a timer that never fires by itself.
    asio::steady_timer long_sleep(f.ctx, std::chrono::steady_clock::time_point::max());
    flag sleeping(f.ctx);
    bool woke = false;
    spawn(f.ctx.get_executor(), [&]() -> awaitable<void> {
      auto first = co_await sleepy.next();
      if (first) sleeping.set();
      co_await long_sleep.async_wait(asio::as_tuple(asio::use_awaitable));
      woke = true;
    });
    f.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", "wake"}});
    co_await sleeping.wait();
    constexpr int n = 200;
    for (int i = 0; i < n; ++i) f.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", std::to_string(i)}});
    auto first = co_await busy.next();  // the "wake" event
    REQUIRE(first);
    int received = 0;
    for (int i = 0; i < n; ++i) {
      auto e = co_await busy.next();
      REQUIRE(e);
      if (e->get("UserEvent") == std::to_string(i)) ++received;
    }
    CHECK(received == n);
    // Keepalive Pings go on being answered while the sleeper sleeps, over
    // several periods: the client sends a Ping only after the one before it
    // was answered, and an unanswered one would have dropped the connection.
    while (f.server.srv.actions_received("Ping") < 4) co_await yield();
    CHECK_FALSE(woke);
    CHECK(f.client.stats().reconnects == 0);
    CHECK(state_changes == 0);
    CHECK(f.client.state() == ami::connection_state::connected);
    CHECK(sleepy.dropped() == 0);
    long_sleep.cancel();
    co_await yield();
    co_await f.shutdown();
  }());
}

TEST_CASE("regression: an AMI header value containing colon-space is kept whole", "[regression][ami]") {
  fixture f;
  f.server.srv.rule("Getvar", {.response = sim::ami_fields{{"Response", "Success"},
                                                           {"Variable", "SIP_HEADER"},
                                                           {"Value", "Via: SIP/2.0/UDP 10.0.0.1: rport"}}});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    ami::getvar get{.variable = "SIP_HEADER"};
    auto v = co_await f.client.send(std::move(get));
    REQUIRE(v);
    CHECK(*v == "Via: SIP/2.0/UDP 10.0.0.1: rport");
    co_await f.shutdown();
  }());
}

TEST_CASE("regression: a 2 KiB AMI header value arrives whole", "[regression][ami]") {
  std::string big(2048, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  fixture f;
  f.server.srv.rule("Getvar", {.response = sim::ami_fields{{"Response", "Success"}, {"Variable", "BIG"}, {"Value", big}}});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    ami::getvar get{.variable = "BIG"};
    auto v = co_await f.client.send(std::move(get));
    REQUIRE(v);
    CHECK(v->size() == 2048);
    CHECK(*v == big);
    // The connection goes on after it.
    auto pong = co_await f.client.send(ami::ping{});
    CHECK(pong);
    co_await f.shutdown();
  }());
}
