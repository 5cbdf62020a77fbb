// costrix::basic_pool: one sender over several clients of one kind (one per
// PBX), for dialers. ami::pool and esl::pool are this pool over their client.
#pragma once

#include <costrix/error.hpp>
#include <costrix/result.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix {

/// How a pool chooses the server of a request, among the connected ones.
enum class pool_policy {
  round_robin,    ///< each in turn
  least_pending,  ///< the one with the fewest of the pool's requests waiting for their answer (ties: the lowest index)
};

struct pool_options {
  pool_policy policy = pool_policy::round_robin;
};

/// Sends each request through one of several clients, skipping those that are
/// not connected (they reconnect on their own and are used again once they
/// are); events from all of them come merged, tagged with their server.
///
/// `Client` is ami::client or esl::client (what it needs: `state()` with a
/// `connected` value, `on_event(name, f)`, `unsubscribe(id)`), `Event` what
/// its event handlers take. The clients are not owned: they must outlive the
/// pool, and the pool the requests sent through it. Add them before sending
/// (add() is not synchronised with sending). Requests may be sent from any
/// thread; a result comes back on the caller's executor. With no connected
/// server a request completes with `errc::disconnected`. A request is not
/// retried on another server: once sent, its result (`errc::disconnected` if
/// that server is lost) is the caller's.
template <class Client, class Event>
class basic_pool {
 public:
  using executor_type = typename Client::executor_type;
  using subscription = std::uint64_t;
  /// An event from one of the pool's servers: its index (in add() order) and the event.
  using event_handler = std::function<void(std::size_t server, const Event&)>;

  /// `ex` delivers the results of requests that found no server, to callers without an executor of their own.
  explicit basic_pool(executor_type ex, pool_options options = {}) : ex_(ex), options_(options) {}
  ~basic_pool() {
    std::vector<subscription> ids;
    {
      std::lock_guard lock(subs_mutex_);
      for (const auto& [id, _] : subs_) ids.push_back(id);
    }
    for (auto id : ids) unsubscribe(id);
  }
  basic_pool(const basic_pool&) = delete;
  basic_pool& operator=(const basic_pool&) = delete;

  /// Adds a client; returns its index. `name` (for logs) defaults to the index, as text.
  std::size_t add(Client& c, std::string name = {}) {
    auto& s = servers_.emplace_back();
    s.c = &c;
    s.name = name.empty() ? std::to_string(servers_.size() - 1) : std::move(name);
    return servers_.size() - 1;
  }
  std::size_t size() const noexcept { return servers_.size(); }
  Client& at(std::size_t server) { return *servers_.at(server).c; }
  std::string_view name(std::size_t server) const { return servers_.at(server).name; }
  /// Requests sent through the pool to this server and not answered yet.
  std::size_t pending(std::size_t server) const noexcept { return servers_[server].pending.load(); }

  /// The server the next request would go to, by the policy; none when no server is connected.
  std::optional<std::size_t> pick() {
    const std::size_t n = servers_.size();
    if (n == 0) return std::nullopt;
    if (options_.policy == pool_policy::round_robin) {
      const std::size_t first = next_.fetch_add(1);
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = (first + k) % n;
        if (connected(i)) {
          // The next turn starts after the one taken (skipped servers do not shift the rotation twice).
          if (k > 0) next_.fetch_add(k);
          return i;
        }
      }
      return std::nullopt;
    }
    std::optional<std::size_t> best;
    std::size_t least = std::numeric_limits<std::size_t>::max();
    for (std::size_t i = 0; i < n; ++i) {
      if (!connected(i)) continue;
      std::size_t p = servers_[i].pending.load();
      if (p < least) {
        least = p;
        best = i;
      }
    }
    return best;
  }

  /// Calls `f(server, event)` with every event of that name (as the client's
  /// on_event() matches it; empty: every event) from every server added so
  /// far, on that server's client executor (so from several threads when the
  /// clients live on several).
  subscription on_event(std::string name, event_handler f) {
    auto shared = std::make_shared<event_handler>(std::move(f));
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < servers_.size(); ++i)
      ids.push_back(servers_[i].c->on_event(name, [shared, i](const Event& e) { (*shared)(i, e); }));
    std::lock_guard lock(subs_mutex_);
    subscription id = ++next_sub_;
    subs_.emplace_back(id, std::move(ids));
    return id;
  }
  void unsubscribe(subscription id) {
    std::vector<std::uint64_t> ids;
    {
      std::lock_guard lock(subs_mutex_);
      for (auto it = subs_.begin(); it != subs_.end(); ++it) {
        if (it->first != id) continue;
        ids = std::move(it->second);
        subs_.erase(it);
        break;
      }
    }
    for (std::size_t i = 0; i < ids.size() && i < servers_.size(); ++i) servers_[i].c->unsubscribe(ids[i]);
  }

 protected:
  /// Initiates `op(client, handler)` on the chosen server, where `handler`
  /// takes the request's `R` (a `result<...>`); the caller's `token` completes
  /// with it, or with `errc::disconnected` when no server is connected. The
  /// token's cancellation slot and executor are kept.
  template <class R, class Token, class Op>
  auto through(Token&& token, Op op) {
    return boost::asio::async_initiate<Token, void(R)>(
        [this](auto handler, Op o) { start<R>(std::move(handler), std::move(o)); }, token, std::move(op));
  }

 private:
  struct server {
    Client* c = nullptr;
    std::string name;
    std::atomic<std::size_t> pending{0};
  };

  bool connected(std::size_t i) const {
    auto state = servers_[i].c->state();
    return state == decltype(state)::connected;
  }

  template <class R, class Handler, class Op>
  void start(Handler handler, Op op) {
    auto ex = boost::asio::get_associated_executor(handler, ex_);
    auto i = pick();
    if (!i) {
      boost::asio::post(ex, [h = std::move(handler)]() mutable {
        std::move(h)(R(fail(errc::disconnected, "pool: no server is connected")));
      });
      return;
    }
    server& s = servers_[*i];
    ++s.pending;
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto done = [&s, h = std::move(handler)](R r) mutable {
      --s.pending;
      std::move(h)(std::move(r));
    };
    std::move(op)(*s.c, boost::asio::bind_cancellation_slot(slot, boost::asio::bind_executor(ex, std::move(done))));
  }

  executor_type ex_;
  pool_options options_;
  std::deque<server> servers_;  // stable addresses: a request holds a server& until it completes
  std::atomic<std::size_t> next_{0};
  std::mutex subs_mutex_;
  std::vector<std::pair<subscription, std::vector<std::uint64_t>>> subs_;  // pool id -> one per client
  subscription next_sub_ = 0;
};

}  // namespace costrix
