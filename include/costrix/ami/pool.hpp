// ami::pool: one sender over several ami::clients (several Asterisk servers), for dialers.
#pragma once

#include <costrix/ami/client.hpp>
#include <costrix/pool.hpp>

#include <boost/asio/deferred.hpp>

#include <chrono>

namespace costrix::ami {

using costrix::pool_options;
using costrix::pool_policy;

/// costrix::basic_pool over AMI clients: actions go to one of the connected
/// Asterisks, by the policy; events of all come merged, tagged with their server.
///
///   ami::pool p{ex, {.policy = ami::pool_policy::least_pending}};
///   p.add(paris, "paris");
///   p.add(lyon, "lyon");
///   auto call = co_await p.originate({.channel = "PJSIP/100", .context = "out", .exten = "200"});
///   p.on_event("Hangup", [](std::size_t server, const ami::message& m) { ... });
class pool : public basic_pool<client, message> {
 public:
  using basic_pool::basic_pool;

  /// client::send() on the chosen server: `result<reply_t<A>>`.
  template <action_descriptor A, class Token = boost::asio::deferred_t>
  auto send(A action, Token&& token = {}) {
    return send(std::move(action), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  /// The same with its own timeout (0: none).
  template <action_descriptor A, class Token = boost::asio::deferred_t>
  auto send(A action, std::chrono::milliseconds timeout, Token&& token = {}) {
    return through<result<reply_t<A>>>(std::forward<Token>(token),
                                       [a = std::move(action), timeout](client& c, auto handler) mutable {
                                         c.send(std::move(a), timeout, std::move(handler));
                                       });
  }
  /// `send(ami::originate{...})` on the chosen server.
  template <class Token = boost::asio::deferred_t>
  auto originate(ami::originate o, Token&& token = {}) {
    return send(std::move(o), std::forward<Token>(token));
  }
};

}  // namespace costrix::ami
