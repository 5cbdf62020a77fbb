// Helpers for tests that run coroutines.
#pragma once

#include <costrix/result.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>

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

}  // namespace costrix::test
