// Helpers for tests that run coroutines.
#pragma once

#include <costrix/result.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <thread>

namespace costrix::test {

/// Runs `a` on `ctx` until it completes and returns its value.
template <class T>
T run(boost::asio::io_context& ctx, awaitable<T> a) {
  auto f = boost::asio::co_spawn(ctx, std::move(a), boost::asio::use_future);
  ctx.restart();
  ctx.run();
  return f.get();
}

/// A one-shot signal a callback on another thread can set and a test can wait for.
class latch_flag {
 public:
  void set() { promise_.set_value(); }
  void wait() { promise_.get_future().wait(); }

 private:
  std::promise<void> promise_;
};

/// Polls `done` (a condition another thread makes true: a counter reaching a
/// value, a process exiting) until it holds; false if it did not within `limit`.
template <class Condition>
bool eventually(Condition done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace costrix::test
