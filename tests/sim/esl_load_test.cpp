// The load generator's ESL mode against costrix's own ESL outbound server.
#include <costrix/esl/server.hpp>
#include <costrix/sim/load.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace asio = boost::asio;
namespace esl = costrix::esl;
namespace sim = costrix::sim;

namespace {

awaitable<void> script(esl::session& s) {
  co_await s.answer();
  co_await s.stream_file("ivr/welcome.wav");
  co_await s.get_variable("costrix_n");
  co_await s.hangup();
}

struct served {
  costrix::runtime rt{{.threads = 2}};
  esl::server srv{rt, {.listen = "127.0.0.1:0"}};
  served() {
    srv.route("9000", script);
    srv.route("9999", [](esl::session& s) -> awaitable<void> { co_await s.hung_up(); });  // never ends the call
    REQUIRE(srv.start());
    rt.start();
  }
  ~served() {
    costrix::test::latch_flag stopped;
    srv.stop(0ms, [&] { stopped.set(); });
    stopped.wait();
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(srv.port()); }
  asio::ip::tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), srv.port()}; }
};

}  // namespace

TEST_CASE("load esl: closed loop runs every call through the ESL outbound server", "[sim][load][esl]") {
  served s;
  // What one call of the script sends, learned from one call on its own.
  asio::io_context ctx;
  sim::esl_call one;
  auto lone = costrix::test::run(ctx, sim::call_esl_outbound(s.endpoint(), std::move(one)));
  REQUIRE(lone);
  const std::size_t per_call = lone->commands.size();
  CHECK(per_call > 4);

  sim::load_options o{.target = s.target(), .concurrency = 20, .calls = 200, .threads = 2};
  o.protocol = sim::load_protocol::esl;
  auto r = sim::run_load(o);
  CHECK(r.ok == 200);
  CHECK(r.failed == 0);
  CHECK(r.commands == 200 * per_call);
  CHECK(r.call_latency.count() == 200);
  CHECK(r.errors.empty());
  CHECK(r.json().find("\"calls_ok\":200") != std::string::npos);
  CHECK(s.srv.accepted() == 201);
}

TEST_CASE("load esl: a stalled server and a closed port are counted by kind - not fatal", "[sim][load][esl]") {
  served s;
  sim::load_options o{.target = s.target(), .concurrency = 5, .calls = 10, .stall_timeout = 100ms};
  o.protocol = sim::load_protocol::esl;
  o.esl.destination_number = "9999";
  auto r = sim::run_load(o);
  CHECK(r.ok == 0);
  CHECK(r.failed == 10);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors.begin()->first.starts_with("timeout"));

  sim::load_options closed{.target = "127.0.0.1:1", .concurrency = 2, .calls = 4};
  closed.protocol = sim::load_protocol::esl;
  auto c = sim::run_load(closed);
  CHECK(c.failed == 4);
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors.begin()->first.starts_with("disconnected"));

  o.park = true;
  auto parked = sim::run_load(o);
  CHECK(parked.errors.count("park mode is for FastAGI only") == 1);
}
