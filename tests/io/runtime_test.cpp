#include <costrix/io/runtime.hpp>

#include "support.hpp"

#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <thread>

TEST_CASE("runtime runs one thread per context and stops cleanly", "[io][runtime]") {
  costrix::runtime rt{{.threads = 3}};
  REQUIRE(rt.size() == 3);
  rt.start();
  std::mutex m;
  std::set<std::thread::id> threads;
  std::vector<std::promise<bool>> done(3);  // Catch's assertions stay on this thread
  for (unsigned i = 0; i < 3; ++i) {
    boost::asio::post(rt.executor(i), [&, i] {
      {
        std::lock_guard lock(m);
        threads.insert(std::this_thread::get_id());
      }
      done[i].set_value(rt.context(i).get_executor().running_in_this_thread());
    });
  }
  for (auto& d : done) CHECK(d.get_future().get());
  CHECK(threads.size() == 3);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  rt.stop();
  rt.join();
}

TEST_CASE("runtime defaults to the hardware cores and can pin threads", "[io][runtime]") {
  costrix::runtime rt{{.pin = true}};
  CHECK(rt.size() == std::max(1u, std::thread::hardware_concurrency()));
  std::promise<void> ran;
  rt.start();
  boost::asio::post(rt.executor(rt.size() - 1), [&] { ran.set_value(); });
  ran.get_future().wait();
  // stop() from one of the runtime's own threads, then join from outside.
  boost::asio::post(rt.executor(0), [&] { rt.stop(); });
  rt.join();
}
