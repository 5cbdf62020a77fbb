// Which connections the FastAGI and outbound ESL servers admit: the allow
// list of peer networks and the session limit, checked over loopback with the
// simulators as callers.
#include <costrix/esl/server.hpp>
#include <costrix/fastagi/server.hpp>
#include <costrix/log.hpp>
#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace sim = costrix::sim;
namespace esl = costrix::esl;
namespace fastagi = costrix::fastagi;

namespace {


// A server of either kind on a 2-thread runtime, stopped and drained at the end.
template <class Server, class Options>
struct served {
  costrix::runtime rt{{.threads = 2}};
  Server srv;
  asio::io_context client;
  bool started = false;

  explicit served(Options o) : srv(rt, with_free_port(std::move(o))) {}
  ~served() {
    costrix::test::latch_flag stopped;
    srv.stop(0ms, [&] { stopped.set(); });
    if (started) stopped.wait();
    rt.stop();
    rt.join();
  }
  void start() {
    REQUIRE(srv.start());
    rt.start();
    started = true;
  }
  asio::ip::tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), srv.port()}; }
  static Options with_free_port(Options o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
};

using agi_served = served<fastagi::server, fastagi::server_options>;
using esl_served = served<esl::server, esl::server_options>;

awaitable<void> agi_noop(costrix::agi::session& s) { co_await s.noop(); }
awaitable<void> esl_answer(esl::session& s) { co_await s.answer(); }

costrix::result<sim::call_report> agi_call(agi_served& s) {
  return costrix::test::run(s.client, sim::call_fastagi(s.endpoint(), {.script = "noop"}));
}
costrix::result<sim::esl_report> esl_call(esl_served& s) {
  return costrix::test::run(s.client, sim::call_esl_outbound(s.endpoint(), sim::esl_call{}));
}

}  // namespace

TEST_CASE("fastagi: a peer outside the allow list is closed at once - counted and logged with its address",
          "[security][fastagi]") {
  costrix::test::captured_log log;
  agi_served s{{.allow = {"10.0.0.0/8", "::1/128"}}};
  s.srv.route("noop", agi_noop);
  s.start();
  auto r = agi_call(s);
  CHECK((!r || r->exchanges.empty()));  // closed before any command
  CHECK(s.srv.refused() == 1);
  CHECK(s.srv.active() == 0);
  CHECK(log.contains("not in the allow list", "127.0.0.1"));
}

TEST_CASE("fastagi: a peer inside the allow list is served", "[security][fastagi]") {
  agi_served s{{.allow = {"10.0.0.0/8", "127.0.0.0/8"}}};
  s.srv.route("noop", agi_noop);
  s.start();
  auto r = agi_call(s);
  REQUIRE(r);
  REQUIRE(r->exchanges.size() == 1);
  CHECK(r->exchanges[0].command == "NOOP");
  CHECK(s.srv.refused() == 0);
}

TEST_CASE("fastagi: a bad network in the allow list fails start() with invalid_argument", "[security][fastagi]") {
  agi_served s{{.allow = {"127.0.0.1", "10.0.0.0/33"}}};
  auto r = s.srv.start();
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::invalid_argument);
  CHECK(r.error().message.find("10.0.0.0/33") != std::string::npos);
}

TEST_CASE("esl server: a peer outside the allow list is closed at once - counted and logged with its address",
          "[security][esl]") {
  costrix::test::captured_log log;
  esl_served s{{.allow = {"192.0.2.0/24"}}};
  s.srv.default_route(esl_answer);
  s.start();
  auto r = esl_call(s);
  CHECK((!r || r->commands.empty()));  // closed before `connect`
  CHECK(s.srv.refused() == 1);
  CHECK(log.contains("not in the allow list", "127.0.0.1"));
}

TEST_CASE("esl server: a peer inside the allow list is served", "[security][esl]") {
  esl_served s{{.allow = {"127.0.0.1"}}};
  s.srv.default_route(esl_answer);
  s.start();
  auto r = esl_call(s);
  REQUIRE(r);
  REQUIRE_FALSE(r->executed.empty());
  CHECK(r->executed[0].app == "answer");
  CHECK(s.srv.refused() == 0);
}

TEST_CASE("esl server: a bad network in the allow list fails start() with invalid_argument", "[security][esl]") {
  esl_served s{{.allow = {"not-a-network"}}};
  auto r = s.srv.start();
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::invalid_argument);
  CHECK(r.error().message.find("not-a-network") != std::string::npos);
}

TEST_CASE("fastagi: over max_sessions a call is refused and the next one is served once a slot is free",
          "[security][fastagi]") {
  agi_served s{{.max_sessions = 1}};
  std::promise<void> entered;
  std::atomic<asio::steady_timer*> hold{nullptr};
  s.srv.route("hold", [&](costrix::agi::session& sess) -> awaitable<void> {
    asio::steady_timer until_released{co_await asio::this_coro::executor, asio::steady_timer::time_point::max()};
    hold = &until_released;
    entered.set_value();
    co_await until_released.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await sess.noop();
  });
  s.srv.route("noop", agi_noop);
  s.start();
  auto first = std::async(std::launch::async, [&] {
    asio::io_context ctx;
    return costrix::test::run(ctx, sim::call_fastagi(s.endpoint(), {.script = "hold"}));
  });
  entered.get_future().wait();
  auto refused = agi_call(s);
  CHECK((!refused || refused->exchanges.empty()));
  CHECK(s.srv.refused() == 1);
  asio::post(hold.load()->get_executor(), [&] { hold.load()->cancel(); });
  REQUIRE(first.get());
  // The slot is free once the first call has ended: the next call is served.
  auto next = agi_call(s);
  for (int attempt = 0; attempt < 100 && (!next || next->exchanges.empty()); ++attempt) next = agi_call(s);
  REQUIRE(next);
  REQUIRE(next->exchanges.size() == 1);
  CHECK(next->exchanges[0].command == "NOOP");
}

TEST_CASE("esl server: over max_sessions a call is refused and the next one is served once a slot is free",
          "[security][esl]") {
  esl_served s{{.max_sessions = 1}};
  std::promise<void> entered;
  std::atomic<asio::steady_timer*> hold{nullptr};
  std::atomic<bool> holding{true};
  s.srv.default_route([&](esl::session& sess) -> awaitable<void> {
    if (!holding.exchange(false)) {
      co_await sess.answer();
      co_return;
    }
    asio::steady_timer until_released{co_await asio::this_coro::executor, asio::steady_timer::time_point::max()};
    hold = &until_released;
    entered.set_value();
    co_await until_released.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await sess.answer();
  });
  s.start();
  auto first = std::async(std::launch::async, [&] {
    asio::io_context ctx;
    return costrix::test::run(ctx, sim::call_esl_outbound(s.endpoint(), sim::esl_call{}));
  });
  entered.get_future().wait();
  auto refused = esl_call(s);
  CHECK((!refused || refused->commands.empty()));  // closed before `connect`
  CHECK(s.srv.refused() == 1);
  asio::post(hold.load()->get_executor(), [&] { hold.load()->cancel(); });
  auto held = first.get();
  REQUIRE(held);
  REQUIRE_FALSE(held->executed.empty());
  CHECK(held->executed[0].app == "answer");
  // The slot is free once the first call has ended: the next call is served.
  auto next = esl_call(s);
  for (int attempt = 0; attempt < 100 && (!next || next->executed.empty()); ++attempt) next = esl_call(s);
  REQUIRE(next);
  REQUIRE_FALSE(next->executed.empty());
  CHECK(next->executed[0].app == "answer");
}

TEST_CASE("security: the FastAGI and ESL outbound servers listen on loopback unless told otherwise", "[security]") {
  auto host_is_loopback = [](const std::string& listen) {
    auto colon = listen.rfind(':');
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(listen.substr(0, colon), ec);
    return !ec && address.is_loopback();
  };
  CHECK(host_is_loopback(costrix::fastagi::server_options{}.listen));
  CHECK(host_is_loopback(costrix::esl::server_options{}.listen));
}
