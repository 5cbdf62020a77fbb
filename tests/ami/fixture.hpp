// Shared by the AMI tests: an AMI simulator on a runtime thread of its own,
// and a client on an io_context the test thread runs. Waits are on events (a
// flag set by a callback), never on elapsed time.
#pragma once

#include <costrix/ami/client.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/sim/ami_server.hpp>

#include "sim_thread.hpp"
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>

namespace ami_test {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace sim = costrix::sim;
namespace ami = costrix::ami;
using costrix::awaitable;

// A flag a callback on the test's io_context sets and a coroutine awaits.
class flag {
 public:
  explicit flag(asio::io_context& ctx) : timer_(ctx, std::chrono::steady_clock::time_point::max()) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }
  awaitable<void> wait() {
    while (!set_) co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Yields to the io_context once (lets posted completions run).
inline awaitable<void> yield() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }

// Runs `body` (a coroutine lambda) detached on `ex`. The lambda is kept in the
// frame of the coroutine that awaits it, so its captures live as long as it runs.
template <class Executor, class F>
void spawn(Executor ex, F body) {
  asio::co_spawn(ex, [](F f) -> awaitable<void> { co_await f(); }(std::move(body)), asio::detached);
}
template <class Executor, class F>
auto spawn_future(Executor ex, F body) {
  using T = typename decltype(body())::value_type;
  return asio::co_spawn(ex, [](F f) -> awaitable<T> { co_return co_await f(); }(std::move(body)), asio::use_future);
}

using sim_server = costrix::test::sim_thread<sim::ami_server, sim::ami_server_options>;

// A simulator, and a client on an io_context the test thread runs.
struct fixture {
  sim_server server;
  asio::io_context ctx{1};
  ami::client client;

  explicit fixture(ami::client_options o = {}, sim::ami_server_options so = {})
      : server(std::move(so)), client(ctx.get_executor(), options(std::move(o), server.srv.port())) {}
  ~fixture() {
    client.close();
    costrix::test::run_at_most(ctx, 5s);
  }

  static ami::client_options options(ami::client_options o, std::uint16_t port) {
    o.port = port;
    if (o.username.empty()) o.username = "admin";
    if (o.secret.empty()) o.secret = "wordpass";
    return o;
  }

  // Runs `a` on the client's io_context until it completes. A run with
  // nothing happening for 20 s fails the test (a hang, not a verdict).
  template <class T>
  T run(awaitable<T> a) {
    auto f = asio::co_spawn(ctx, std::move(a), asio::use_future);
    if (!costrix::test::run_until(ctx, f)) FAIL("the test stalled");
    return f.get();
  }

  // Closes the client while the test coroutine's locals are alive: after it no
  // callback runs, and the completions it causes have been delivered.
  awaitable<void> shutdown() {
    client.close();
    co_await yield();
  }

  // Runs a server call that takes a `done` callback; `done` is carried back to the test's io_context.
  template <class F>
  awaitable<void> server_call(F&& call) {
    auto sig = std::make_shared<flag>(ctx);
    call([this, sig] { asio::post(ctx, [sig] { sig->set(); }); });
    co_await sig->wait();
  }
};

}  // namespace ami_test
