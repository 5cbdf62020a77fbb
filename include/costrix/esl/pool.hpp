// esl::pool: one sender over several esl::clients (several FreeSWITCH servers), for dialers.
#pragma once

#include <costrix/esl/client.hpp>
#include <costrix/pool.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>

#include <chrono>
#include <exception>

namespace costrix::esl {

using costrix::pool_options;
using costrix::pool_policy;

/// costrix::basic_pool over inbound Event Socket clients: API commands and
/// originates go to one of the connected FreeSWITCH servers, by the policy;
/// events of all come merged, tagged with their server.
///
///   esl::pool p{ex, {.policy = esl::pool_policy::least_pending}};
///   p.add(fs1, "fs1");
///   p.add(fs2, "fs2");
///   auto leg = co_await p.originate({.endpoint = "sofia/gateway/out/5551234", .application = "&park()"});
///   p.on_event("CHANNEL_HANGUP", [](std::size_t server, const esl::event& e) { ... });
class pool : public basic_pool<client, event> {
 public:
  using basic_pool::basic_pool;

  /// client::api() on the chosen server.
  template <class Token = boost::asio::deferred_t>
  auto api(std::string command, Token&& token = {}) {
    return api(esl::api::raw{std::move(command)}, std::forward<Token>(token));
  }
  template <api_command A, class Token = boost::asio::deferred_t>
  auto api(A a, Token&& token = {}) {
    return api(std::move(a), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  template <api_command A, class Token = boost::asio::deferred_t>
  auto api(A a, std::chrono::milliseconds timeout, Token&& token = {}) {
    return through<result<typename A::reply>>(std::forward<Token>(token),
                                              [a = std::move(a), timeout](client& c, auto handler) mutable {
                                                c.api(std::move(a), timeout, std::move(handler));
                                              });
  }

  /// client::bgapi() on the chosen server.
  template <class Token = boost::asio::deferred_t>
  auto bgapi(std::string command, Token&& token = {}) {
    return bgapi(esl::api::raw{std::move(command)}, std::forward<Token>(token));
  }
  template <api_command A, class Token = boost::asio::deferred_t>
  auto bgapi(A a, Token&& token = {}) {
    return bgapi(std::move(a), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  template <api_command A, class Token = boost::asio::deferred_t>
  auto bgapi(A a, std::chrono::milliseconds timeout, Token&& token = {}) {
    return through<result<typename A::reply>>(std::forward<Token>(token),
                                              [a = std::move(a), timeout](client& c, auto handler) mutable {
                                                c.bgapi(std::move(a), timeout, std::move(handler));
                                              });
  }

  /// client::originate() on the chosen server: the new leg (bound to that
  /// server's client), or the error whose cause esl::cause_of() reads. Not
  /// cancellable once sent (FreeSWITCH's originate is not either: hang the leg up).
  template <class Token = boost::asio::deferred_t>
  auto originate(api::originate call, Token&& token = {}) {
    return through<result<leg>>(std::forward<Token>(token), [call = std::move(call)](client& c, auto handler) mutable {
      boost::asio::co_spawn(c.get_executor(), c.originate(std::move(call)),
                            [h = std::move(handler)](std::exception_ptr e, result<leg> r) mutable {
                              if (e) r = fail(errc::failed, "originate: the client threw");
                              auto ex = boost::asio::get_associated_executor(h);
                              boost::asio::dispatch(ex, [h = std::move(h), r = std::move(r)]() mutable {
                                std::move(h)(std::move(r));
                              });
                            });
    });
  }
};

}  // namespace costrix::esl
