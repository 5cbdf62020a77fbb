// ami::client: one AMI connection to Asterisk, shared by any number of coroutines.
#pragma once

#include <costrix/ami/actions.hpp>
#include <costrix/ami/events.hpp>
#include <costrix/ami/response.hpp>
#include <costrix/io/detail/handoff.hpp>
#include <costrix/io/event_stream.hpp>
#include <costrix/proto/ami/message_parser.hpp>
#include <costrix/result.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::ami {

enum class connection_state {
  disconnected,  ///< not connected (before connect(), or between a loss and the next attempt)
  connecting,    ///< TCP connect in progress
  logging_in,    ///< connected; banner and login in progress
  connected,     ///< logged in: actions are sent
  closed,        ///< close() or logoff(): no more reconnecting
};
std::string_view to_string(connection_state s) noexcept;

enum class login_method {
  md5,    ///< `Challenge`, then `Login` with `AuthType: MD5` and `Key`: the secret never crosses the wire
  plain,  ///< `Login` with `Secret`
};

/// Lost connections are made again after a delay that starts at `initial_delay`
/// and doubles up to `max_delay`; it starts over after each successful login.
struct reconnect_options {
  bool enabled = true;
  std::chrono::milliseconds initial_delay{100};
  std::chrono::milliseconds max_delay{10'000};
};

/// AMI over TLS (Asterisk's manager.conf `tlsenable`, usually port 5039).
struct tls_options {
  bool enabled = false;
  std::string ca_file = {};      ///< PEM file of the CAs to trust; empty: the system's
  bool verify = true;            ///< check the chain and that the certificate names server_name
  std::string server_name = {};  ///< the name to check and to send (SNI); empty: `host`
};

struct client_options {
  std::string host = "127.0.0.1";  ///< an address or a name to resolve
  std::uint16_t port = 5038;
  std::string username;
  std::string secret;
  login_method login = login_method::md5;
  /// The login's `Events:` header: "on", "off", or event classes ("call,agent").
  /// Async originate needs the `call` class.
  std::string events = "on";
  /// TCP connect, and each login step (Challenge, Login).
  std::chrono::milliseconds connect_timeout{5'000};
  /// How long an action may wait for its answer (a whole event list, an
  /// OriginateResponse); 0: forever. send(action, timeout) overrides it.
  std::chrono::milliseconds action_timeout{30'000};
  /// Send `Ping` this often; a Ping unanswered within the same time drops the
  /// connection (then it is made again). 0: no keepalive.
  std::chrono::milliseconds keepalive{0};
  reconnect_options reconnect{};
  tls_options tls{};
  /// Actions waiting for their answer at most; more are refused with `errc::limit_exceeded`.
  std::size_t max_in_flight = 1u << 20;
  /// Bytes of actions written but not yet taken by Asterisk's socket at most
  /// (an Asterisk that stops reading); a new action over it fails at once with
  /// `errc::limit_exceeded`.
  std::size_t max_unsent_bytes = 16u << 20;
  /// What one message from Asterisk may hold (a long `Command` output, an AsyncAGI Env).
  proto::ami::limits limits{};
  /// Start of every ActionID this client writes; empty: "cx" and 8 random hex digits.
  std::string action_id_prefix = {};
};

using costrix::overflow_policy;

struct stream_options {
  std::vector<std::string> names = {};  ///< event names to take (case-insensitive); empty: every event
  std::size_t capacity = 4096;          ///< events held for the consumer at most
  overflow_policy policy = overflow_policy::drop_oldest;
};

struct client_stats {
  std::uint64_t actions = 0;     ///< actions written
  std::uint64_t events = 0;      ///< events received that belong to no action
  std::uint64_t orphans = 0;     ///< responses for no waiting action (it timed out or was cancelled)
  std::uint64_t logins = 0;      ///< successful logins
  std::uint64_t reconnects = 0;  ///< connections made again after a loss
  std::uint64_t in_flight = 0;   ///< actions waiting now
};

using event_handler = std::function<void(const message&)>;
/// Identifies a subscription; pass it to client::unsubscribe().
using subscription = std::uint64_t;

namespace detail {
class client_impl;
struct stream_state;

// One action between its initiation and its completion. The client's thread
// owns everything after start(); `slot`/`generation` name its ActionID.
struct op_base {
  virtual ~op_base() = default;
  /// Writes the action with `action_id` at the end of `out` (nothing on failure).
  virtual result<void> encode(std::string& out, std::string_view action_id) = 0;
  /// Called once, on the client's thread: hands the outcome to the caller's executor.
  virtual void complete(result<response>&& r) = 0;
  std::string_view completion_event;
  std::chrono::milliseconds timeout{-1};  // < 0: the client's action_timeout
  bool login = false;                     // sent while logging in (Challenge, Login)
  std::uint32_t slot = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t generation = 0;
};

void start(const std::shared_ptr<client_impl>& c, std::shared_ptr<op_base> op);
void cancel(const std::shared_ptr<client_impl>& c, const std::weak_ptr<op_base>& op);
boost::asio::io_context::executor_type executor_of(const client_impl& c) noexcept;

using io::detail::handoff;

template <class A, class Handler>
class send_op final : public op_base {
 public:
  send_op(A a, Handler h, boost::asio::io_context::executor_type fallback)
      : action_(std::move(a)), to_(std::move(h), fallback) {
    completion_event = detail::completion_event(action_);
  }
  result<void> encode(std::string& out, std::string_view action_id) override {
    writer w(out, std::string_view(action_.name));
    action_.write(w);
    return w.finish(action_id);
  }
  void complete(result<response>&& r) override {
    result<reply_t<A>> v = r ? detail::decode<A>(std::move(r).value()) : result<reply_t<A>>(fail(std::move(r).error()));
    to_.deliver(std::move(v));
  }
  Handler& handler() noexcept { return to_.handler(); }

 private:
  A action_;
  handoff<Handler> to_;
};

struct send_initiation {
  std::shared_ptr<client_impl> client;
  bool login = false;
  template <class Handler, class A>
  void operator()(Handler&& handler, A a, std::chrono::milliseconds timeout) const {
    using op_type = send_op<A, std::decay_t<Handler>>;
    auto op = std::make_shared<op_type>(std::move(a), std::forward<Handler>(handler), executor_of(*client));
    op->timeout = timeout;
    op->login = login;
    auto slot = boost::asio::get_associated_cancellation_slot(op->handler());
    if (slot.is_connected())
      slot.template emplace<canceller>(client, std::weak_ptr<op_base>(op));
    detail::start(client, std::move(op));
  }
  struct canceller {
    std::shared_ptr<client_impl> client;
    std::weak_ptr<op_base> op;
    void operator()(boost::asio::cancellation_type) const { detail::cancel(client, op); }
  };
};

}  // namespace detail

/// Events for a coroutine to `co_await` (`result<owned_message>`), in the
/// order Asterisk sent them: io/event_stream.hpp.
using event_stream = io::event_stream<owned_message>;

/// One AMI connection, living on one executor (one core). Any coroutine, on
/// any thread, may send actions through it at the same time: each call hops to
/// the client's executor and its result hops back to the caller's executor.
///
///   ami::client c{ex, {.port = 5038, .username = "admin", .secret = "wordpass"}};
///   auto up = co_await c.connect();                          // result<void>
///   auto pong = co_await c.send(ami::ping{});                // result<response>
///   auto v = co_await c.send(ami::getvar{.variable = "X"});  // result<std::string>
///   auto call = co_await c.originate({.channel = "PJSIP/100", .context = "out", .exten = "200"});
///
/// Every operation completes with `result<T>`: `errc::timeout`,
/// `errc::cancelled` (Asio cancellation), `errc::disconnected` (every waiting
/// action, at once, when the connection is lost), `errc::limit_exceeded`
/// (max_in_flight), `errc::invalid_argument` (a value with CR/LF), and for
/// typed actions Asterisk's refusals (`errc::failed`, `errc::not_found`...)
/// carrying its `Message:`. docs/ami.md has the details.
///
/// Callbacks (events, orphans, state) run on the client's executor, inside its
/// reading loop: they must return quickly. The client must outlive the
/// operations started on it. Destroying it closes the connection.
class client {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  client(executor_type ex, client_options options);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept;

  /// Connects, reads the banner and logs in: `result<void>` (`errc::auth_failed`
  /// with Asterisk's message, `errc::timeout`, `errc::disconnected`). After a
  /// first success, a lost connection is made again in the background.
  template <class Token = boost::asio::deferred_t>
  auto connect(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<void>)>(
        [c = impl_](auto handler) { connect_impl(c, std::make_shared<detail::handoff<decltype(handler)>>(
                                                        std::move(handler), executor_of(*c))); },
        token);
  }

  /// Sends any action descriptor (actions.hpp) and completes with its reply:
  /// `result<reply_t<A>>`; `ami::raw` for an action the catalogue lacks.
  template <action_descriptor A, class Token = boost::asio::deferred_t>
  auto send(A action, Token&& token = {}) {
    return send(std::move(action), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  /// The same with its own timeout (0: none).
  template <action_descriptor A, class Token = boost::asio::deferred_t>
  auto send(A action, std::chrono::milliseconds timeout, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<reply_t<A>>)>(detail::send_initiation{impl_}, token,
                                                                        std::move(action), timeout);
  }
  /// `send(ami::originate{...})`: completes on its OriginateResponse.
  template <class Token = boost::asio::deferred_t>
  auto originate(ami::originate o, Token&& token = {}) {
    return send(std::move(o), std::forward<Token>(token));
  }

  /// Changes the event mask of this connection and of every later login.
  template <class Token = boost::asio::deferred_t>
  auto set_events(std::string mask, Token&& token = {}) {
    remember_events(mask);
    return send(ami::events{std::move(mask)}, std::forward<Token>(token));
  }

  /// Sends Logoff and closes: `result<response>` (`Response: Goodbye`). No reconnecting after it.
  template <class Token = boost::asio::deferred_t>
  auto logoff(Token&& token = {}) {
    begin_close();
    return send(ami::logoff{}, std::forward<Token>(token));
  }
  /// Closes the connection now: waiting actions complete with `errc::disconnected`;
  /// no reconnecting. Callable from any thread.
  void close();

  /// Calls `f` with every event of that name (case-insensitive; empty: every
  /// event) that belongs to no action. The view is valid during the call.
  subscription on_event(std::string name, event_handler f);
  /// The same, decoded into a typed event (events.hpp): `c.on<ami::event::hangup>(...)`.
  /// `f` may take `const E&`, or `const ami::typed<E>&` for every header as well.
  template <event::typed_event E>
  subscription on(std::function<void(const typed<E>&)> f) {
    return on_event(std::string(E::name), [f = std::move(f)](const message& m) { f(typed<E>(m)); });
  }
  void unsubscribe(subscription id);
  /// A queue of events for a coroutine to await (names per `options`).
  event_stream stream(stream_options options = {});
  /// A response whose action is no longer waiting (it timed out or was
  /// cancelled), or that names no action of this client, goes here, never to
  /// another action. Counted in stats().orphans.
  void on_orphan(event_handler f);
  /// Called with each new state.
  void on_state(std::function<void(connection_state)> f);

  connection_state state() const noexcept;
  client_stats stats() const noexcept;

 private:
  template <class H>
  static void connect_impl(const std::shared_ptr<detail::client_impl>& c, std::shared_ptr<detail::handoff<H>> h) {
    connect_start(c, [h](result<void> r) { h->deliver(std::move(r)); });
  }
  static void connect_start(const std::shared_ptr<detail::client_impl>& c, std::function<void(result<void>)> done);
  void remember_events(const std::string& mask);
  void begin_close();

  std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace costrix::ami
