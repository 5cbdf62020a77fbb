// esl::pool over two simulated FreeSWITCH servers: the same basic_pool as ami::pool.
#include <costrix/esl/pool.hpp>

#include "regression/esl_sim.hpp"
#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace esl = costrix::esl;
namespace sim = costrix::sim;

namespace {

sim::esl_server_options answering(std::string outcome) {
  sim::esl_server_options o;
  o.originate_outcome = [outcome](std::string_view, std::string_view) { return outcome; };
  return o;
}

esl::client_options at(std::uint16_t port) {
  esl::client_options o;
  o.port = port;
  return o;
}

}  // namespace

TEST_CASE("esl pool: originates go round robin over the connected servers - a closed one is skipped",
          "[esl][pool]") {
  esl_test::esl_sim answers{answering("")};
  esl_test::esl_sim busy{answering("USER_BUSY")};
  asio::io_context ctx{1};
  esl::client a{ctx.get_executor(), at(answers.srv.port())};
  esl::client b{ctx.get_executor(), at(busy.srv.port())};
  esl::pool p{ctx.get_executor()};
  CHECK(p.add(a, "answers") == 0);
  CHECK(p.add(b) == 1);
  CHECK(p.name(1) == "1");

  // Per originate: true when answered, the cause otherwise; -1 when no server took it.
  std::vector<int> seen;
  // A named closure: the coroutine refers to its captures until it ends.
  auto body = [&]() -> awaitable<void> {
    auto none = co_await p.api("status");
    CHECK((!none && none.error() == errc::disconnected));
    auto up_a = co_await a.connect();
    auto up_b = co_await b.connect();
    REQUIRE((up_a && up_b));
    auto status = co_await p.api("status");
    CHECK(status);
    for (int i = 0; i < 4; ++i) {
      esl::api::originate call{.endpoint = "sofia/gateway/gw/5551234"};
      auto leg = co_await p.originate(std::move(call));
      seen.push_back(leg ? 1 : static_cast<int>(esl::cause_of(leg.error())));
    }
    b.close();
    for (int i = 0; i < 2; ++i) {
      esl::api::originate call{.endpoint = "sofia/gateway/gw/5551234"};
      auto leg = co_await p.originate(std::move(call));
      seen.push_back(leg ? 1 : static_cast<int>(esl::cause_of(leg.error())));
    }
    a.close();
    esl::api::originate call{.endpoint = "sofia/gateway/gw/5551234"};
    auto last = co_await p.originate(std::move(call));
    seen.push_back(last ? 1 : last.error() == errc::disconnected ? -1 : 0);
    CHECK(p.pending(0) == 0);
    CHECK(p.pending(1) == 0);
  };
  auto f = asio::co_spawn(ctx, body(), asio::use_future);
  REQUIRE(costrix::test::run_until(ctx, f));
  f.get();
  const int busy_cause = static_cast<int>(esl::cause::user_busy);
  CHECK(seen == std::vector<int>{1, busy_cause, 1, busy_cause, 1, 1, -1});
  costrix::test::run_at_most(ctx, 2s);
}
