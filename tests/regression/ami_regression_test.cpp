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
  // A backoff that kept growing over restarts would reach seconds by the last
  // one (20 ms doubling per failed attempt, up to a minute).
  fixture f{{.reconnect = {.initial_delay = 20ms, .max_delay = 60s}}};
  f.run([&]() -> awaitable<void> {
    int connected = 0;
    flag up_again(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      if (s == ami::connection_state::connected) {
        ++connected;
        up_again.set();
      }
    });
    int user_events = 0;
    flag marker(f.ctx);
    f.client.on_event("UserEvent", [&](const ami::message& m) {
      if (m.get("UserEvent") == "marker") marker.set();
      else ++user_events;
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    constexpr int restarts = 5;
    const auto began = std::chrono::steady_clock::now();
    for (int i = 0; i < restarts; ++i) {
      up_again.reset();
      co_await f.server_call([&](auto d) { f.server.srv.stop_listening(d); });
      co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
      while (f.client.state() == ami::connection_state::connected) co_await yield();
      REQUIRE(f.server.srv.start_listening());
      co_await up_again.wait();
    }
    const auto took = std::chrono::steady_clock::now() - began;
    CHECK(took < 5s);
    CHECK(f.client.stats().reconnects == restarts);
    CHECK(f.client.stats().logins == restarts + 1);
    CHECK(f.server.srv.stats().logins == restarts + 1);
    CHECK(f.server.srv.stats().active == 1);
    CHECK(f.client.state() == ami::connection_state::connected);
    // One handler call per event: the subscription was not doubled.
    f.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", "once"}});
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
  fixture f{{.keepalive = 20ms}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto sleepy = f.client.stream({.names = {"UserEvent"}});
    auto busy = f.client.stream({.names = {"UserEvent"}});
    // The sleeper takes one event, then sleeps on a timer that never fires by itself.
    asio::steady_timer long_sleep(f.ctx, std::chrono::steady_clock::time_point::max());
    flag sleeping(f.ctx);
    spawn(f.ctx.get_executor(), [&]() -> awaitable<void> {
      auto woke = co_await sleepy.next();
      if (woke) sleeping.set();
      co_await long_sleep.async_wait(asio::as_tuple(asio::use_awaitable));
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
    // Keepalive Pings go on being answered while the sleeper sleeps.
    while (f.server.srv.actions_received("Ping") < 3) co_await yield();
    CHECK(f.client.stats().reconnects == 0);
    CHECK(f.client.state() == ami::connection_state::connected);
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
