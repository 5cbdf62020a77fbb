// An AMI server restart while actions wait: each fails with disconnected at
// once, and the client reconnects and logs in again by itself.
#include "ami/fixture.hpp"

#include <costrix/ami/actions.hpp>

#include <vector>

using namespace ami_test;
using costrix::errc;

TEST_CASE("fault: AMI server restart with actions in flight - each fails disconnected - the client logs in again",
          "[fault][ami]") {
  fixture f{{.action_timeout = 0ms, .reconnect = {.initial_delay = 10ms}}};
  f.server.srv.rule("Ping", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    constexpr int n = 50;
    std::vector<costrix::result<ami::response>> got(n);
    int done = 0;
    flag all(f.ctx);
    for (int i = 0; i < n; ++i)
      f.client.send(ami::ping{}, [&, i](costrix::result<ami::response> r) {
        got[i] = std::move(r);
        if (++done == n) all.set();
      });
    while (f.server.srv.actions_received("Ping") < n) co_await yield();
    flag relogged(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      if (s == ami::connection_state::connected) relogged.set();
    });
    co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
    co_await all.wait();
    for (const auto& r : got) {
      REQUIRE_FALSE(r);
      CHECK(r.error() == errc::disconnected);
    }
    co_await relogged.wait();
    CHECK(f.client.stats().logins == 2);
    CHECK(f.server.srv.stats().logins == 2);
    f.server.srv.clear_rules();
    auto pong = co_await f.client.send(ami::ping{});
    CHECK(pong);
    co_await f.shutdown();
  }());
}
