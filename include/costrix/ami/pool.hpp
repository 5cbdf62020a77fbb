// ami::pool: one sender over several ami::clients (several Asterisk servers), for dialers.
#pragma once

#include <costrix/ami/client.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::ami {

/// How a pool chooses the server of an action, among the connected ones.
enum class pool_policy {
  round_robin,    ///< each in turn
  least_pending,  ///< the one with the fewest actions waiting for their answer (ties: the lowest index)
};

struct pool_options {
  pool_policy policy = pool_policy::round_robin;
};

/// An event from one of the pool's servers: its index (in add() order) and the message.
using pool_event_handler = std::function<void(std::size_t server, const message&)>;

/// Sends each action through one of several clients, skipping those that are
/// not connected (they reconnect on their own and are used again once they
/// are); events from all of them come merged, tagged with their server.
///
///   ami::pool p{ex, {.policy = ami::pool_policy::least_pending}};
///   p.add(paris, "paris");
///   p.add(lyon, "lyon");
///   auto call = co_await p.originate({.channel = "PJSIP/100", .context = "out", .exten = "200"});
///   p.on_event("Hangup", [](std::size_t server, const ami::message& m) { ... });
///
/// The clients are not owned: they must outlive the pool, and the pool the
/// actions sent through it. Add them before sending (add() is not synchronised with send()).
/// send() may be called from any thread; its result comes back on the
/// caller's executor, as with client::send(). With no connected server it
/// completes with `errc::disconnected`. An action is not retried on another
/// server: once sent, its result (`errc::disconnected` if that server is lost)
/// is the caller's.
class pool {
 public:
  using executor_type = client::executor_type;

  /// `ex` delivers the results of actions that found no server, to callers without an executor of their own.
  explicit pool(executor_type ex, pool_options options = {});
  ~pool();
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  /// Adds a client; returns its index. `name` (for logs) defaults to the index, as text.
  std::size_t add(client& c, std::string name = {});
  std::size_t size() const noexcept { return servers_.size(); }
  client& at(std::size_t server) { return *servers_.at(server).c; }
  std::string_view name(std::size_t server) const { return servers_.at(server).name; }
  /// Actions sent through the pool to this server and not answered yet.
  std::size_t pending(std::size_t server) const noexcept { return servers_[server].pending.load(); }

  /// The server the next action would go to, by the policy; none when no server is connected.
  std::optional<std::size_t> pick();

  /// client::send() on the chosen server: `result<reply_t<A>>`.
  template <action_descriptor A, class Token = boost::asio::deferred_t>
  auto send(A action, Token&& token = {}) {
    return send(std::move(action), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  /// The same with its own timeout (0: none).
  template <action_descriptor A, class Token = boost::asio::deferred_t>
  auto send(A action, std::chrono::milliseconds timeout, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<reply_t<A>>)>(
        [this](auto handler, A a, std::chrono::milliseconds t) { start(std::move(a), t, std::move(handler)); }, token,
        std::move(action), timeout);
  }
  /// `send(ami::originate{...})` on the chosen server.
  template <class Token = boost::asio::deferred_t>
  auto originate(ami::originate o, Token&& token = {}) {
    return send(std::move(o), std::forward<Token>(token));
  }

  /// Calls `f(server, message)` with every event of that name (case-insensitive;
  /// empty: every event) from every server, on that server's client executor
  /// (so from several threads when the clients live on several).
  subscription on_event(std::string name, pool_event_handler f);
  void unsubscribe(subscription id);

 private:
  struct server {
    client* c = nullptr;
    std::string name;
    std::atomic<std::size_t> pending{0};
  };

  template <class A, class Handler>
  void start(A a, std::chrono::milliseconds t, Handler handler) {
    using reply = result<reply_t<A>>;
    auto ex = boost::asio::get_associated_executor(handler, ex_);
    auto i = pick();
    if (!i) {
      boost::asio::post(ex, [h = std::move(handler)]() mutable {
        std::move(h)(reply(fail(errc::disconnected, "ami pool: no server is connected")));
      });
      return;
    }
    server& s = servers_[*i];
    ++s.pending;
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto done = [&s, h = std::move(handler)](reply r) mutable {
      --s.pending;
      std::move(h)(std::move(r));
    };
    s.c->send(std::move(a), t,
              boost::asio::bind_cancellation_slot(slot, boost::asio::bind_executor(ex, std::move(done))));
  }

  executor_type ex_;
  pool_options options_;
  std::deque<server> servers_;  // stable addresses: send() holds a server& until its action completes
  std::atomic<std::size_t> next_{0};
  std::mutex subs_mutex_;
  std::vector<std::pair<subscription, std::vector<subscription>>> subs_;  // pool id -> one per client
  subscription next_sub_ = 0;
};

}  // namespace costrix::ami
