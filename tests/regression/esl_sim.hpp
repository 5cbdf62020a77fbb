// Shared by the regression and security tests: the inbound ESL simulator on a
// runtime thread of its own, and a client on an io_context the test thread runs.
#pragma once

#include <costrix/esl/client.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/sim/esl_server.hpp>

#include "sim_thread.hpp"
#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

namespace esl_test {

using namespace std::chrono_literals;

using esl_sim = costrix::test::sim_thread<costrix::sim::esl_server, costrix::sim::esl_server_options>;

// A simulator, and a client (options as given, the simulator's port) on an
// io_context the test thread runs.
struct esl_fixture {
  esl_sim server;
  boost::asio::io_context ctx{1};
  costrix::esl::client client;

  explicit esl_fixture(costrix::esl::client_options o = {}, costrix::sim::esl_server_options so = {})
      : server(std::move(so)), client(ctx.get_executor(), with_port(std::move(o), server.srv.port())) {}
  ~esl_fixture() {
    client.close();
    costrix::test::run_at_most(ctx, 2s);
  }
  static costrix::esl::client_options with_port(costrix::esl::client_options o, std::uint16_t port) {
    o.port = port;
    return o;
  }
  // Runs `a` until it completes; a run that does not end fails the test (a hang, not a verdict).
  template <class T>
  T run(costrix::awaitable<T> a) {
    auto f = boost::asio::co_spawn(ctx, std::move(a), boost::asio::use_future);
    if (!costrix::test::run_until(ctx, f)) FAIL("the test stalled");
    return f.get();
  }
};

}  // namespace esl_test
