// Fixtures for the ESL tests: the outbound server driven by the FreeSWITCH
// simulator (sim::call_esl_outbound), helpers for the inbound client against
// the inbound simulator (its fixture: regression/esl_sim.hpp), a scripted
// FreeSWITCH on a socketpair, and a gate for coroutines on several threads.
#pragma once

#include <costrix/esl/client.hpp>
#include <costrix/esl/server.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "scripted_peer.hpp"
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::test {

// ---- the outbound server and the simulated FreeSWITCH that calls it ----

/// An esl::server on a two-thread runtime; the simulated FreeSWITCH runs on
/// `client`, driven by the test thread.
struct served {
  costrix::runtime rt{{.threads = 2}};
  esl::server srv;
  boost::asio::io_context client;
  bool stopped = false;

  explicit served(esl::server_options o = {}) : srv(rt, with_free_port(std::move(o))) {}
  ~served() { stop(); }
  void start() {
    REQUIRE(srv.start());
    rt.start();
  }
  // Stops the server and waits for every call to end: handlers' results may be read after it.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{0}) {
    if (stopped) return;
    stopped = true;
    latch_flag done;
    srv.stop(grace, [&] { done.set(); });
    done.wait();
    rt.stop();
    rt.join();
  }
  boost::asio::ip::tcp::endpoint endpoint() const { return {boost::asio::ip::make_address("127.0.0.1"), srv.port()}; }
  /// One simulated call to its end; a call still going after `limit` fails the test.
  result<sim::esl_report> call(sim::esl_call c, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    auto f = boost::asio::co_spawn(client, sim::call_esl_outbound(endpoint(), std::move(c)), boost::asio::use_future);
    if (!run_until(client, f, limit)) FAIL("the simulated call did not end in time");
    return f.get();
  }
  static esl::server_options with_free_port(esl::server_options o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
};

/// The applications a simulated call ran: "app arg".
inline std::vector<std::string> apps(const sim::esl_report& r) {
  std::vector<std::string> out;
  for (const auto& x : r.executed) out.push_back(x.app + (x.arg.empty() ? "" : " " + x.arg));
  return out;
}

/// Whether the simulated FreeSWITCH received `command` (as esl_report::commands records it).
inline bool received(const sim::esl_report& r, std::string_view command) {
  for (const auto& c : r.commands)
    if (c == command) return true;
  return false;
}

/// What a handler saw, written on the runtime's thread and read after stop().
struct seen {
  std::vector<std::string> notes;
  void note(std::string s) { notes.push_back(std::move(s)); }
  template <class R>
  void result(std::string_view what, const R& r) {
    notes.push_back(std::string{what} + (r ? " ok" : " " + r.error().what()));
  }
};

/// Opens once `n` coroutines have arrived (on any threads); each arrival
/// awaits the opening. open() lets every waiter go at once (a test that gives
/// up, so that the handlers can end).
class gate {
 public:
  explicit gate(std::size_t n) : n_(n) {}
  /// Completes once the n-th arrival came, or open() was called.
  awaitable<void> arrive() {
    auto ex = co_await boost::asio::this_coro::executor;
    auto timer = std::make_shared<boost::asio::steady_timer>(ex, std::chrono::steady_clock::time_point::max());
    {
      std::lock_guard lock(m_);
      if (++arrived_ >= n_) open_locked();
      if (open_) co_return;
      waiters_.push_back(timer);
    }
    // Only open() cancels it. Nothing of the gate is touched after the wake:
    // the last arrival may go on and destroy it first.
    co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  void open() {
    std::lock_guard lock(m_);
    open_locked();
  }
  bool is_open() {
    std::lock_guard lock(m_);
    return open_;
  }

 private:
  void open_locked() {
    if (open_) return;
    open_ = true;
    for (auto& t : waiters_) boost::asio::post(t->get_executor(), [t] { t->cancel(); });  // each on its own thread
    waiters_.clear();
  }
  std::mutex m_;
  std::size_t n_, arrived_ = 0;
  bool open_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

// ---- the inbound client against the simulated FreeSWITCH (esl_test::esl_fixture) ----

/// A flag a coroutine on one io_context awaits and a callback there sets.
class async_flag {
 public:
  explicit async_flag(boost::asio::io_context& ctx) : timer_(ctx, std::chrono::steady_clock::time_point::max()) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }
  awaitable<void> wait() {
    while (!set_) co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

 private:
  boost::asio::steady_timer timer_;
  bool set_ = false;
};

/// Runs a member of the simulator that reports with a `done` callback
/// (disconnect_all, stop_listening) and awaits that report on `ctx`.
template <class F>
awaitable<void> sim_call(boost::asio::io_context& ctx, F&& call) {
  auto sig = std::make_shared<async_flag>(ctx);
  call([&ctx, sig] { boost::asio::post(ctx, [sig] { sig->set(); }); });
  co_await sig->wait();
}

// ---- a scripted FreeSWITCH on the far end of a socketpair ----

/// The next command the session wrote, up to and including its empty line ("" at the end of the stream).
inline std::string read_esl_command(peer_io& io) {
  std::string out;
  for (;;) {
    std::string line = io.read_line();
    if (io.eof()) return out;
    out += line + "\n";
    if (line.empty()) return out;
  }
}

/// A text/event-plain message: `name`, the channel's Unique-ID, then `extra`
/// ("Key: Value\n" lines, values URL-encoded as FreeSWITCH sends them).
inline std::string plain_event(std::string_view name, std::string_view extra, std::string_view uuid) {
  std::string body = "Event-Name: " + std::string{name} + "\nUnique-ID: " + std::string{uuid} + "\n" +
                     std::string{extra} + "\n";
  return "Content-Length: " + std::to_string(body.size()) + "\nContent-Type: text/event-plain\n\n" + body;
}

}  // namespace costrix::test
