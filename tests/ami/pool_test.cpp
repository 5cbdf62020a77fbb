// ami::pool over two simulated Asterisks: round robin and least pending,
// servers that are not connected skipped, events merged and tagged.
#include <costrix/ami/pool.hpp>

#include "fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

using namespace ami_test;
using costrix::errc;

namespace {

// A second simulator, and a client of it on the fixture's io_context.
struct second {
  sim_server server;
  ami::client client;
  explicit second(fixture& f, ami::client_options o = {})
      : client(f.ctx.get_executor(), fixture::options(std::move(o), server.srv.port())) {}
};

}  // namespace

TEST_CASE("ami pool: round robin over connected servers - events tagged with their server - a lost server is skipped",
          "[ami][pool]") {
  fixture f({.reconnect = {.enabled = false}});
  second b(f);
  ami::pool p(f.ctx.get_executor());
  CHECK(p.add(f.client, "a") == 0);
  CHECK(p.add(b.client) == 1);
  CHECK(p.name(0) == "a");
  CHECK(p.name(1) == "1");

  f.run([&]() -> awaitable<void> {
    // Nothing connected yet: refused at once.
    ami::ping early;
    auto none = co_await p.send(std::move(early));
    REQUIRE(!none);
    CHECK(none.error() == errc::disconnected);

    auto up_a = co_await f.client.connect();
    REQUIRE(up_a);
    auto up_b = co_await b.client.connect();
    REQUIRE(up_b);

    for (int k = 0; k < 4; ++k) {
      ami::ping pg;
      auto r = co_await p.send(std::move(pg));
      REQUIRE(r);
    }
    CHECK(f.server.srv.actions_received("Ping") == 2);
    CHECK(b.server.srv.actions_received("Ping") == 2);

    // Events from both, tagged.
    std::vector<std::pair<std::size_t, std::string>> seen;
    flag both(f.ctx);
    auto sub = p.on_event("UserEvent", [&](std::size_t server, const ami::message& m) {
      seen.emplace_back(server, std::string(m.get("UserEvent").value_or("")));
      if (seen.size() == 2) both.set();
    });
    f.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", "from-a"}});
    b.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", "from-b"}});
    co_await both.wait();
    std::sort(seen.begin(), seen.end());
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == std::pair<std::size_t, std::string>{0, "from-a"});
    CHECK(seen[1] == std::pair<std::size_t, std::string>{1, "from-b"});
    p.unsubscribe(sub);

    // Server a goes away mid-way: every action goes to b.
    flag lost(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      if (s != ami::connection_state::connected) lost.set();
    });
    co_await f.server_call([&](auto done) { f.server.srv.disconnect_all(std::move(done)); });
    co_await lost.wait();
    for (int k = 0; k < 3; ++k) {
      ami::ping pg;
      auto r = co_await p.send(std::move(pg));
      REQUIRE(r);
    }
    CHECK(f.server.srv.actions_received("Ping") == 2);
    CHECK(b.server.srv.actions_received("Ping") == 5);

    // Typed replies come through as from a client.
    ami::getvar gv{.variable = "NOPE"};
    auto v = co_await p.send(std::move(gv));
    REQUIRE(v);
    CHECK(v->empty());

    b.client.close();
    ami::ping last;
    auto gone = co_await p.send(std::move(last));
    REQUIRE(!gone);
    CHECK(gone.error() == errc::disconnected);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami pool: least pending avoids a server whose actions wait", "[ami][pool]") {
  fixture f;
  second b(f);
  ami::pool p(f.ctx.get_executor(), {.policy = ami::pool_policy::least_pending});
  p.add(f.client);
  p.add(b.client);
  f.server.srv.rule("Ping", {.never_answer = true});

  f.run([&]() -> awaitable<void> {
    auto up_a = co_await f.client.connect();
    REQUIRE(up_a);
    auto up_b = co_await b.client.connect();
    REQUIRE(up_b);

    bool stuck_done = false;
    bool stuck_disconnected = false;
    spawn(f.ctx.get_executor(), [&]() -> awaitable<void> {
      ami::ping pg;
      auto r = co_await p.send(std::move(pg));  // ties go to the lowest index: a, which never answers
      if (!r) stuck_disconnected = r.error() == errc::disconnected;
      stuck_done = true;
    });
    while (p.pending(0) == 0) co_await yield();

    for (int k = 0; k < 2; ++k) {
      ami::ping pg;
      auto r = co_await p.send(std::move(pg));
      REQUIRE(r);
    }
    CHECK(b.server.srv.actions_received("Ping") == 2);
    CHECK(p.pending(0) == 1);
    CHECK(p.pending(1) == 0);

    f.client.close();
    while (!stuck_done) co_await yield();
    CHECK(stuck_disconnected);
    CHECK(p.pending(0) == 0);
    co_await f.shutdown();
  }());
}
