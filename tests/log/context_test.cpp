// Log lines about a call carry its context; spdlog takes them in one call; no secret is logged.
#include <costrix/agi/classic.hpp>
#include <costrix/ami/async_agi.hpp>
#include <costrix/esl/server.hpp>
#include <costrix/fastagi/server.hpp>
#include <costrix/log.hpp>
#include <costrix/metrics.hpp>
#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "ami/fixture.hpp"
#include "scripted_peer.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#ifdef COSTRIX_TEST_SPDLOG
#include <costrix/log/spdlog.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#endif

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace sim = costrix::sim;
using costrix::awaitable;
using costrix::log_level;

namespace {


}  // namespace

TEST_CASE("log: a FastAGI call's line carries its route - channel - uniqueid and peer", "[log][fastagi]") {
  costrix::test::captured_log log{log_level::debug};
  costrix::runtime rt{{.threads = 1}};
  costrix::fastagi::server srv{rt, {.listen = "127.0.0.1:0"}};
  REQUIRE(srv.start());
  rt.start();
  asio::io_context client;
  sim::agi_call call{.script = "nowhere", .channel = "PJSIP/ctx-0001", .uniqueid = "1700000042.7"};
  auto r = costrix::test::run(client, sim::call_fastagi({asio::ip::make_address("127.0.0.1"), srv.port()}, call));
  REQUIRE(r);
  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();
  rt.stop();
  rt.join();
  auto lines = log.containing("no route for script");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("fastagi: no route for script \"nowhere\" route=nowhere channel=PJSIP/ctx-0001 "
                             "uniqueid=1700000042.7 peer=127.0.0.1:"));
}

TEST_CASE("log: an ESL outbound call's line carries its Unique-ID and Channel-Name", "[log][esl]") {
  costrix::test::captured_log log{log_level::debug};
  costrix::runtime rt{{.threads = 1}};
  costrix::esl::server srv{rt, {.listen = "127.0.0.1:0"}};
  REQUIRE(srv.start());
  rt.start();
  asio::io_context client;
  sim::esl_call call;
  call.uuid = "0f1e2d3c-0000-4000-8000-000000000042";
  call.destination_number = "7777";
  auto r = costrix::test::run(client, sim::call_esl_outbound({asio::ip::make_address("127.0.0.1"), srv.port()}, call));
  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();
  rt.stop();
  rt.join();
  auto lines = log.containing("esl: no route for");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(" route=7777 ") != std::string::npos);
  CHECK(lines[0].find(" uniqueid=0f1e2d3c-0000-4000-8000-000000000042 peer=127.0.0.1:") != std::string::npos);
}

TEST_CASE("log: an AsyncAGI script's line carries its channel and uniqueid", "[log][ami][asyncagi]") {
  costrix::test::captured_log log{log_level::debug};
  ami_test::fixture f{{.events = "agi"}};
  costrix::ami::async_agi agi{f.client, [](costrix::agi::session&) -> awaitable<void> {
                                throw std::runtime_error("script failure");
                                co_return;
                              }};
  auto ended = std::make_shared<ami_test::flag>(f.ctx);
  f.client.on_event("AsyncAGIEnd", [ended](const costrix::ami::message&) { ended->set(); });
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    sim::agi_call call;
    call.channel = "PJSIP/async-ctx-00000007";
    call.uniqueid = "1700000099.3";
    f.server.srv.start_async_agi(call);
    co_await ended->wait();  // the script threw, then ASYNCAGI BREAK let the channel go
  }());
  auto lines = log.containing("asyncagi: script threw");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "asyncagi: script threw: script failure channel=PJSIP/async-ctx-00000007 uniqueid=1700000099.3");
}

TEST_CASE("log: an AsyncAGIStart refused for its missing Env names the channel and uniqueid of the event",
          "[log][ami][asyncagi]") {
  costrix::test::captured_log log{log_level::debug};
  ami_test::fixture f{{.events = "agi"}};
  costrix::ami::async_agi agi{f.client, [](costrix::agi::session&) -> awaitable<void> { co_return; }};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.broadcast({{"Event", "AsyncAGIStart"},
                            {"Privilege", "agi,all"},
                            {"Channel", "PJSIP/noenv-00000008"},
                            {"Uniqueid", "1700000099.4"}});
    // The refusal is logged before the ASYNCAGI BREAK it sends.
    asio::steady_timer pause(f.ctx);
    for (int i = 0; i < 5000 && f.server.srv.actions_received("AGI") < 1; ++i) {
      pause.expires_after(1ms);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }());
  CHECK(agi.stats().refused == 1);
  auto lines = log.containing("asyncagi: cannot start a script");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "asyncagi: cannot start a script: no Env in AsyncAGIStart channel=PJSIP/noenv-00000008 "
                    "uniqueid=1700000099.4");
}

TEST_CASE("log: a classic AGI script's line carries its request - channel and uniqueid", "[log][agi][classic]") {
  costrix::test::captured_log log{log_level::debug};
  costrix::test::socket_pair pair;
  costrix::test::peer_io asterisk(pair.far());
  // The whole environment fits in the socket's buffer: run_classic reads it on this thread.
  REQUIRE(asterisk.send("agi_request: /var/lib/asterisk/agi-bin/ctx.agi\nagi_channel: PJSIP/classic-00000009\n"
                        "agi_uniqueid: 1700000099.5\n\n"));
  int status = costrix::agi::run_classic(
      [](costrix::agi::session&) -> awaitable<void> {
        throw std::runtime_error("script failure");
        co_return;
      },
      {}, pair.near(), pair.near());
  CHECK(status == 1);
  auto lines = log.containing("agi: script threw");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "agi: script threw: script failure route=/var/lib/asterisk/agi-bin/ctx.agi "
                    "channel=PJSIP/classic-00000009 uniqueid=1700000099.5");
}

TEST_CASE("log: context values with spaces are quoted and empty ones left out", "[log]") {
  costrix::test::captured_log log{log_level::debug};
  costrix::log(log_level::info, {.route = "a b", .uniqueid = "x\"y"}, "line");
  auto lines = log.containing("line");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "line route=\"a b\" uniqueid=\"x\\\"y\"");
}

TEST_CASE("log: AMI login lines never carry the secret", "[log][ami]") {
  costrix::test::captured_log log{log_level::debug};
  costrix::metrics::library().enable();
  {
    ami_test::fixture f{{.secret = "Sup3r-Secret-Value"}};
    f.run([&]() -> awaitable<void> {
      auto r = co_await f.client.connect();
      CHECK(r.error() == costrix::errc::auth_failed);
      co_await f.shutdown();
    }());
  }
  CHECK_FALSE(log.contains("Sup3r-Secret-Value"));
  CHECK(costrix::metrics::to_prometheus(costrix::metrics::library().collect()).find("Sup3r") == std::string::npos);
  costrix::metrics::library().enable(false);
}

#ifdef COSTRIX_TEST_SPDLOG
TEST_CASE("log: one call routes costrix lines into a spdlog logger", "[log]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("costrix-test", sink);
  logger->set_pattern("%l|%v");
  logger->set_level(spdlog::level::info);
  costrix::log_to_spdlog(logger);
  costrix::log(log_level::debug, "below the logger's level");
  costrix::log(log_level::warning, {.channel = "PJSIP/x-1", .uniqueid = "1.2"}, "esl: something");
  costrix::log_to_spdlog(nullptr);
  costrix::set_log_level(log_level::warning);
  CHECK(out.str() == "warning|esl: something channel=PJSIP/x-1 uniqueid=1.2\n");
}
#endif
