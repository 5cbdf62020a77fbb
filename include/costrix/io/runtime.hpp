// costrix::runtime: one reactor (io_context) per thread, one thread per core.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace costrix {

struct runtime_options {
  unsigned threads = 0;  ///< 0: one per hardware core
  bool pin = false;      ///< pin thread i to core i (modulo the cores available)
};

/// Owns N threads, each running its own `io_context` (concurrency hint 1), so
/// everything on one core runs without locks. Work stays on the context it was
/// started on; servers put one listener on each.
class runtime {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  explicit runtime(runtime_options options = {});
  ~runtime();  ///< stop() and join()
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  unsigned size() const noexcept { return static_cast<unsigned>(cores_.size()); }
  boost::asio::io_context& context(unsigned i) noexcept { return cores_[i]->context; }
  executor_type executor(unsigned i) noexcept { return cores_[i]->context.get_executor(); }

  /// Starts the threads (idempotent). They run until stop().
  void start();
  /// start(), then block until stop() is called and every thread has returned.
  void run();
  /// Asks every context to stop; callable from any thread, including the runtime's own.
  void stop() noexcept;
  /// Waits for the threads; must not be called from one of them.
  void join();

 private:
  struct core {
    boost::asio::io_context context{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{context.get_executor()};
  };
  runtime_options options_;
  std::vector<std::unique_ptr<core>> cores_;
  std::vector<std::thread> threads_;
};

}  // namespace costrix
