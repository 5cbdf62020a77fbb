// Helpers for tests that run coroutines.
#pragma once

#include <costrix/log.hpp>
#include <costrix/result.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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


/// Every costrix log line at `lowest` or above, for the object's lifetime;
/// then the default sink and level (warning) again.
class captured_log {
 public:
  explicit captured_log(log_level lowest = log_level::warning) {
    set_log_level(lowest);
    set_log_sink([this](log_level, std::string_view line) {
      std::lock_guard lock(m_);
      lines_.emplace_back(line);
    });
  }
  ~captured_log() {
    set_log_sink(nullptr);
    set_log_level(log_level::warning);
  }
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;

  /// The lines holding `a` (and `b`, if given).
  std::vector<std::string> containing(std::string_view a, std::string_view b = {}) {
    std::lock_guard lock(m_);
    std::vector<std::string> out;
    for (const auto& l : lines_)
      if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) out.push_back(l);
    return out;
  }
  bool contains(std::string_view a, std::string_view b = {}) { return !containing(a, b).empty(); }
  std::size_t size() {
    std::lock_guard lock(m_);
    return lines_.size();
  }

 private:
  std::mutex m_;
  std::vector<std::string> lines_;
};

/// Stops `ctx` from a thread of its own once `limit` has passed, unless
/// destroyed first. The test-side guard against a hang: a test never runs an
/// io_context with a timed wait (run_for, run_one_for), because with Asio
/// 1.81's io_uring backend a timed wait hands the kernel the address of a
/// stack variable and may take its late completion for an operation
/// (chriskohlhoff/asio#1284: a crash in a later run or at ~io_context).
class stop_after {
 public:
  stop_after(boost::asio::io_context& ctx, std::chrono::milliseconds limit)
      : thread_([this, &ctx, limit] {
          std::unique_lock lock(m_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            fired_ = true;
            ctx.stop();
          }
        }) {}
  ~stop_after() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  stop_after(const stop_after&) = delete;
  stop_after& operator=(const stop_after&) = delete;
  bool fired() const { return fired_.load(); }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;  // last: it starts once the members above exist
};

/// Runs `ctx` on this thread until it runs out of work, for `limit` at most.
inline void run_at_most(boost::asio::io_context& ctx, std::chrono::milliseconds limit) {
  ctx.restart();
  stop_after guard(ctx, limit);
  ctx.run();
}

/// Runs `ctx` on this thread until `ready()` holds. False if the context ran
/// out of work or `limit` passed first: a hang, not a verdict.
template <class Ready>
bool run_until(boost::asio::io_context& ctx, Ready ready, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  ctx.restart();
  stop_after guard(ctx, limit);
  while (!ready())
    if (ctx.run_one() == 0) return ready();
  return true;
}

/// run_until for a future: false if it is not ready in time.
template <class T>
bool run_until(boost::asio::io_context& ctx, std::future<T>& f, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  return run_until(ctx, [&] { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, limit);
}

}  // namespace costrix::test
