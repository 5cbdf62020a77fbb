// costrix::graceful: restarts without dropping calls.
//   SIGTERM or SIGINT: stop accepting, let the calls in flight finish until the
//                      drain deadline, then stop the runtime (the process exits 0).
//   a second one:      exit at once (status 1).
//   SIGUSR2:           hand-over: start the successor (by default this process's
//                      own command line, so an upgraded binary at the same path)
//                      with the listening sockets passed as systemd does
//                      (LISTEN_FDS, LISTEN_PID, descriptors 3, 4, ...), then
//                      drain as on SIGTERM. The sockets stay open in the
//                      successor, so no queued connection is reset.
// docs/operations.md (Restarts) explains the use with and without systemd.
#pragma once

#include <costrix/io/runtime.hpp>
#include <costrix/result.hpp>

#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace costrix {

struct graceful_options {
  std::chrono::milliseconds drain{30'000};  ///< how long the calls in flight may run on after a stop
  /// The successor's command line on SIGUSR2; empty: this process's own
  /// (/proc/self/cmdline). argv[0] without a '/' is looked up in PATH.
  std::vector<std::string> successor;
};

/// Create it after the runtime and the servers, on the thread that runs
/// main(); destroy it after runtime::run() has returned.
class graceful {
 public:
  /// A server's stop(grace, on_stopped).
  using stop_function = std::function<void(std::chrono::milliseconds, std::function<void()>)>;

  explicit graceful(runtime& rt, graceful_options options = {});
  graceful(const graceful&) = delete;
  graceful& operator=(const graceful&) = delete;

  /// A started server (fastagi::server, esl::server): stopped on a signal,
  /// and its listening sockets handed over on SIGUSR2.
  template <class Server>
  graceful& add(Server& s) {
    return add(s.listening_fds(), [&s](std::chrono::milliseconds grace, std::function<void()> done) {
      s.stop(grace, std::move(done));
    });
  }
  graceful& add(std::vector<int> listening_fds, stop_function stop);

  /// Waits for the signals, on the runtime's first thread. Once every server
  /// has stopped after a signal, the runtime is stopped: runtime::run() returns.
  void start();

  /// Whether a signal has started the drain (any thread).
  bool draining() const noexcept { return draining_; }

 private:
  void wait();
  void on_signal(int signal);
  void drain();

  runtime& rt_;
  graceful_options options_;
  boost::asio::signal_set signals_;
  std::vector<int> fds_;
  std::vector<stop_function> stops_;
  std::size_t running_ = 0;  // servers not yet stopped (first thread only)
  std::atomic<bool> draining_{false};
};

/// Starts `argv` as a new process that inherits `fds` as descriptors 3, 4, ...
/// with LISTEN_FDS and LISTEN_PID set (systemd's socket activation protocol:
/// io::inherited_listeners() takes them in the new process). Returns its pid
/// once it has executed the program; an error if it could not (not found, not
/// executable: the reason is in the error).
result<int> spawn_with_listeners(const std::vector<std::string>& argv, std::span<const int> fds);

}  // namespace costrix
