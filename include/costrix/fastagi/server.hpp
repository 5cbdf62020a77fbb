// fastagi::server: the TCP server Asterisk's AGI(agi://host/script) connects to.
#pragma once

#include <costrix/agi/session.hpp>
#include <costrix/io/allow_list.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/result.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

namespace costrix::fastagi {

/// A script: runs one call. When it returns, the connection closes and
/// Asterisk continues the dialplan.
using handler = std::function<awaitable<void>(agi::session&)>;

struct server_options {
  std::string listen = "127.0.0.1:4573";  ///< port 0 picks a free port: see port()
  std::size_t max_sessions = 10'000;      ///< concurrent sessions; more are refused (closed) with a log line
  /// Peer networks served: "10.0.0.0/8", "::1/128", "192.0.2.7" (one address).
  /// Empty: every peer that can reach `listen`. Another peer is closed at once,
  /// counted in refused() and logged with its address. A bad entry fails start().
  std::vector<std::string> allow = {};
  agi::session_options session{};
  int backlog = 4096;
  /// Already-listening sockets to accept on instead of binding `listen`
  /// (systemd socket activation or a hand-over: io::inherited_listeners(), or
  /// a descriptor given on the command line). start() takes them over; see
  /// io::open_listeners for how they are spread over the cores.
  std::vector<int> listen_fds;
};

/// Listens on every core of the runtime (SO_REUSEPORT); a call stays on the
/// core that accepted it. Routes match the script path of agi://host/PATH?query:
/// exact names and regular expressions, tried in the order they were added,
/// first match wins, then the default route. Routes may change while serving.
class server {
 public:
  server(runtime& rt, server_options options = {});
  /// Call stop() and wait for on_stopped, or stop the runtime, before destroying it.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  server& route(std::string script, handler h);
  server& route(std::regex pattern, handler h);
  server& default_route(handler h);
  /// Removes every route (and the default route).
  void clear_routes();

  /// Binds and starts accepting on every core.
  result<void> start();
  /// The port bound by start() (useful with "127.0.0.1:0").
  std::uint16_t port() const noexcept { return port_; }
  /// The listening descriptors, one per core, set by start(): what a hand-over
  /// passes to the process that takes over (costrix::graceful). They stay
  /// owned by the server.
  const std::vector<int>& listening_fds() const noexcept { return listening_fds_; }

  /// Stops accepting now; sessions in flight may finish until `grace` has
  /// passed, then they are closed. `on_stopped` (if any) runs once every
  /// listener is closed and no session is left, on one of the runtime's
  /// threads; after it the server may be destroyed. A later call only adds its
  /// `on_stopped` (run at once if the server has already stopped).
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{0},
            std::function<void()> on_stopped = {});

  std::size_t active() const noexcept { return active_.load(std::memory_order_relaxed); }
  std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

 private:
  struct route_entry;
  struct route_table;
  struct core_state;
  struct call;
  struct call_list;
  struct entry;
  awaitable<void> accept_loop(unsigned core);
  void admit(core_state& cs, int fd);
  void await_environment(core_state& cs, call* c);
  void arm_environment_timer(core_state& cs);
  void run_handler(core_state& cs, call* c);
  void finish(core_state& cs, call* c, int cause);  // cause: metrics::lib::end_cause
  void session_ended();
  void release();
  void update_routes(const std::function<void(route_table&)>& change);

  runtime& rt_;
  server_options options_;
  io::peer_filter peers_{"fastagi"};
  std::uint16_t port_ = 0;
  std::vector<int> listening_fds_;
  std::atomic<std::shared_ptr<const route_table>> routes_;
  std::vector<std::unique_ptr<core_state>> cores_;
  std::atomic<std::size_t> active_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<bool> stopping_{false};
  // What is left before on_stopped: 1 until stop(), then one per listener not yet
  // closed, plus one per session. The decrement that takes it to 0 is unique: that
  // thread alone runs on_stopped, and no thread touches the server after it.
  std::atomic<std::size_t> outstanding_{1};
  bool fired_ = false;  // on_stopped has run (guarded by stop_mutex_)
  std::mutex stop_mutex_;  // guards on_stopped_ and route changes, never a session's path
  std::vector<std::function<void()>> on_stopped_;
};

}  // namespace costrix::fastagi
