// AMI and ESL outbound count into metrics::library() while it is enabled.
#include <costrix/esl/server.hpp>
#include <costrix/metrics.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "ami/fixture.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace metrics = costrix::metrics;
using costrix::awaitable;

namespace {
double now_value(std::string_view name, const metrics::labels& l = {}) {
  return metrics::library().collect().value(name, l).value_or(0);
}
}  // namespace

TEST_CASE("metrics: AMI actions by name and in flight", "[metrics][ami]") {
  metrics::library().enable();
  const double pings = now_value("costrix_ami_actions_total", {{"action", "Ping"}});
  {
    ami_test::fixture f;
    f.run([&]() -> awaitable<void> {
      auto r = co_await f.client.connect();
      REQUIRE(r);
      for (int i = 0; i < 3; ++i) {
        auto pong = co_await f.client.send(costrix::ami::ping{});
        CHECK(pong);
      }
      co_await f.shutdown();
    }());
  }
  CHECK(now_value("costrix_ami_actions_total", {{"action", "Ping"}}) - pings == 3);
  CHECK(now_value("costrix_ami_actions_in_flight") == 0);
  metrics::library().enable(false);
}

TEST_CASE("metrics: ESL outbound sessions and executes by application", "[metrics][esl]") {
  metrics::library().enable();
  const metrics::labels esl{{"protocol", "esl_outbound"}};
  const double sessions = now_value("costrix_sessions_total", esl);
  const double answers = now_value("costrix_esl_executes_total", {{"app", "answer"}});
  costrix::runtime rt{{.threads = 1}};
  costrix::esl::server srv{rt, {.listen = "127.0.0.1:0"}};
  srv.default_route([](costrix::esl::session& s) -> awaitable<void> {
    co_await s.answer();
    co_await s.hangup();
  });
  REQUIRE(srv.start());
  rt.start();
  asio::io_context client;
  constexpr int calls = 3;
  for (int i = 0; i < calls; ++i) {
    costrix::sim::esl_call call;
    auto r = costrix::test::run(client, costrix::sim::call_esl_outbound({asio::ip::make_address("127.0.0.1"), srv.port()}, call));
    CHECK(r);
  }
  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();
  rt.stop();
  rt.join();
  CHECK(now_value("costrix_sessions_total", esl) - sessions == calls);
  CHECK(now_value("costrix_sessions_active", esl) == 0);
  CHECK(now_value("costrix_esl_executes_total", {{"app", "answer"}}) - answers == calls);
  metrics::library().enable(false);
}
