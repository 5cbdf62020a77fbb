// AMI and ESL outbound count into metrics::library() while it is enabled.
#include <costrix/esl/server.hpp>
#include <costrix/metrics.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "ami/fixture.hpp"
#include "regression/esl_sim.hpp"
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
  const double out = now_value("costrix_ami_bytes_out_total"), in = now_value("costrix_ami_bytes_in_total");
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
  // At least the three Pings and their answers, after the banner.
  CHECK(now_value("costrix_ami_bytes_out_total") - out >= 3 * std::string_view("Action: Ping\r\n\r\n").size());
  CHECK(now_value("costrix_ami_bytes_in_total") - in >=
        std::string_view("Asterisk Call Manager/11.0.0\r\n").size() +
            3 * std::string_view("Response: Success\r\nPing: Pong\r\n\r\n").size());
  metrics::library().enable(false);
}

TEST_CASE("metrics: ESL outbound sessions and executes by application", "[metrics][esl]") {
  metrics::library().enable();
  const metrics::labels esl{{"protocol", "esl_outbound"}};
  const double sessions = now_value("costrix_sessions_total", esl);
  const double answers = now_value("costrix_esl_executes_total", {{"app", "answer"}});
  const double out = now_value("costrix_esl_bytes_out_total"), in = now_value("costrix_esl_bytes_in_total");
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
  // At least each call's connect, and its CHANNEL_DATA and answer's CHANNEL_EXECUTE_COMPLETE.
  CHECK(now_value("costrix_esl_bytes_out_total") - out >= calls * std::string_view("connect\n\n").size());
  CHECK(now_value("costrix_esl_bytes_in_total") - in >=
        calls * std::string_view("Event-Name: CHANNEL_EXECUTE_COMPLETE\nApplication: answer\n").size());
  metrics::library().enable(false);
}

TEST_CASE("metrics: an ESL inbound call FreeSWITCH refuses counts in errors_total and by its command", "[metrics][esl]") {
  metrics::library().enable();
  const metrics::labels refused{{"protocol", "esl"}, {"kind", "invalid_command"}};
  const double before = now_value("costrix_errors_total", refused);
  const metrics::labels by_name{{"command", "no_such_command"}};
  const double named = now_value("costrix_esl_api_commands_total", by_name);
  const double in = now_value("costrix_esl_bytes_in_total"), out = now_value("costrix_esl_bytes_out_total");
  {
    esl_test::esl_fixture f;
    f.run([&]() -> awaitable<void> {
      auto up = co_await f.client.connect();
      REQUIRE(up);
      auto r = co_await f.client.api("no_such_command");
      REQUIRE(!r);
      CHECK(r.error() == costrix::errc::invalid_command);
    }());
  }
  CHECK(now_value("costrix_errors_total", refused) - before == 1);
  CHECK(now_value("costrix_esl_api_commands_total", by_name) - named == 1);
  CHECK(now_value("costrix_esl_bytes_out_total") - out >= std::string_view("api no_such_command\n\n").size());
  CHECK(now_value("costrix_esl_bytes_in_total") - in >= std::string_view("-ERR command not found\n").size());
  metrics::library().enable(false);
}
