// A simulator (sim::ami_server, sim::esl_server) on a runtime thread of its own,
// started for a test to connect to and stopped when the test is done.
#pragma once

#include <costrix/io/runtime.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <utility>

namespace costrix::test {

/// Where the simulator listens: a free loopback port (`srv.port()` tells
/// which), or the options' own `listen` (a test that restarts on one port).
enum class listen_at { free_port, as_given };

template <class Server, class Options>
struct sim_thread {
  costrix::runtime rt{{.threads = 1}};
  Server srv;

  explicit sim_thread(Options o = {}, listen_at where = listen_at::free_port) : srv(rt, placed(std::move(o), where)) {
    REQUIRE(srv.start());
    rt.start();
  }
  ~sim_thread() {
    latch_flag stopped;
    srv.stop([&] { stopped.set(); });
    stopped.wait();
    rt.stop();
    rt.join();
  }

 private:
  static Options placed(Options o, listen_at where) {
    if (where == listen_at::free_port) o.listen = "127.0.0.1:0";
    return o;
  }
};

}  // namespace costrix::test
