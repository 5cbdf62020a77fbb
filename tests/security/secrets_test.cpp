// Credentials never reach a log line or an error message: a wrong AMI secret
// and a wrong ESL password, with every log line captured at debug level (the
// simulators run in this process, so their lines are captured too).
#include <costrix/esl/client.hpp>
#include <costrix/log.hpp>
#include <costrix/sim/esl_server.hpp>

#include "ami/fixture.hpp"
#include "regression/esl_sim.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace ami_test;
using costrix::errc;
namespace esl = costrix::esl;

namespace {


constexpr const char* secret = "Zq9-very-secret-Xw4";

using ami_sim = costrix::test::sim_thread<sim::ami_server, sim::ami_server_options>;
using esl_sim = costrix::test::sim_thread<sim::esl_server, sim::esl_server_options>;

// Runs `ctx` until a log line holds both words (the client's reconnection
// timer keeps it busy meanwhile); none within 20 s fails the test.
void run_until_logged(asio::io_context& ctx, costrix::test::captured_log& log, std::string_view a, std::string_view b) {
  if (!costrix::test::run_until(ctx, [&] { return log.contains(a, b); }, 20s))
    FAIL("no log line with " << a << " and " << b);
}

// The client logs in, then the server comes back with another secret: the
// client's reconnection attempts fail their login, and each failure is logged.
template <class Client, class Sim, class ClientOptions, class SimOptions>
void reconnect_refused(costrix::test::captured_log& log, ClientOptions co, SimOptions accepting, SimOptions refusing) {
  auto first = std::make_unique<Sim>(accepting);
  const auto port = first->srv.port();
  asio::io_context ctx{1};
  co.port = port;
  co.reconnect.initial_delay = 10ms;
  co.reconnect.max_delay = 20ms;
  Client client(ctx.get_executor(), co);
  // Awaited on `ctx`, so that the completion wakes the loop below.
  // (The client is a parameter, kept in the coroutine's frame: a capture would end with the lambda.)
  auto up = asio::co_spawn(ctx, [](Client& c) -> awaitable<costrix::result<void>> { co_return co_await c.connect(); }(client),
                           asio::use_future);
  if (!costrix::test::run_until(ctx, up)) FAIL("the test stalled");
  REQUIRE(up.get());
  first.reset();
  refusing.listen = "127.0.0.1:" + std::to_string(port);
  Sim second(refusing, costrix::test::listen_at::as_given);
  run_until_logged(ctx, log, "reconnecting", "authentication failed");
  client.close();
  costrix::test::run_at_most(ctx, 1s);
}

}  // namespace

TEST_CASE("security: a wrong AMI secret appears in no log line and no error", "[security][ami]") {
  auto method = GENERATE(ami::login_method::md5, ami::login_method::plain);
  costrix::test::captured_log log{costrix::log_level::debug};
  std::vector<std::string> errors;
  {
    fixture f{{.secret = secret, .login = method}};
    f.run([&]() -> awaitable<void> {
      auto r = co_await f.client.connect();
      REQUIRE(!r);
      CHECK(r.error() == errc::auth_failed);
      errors.push_back(r.error().what());
      errors.push_back(r.error().message);
      // Actions on the failed client fail too: their errors must not carry it either.
      auto ping = co_await f.client.send(ami::ping{});
      REQUIRE(!ping);
      errors.push_back(ping.error().what());
    }());
  }
  // Reconnecting after a success logs each refused login.
  reconnect_refused<ami::client, ami_sim>(
      log, ami::client_options{.username = "admin", .secret = secret, .login = method},
      sim::ami_server_options{.accounts = {{"admin", secret}}}, sim::ami_server_options{.accounts = {{"admin", "another"}}});
  CHECK(log.size() > 0);
  CHECK(log.containing(secret).empty());
  for (const auto& e : errors) CHECK(e.find(secret) == std::string::npos);
}

TEST_CASE("security: a wrong ESL password appears in no log line and no error", "[security][esl]") {
  const bool userauth = GENERATE(false, true);
  costrix::test::captured_log log{costrix::log_level::debug};
  std::vector<std::string> errors;
  {
    esl::client_options o{.password = secret};
    if (userauth) {
      o.user = "1000";
      o.domain = "default";
    }
    esl_test::esl_fixture f{o, {.password = "ClueCon", .users = {{"1000@default", "right"}}}};
    f.run([&]() -> awaitable<void> {
      auto r = co_await f.client.connect();
      REQUIRE(!r);
      CHECK(r.error() == errc::auth_failed);
      errors.push_back(r.error().what());
      auto api = co_await f.client.api("status");
      REQUIRE(!api);
      errors.push_back(api.error().what());
    }());
  }
  esl::client_options again{.password = secret};
  if (userauth) {
    again.user = "1000";
    again.domain = "default";
  }
  reconnect_refused<esl::client, esl_sim>(
      log, again, sim::esl_server_options{.password = secret, .users = {{"1000@default", secret}}},
      sim::esl_server_options{.password = "another", .users = {{"1000@default", "another"}}});
  CHECK(log.size() > 0);
  CHECK(log.containing(secret).empty());
  for (const auto& e : errors) CHECK(e.find(secret) == std::string::npos);
}

TEST_CASE("security: an AMI server that refuses the MD5 Challenge is never sent the secret", "[security][ami]") {
  fixture f;
  f.server.srv.rule("Challenge", {.response = sim::ami_fields{{"Response", "Error"}, {"Message", "Must specify AuthType"}}});
  std::optional<costrix::error> refused;
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    if (!r) refused = r.error();
  }());
  REQUIRE(refused);
  CHECK(refused->code == errc::auth_failed);
  CHECK_THAT(refused->message, Catch::Contains("Must specify AuthType") && Catch::Contains("login_method::plain"));
  CHECK(f.server.srv.actions_received("Login") == 0);  // no plain Login behind the user's back
}
