// esl::client: one inbound Event Socket connection to FreeSWITCH (port 8021),
// shared by any number of coroutines.
#pragma once

#include <costrix/esl/api.hpp>
#include <costrix/esl/cause.hpp>
#include <costrix/io/detail/handoff.hpp>
#include <costrix/io/event_stream.hpp>
#include <costrix/proto/esl/command.hpp>
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>
#include <costrix/result.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::esl {

using proto::esl::event;
using proto::esl::owned_event;

enum class connection_state {
  disconnected,    ///< not connected (before connect(), or between a loss and the next attempt)
  connecting,      ///< TCP connect in progress
  authenticating,  ///< connected; auth/request, auth and the event subscription in progress
  connected,       ///< authenticated and subscribed: commands are sent
  closed,          ///< close() or exit(): no more reconnecting
};
std::string_view to_string(connection_state s) noexcept;

/// Lost connections are made again after a delay that starts at `initial_delay`
/// and doubles up to `max_delay`; it starts over after each successful login.
struct reconnect_options {
  bool enabled = true;
  std::chrono::milliseconds initial_delay{100};
  std::chrono::milliseconds max_delay{10'000};
};

struct client_options {
  std::string host = "127.0.0.1";  ///< an address or a name to resolve
  std::uint16_t port = 8021;
  std::string password = "ClueCon";
  /// Non-empty: `userauth <user>@<domain>:<password>` (a directory user's ESL login) instead of `auth`.
  std::string user = {};
  std::string domain = {};
  /// Events arrive as `text/event-plain` or `text/event-json`; the same `event` either way.
  proto::esl::event_format format = proto::esl::event_format::plain;
  /// TCP connect, and each step of logging in (auth/request, auth, subscription).
  std::chrono::milliseconds connect_timeout{5'000};
  /// How long an `api` or other command may wait for its reply; 0: forever.
  std::chrono::milliseconds command_timeout{30'000};
  /// How long a `bgapi` may wait for its BACKGROUND_JOB (an originate rings a while); 0: forever.
  std::chrono::milliseconds job_timeout{120'000};
  reconnect_options reconnect{};
  /// Commands and jobs waiting at most; more are refused with `errc::limit_exceeded`.
  std::size_t max_in_flight = 1u << 20;
  /// Bytes of commands written but not yet taken by FreeSWITCH's socket at
  /// most (a FreeSWITCH that stops reading); a new call over it fails at once
  /// with `errc::limit_exceeded`.
  std::size_t max_unsent_bytes = 16u << 20;
  /// What one message from FreeSWITCH may hold (`show channels` on a busy switch is the largest).
  proto::esl::limits limits{};
};

struct stream_options {
  /// What to take: event names ("CHANNEL_ANSWER"), CUSTOM subclasses
  /// ("sofia::register"), or "ALL"; empty: every event. They are subscribed too.
  std::vector<std::string> names = {};
  std::size_t capacity = 4096;  ///< events held for the consumer at most
  overflow_policy policy = overflow_policy::drop_oldest;
};

struct client_stats {
  std::uint64_t commands = 0;    ///< commands written (api, bgapi, event, filter...)
  std::uint64_t events = 0;      ///< events received that complete no job
  std::uint64_t orphans = 0;     ///< replies and BACKGROUND_JOBs for no waiting call (timed out or cancelled)
  std::uint64_t logins = 0;      ///< successful authentications
  std::uint64_t reconnects = 0;  ///< connections made again after a loss
  std::uint64_t in_flight = 0;   ///< commands waiting for a reply, and jobs waiting for their BACKGROUND_JOB, now
};

using event_handler = std::function<void(const event&)>;
/// Identifies a handler; pass it to client::unsubscribe().
using subscription = std::uint64_t;

namespace detail {
class client_impl;
struct stream_state;

enum class op_kind : unsigned char { api, bgapi, command };

// One command between its initiation and its completion. Everything after
// start() happens on the client's thread.
struct op_base {
  virtual ~op_base() = default;
  /// Appends the command to `out` (`job_uuid` is set for bgapi).
  virtual result<void> encode(std::string& out, std::string_view job_uuid) = 0;
  /// Called once, on the client's thread, with the reply body (api, bgapi)
  /// or the Reply-Text (command): hands the outcome to the caller's executor.
  virtual void complete(result<std::string>&& r) = 0;
  op_kind kind = op_kind::api;
  std::chrono::milliseconds timeout{-1};  // < 0: the client's default for the kind
  bool login = false;                     // sent while authenticating
  // The client's thread only.
  bool done = false;
  std::string job_uuid;
  std::shared_ptr<void> timer;
};

using io::detail::handoff;

void start(const std::shared_ptr<client_impl>& c, std::shared_ptr<op_base> op);
void cancel(const std::shared_ptr<client_impl>& c, const std::weak_ptr<op_base>& op);
boost::asio::io_context::executor_type executor_of(const client_impl& c) noexcept;
/// costrix_errors_total{protocol="esl"}: a call's outcome, transport errors and FreeSWITCH's refusals alike.
void count_failure(const error& e) noexcept;
result<void> encode_api(op_kind kind, const std::string& command, std::string& out, std::string_view job_uuid);

template <class A, class Handler>
class api_op final : public op_base {
 public:
  api_op(A a, Handler h, boost::asio::io_context::executor_type fallback) : api_(std::move(a)), to_(std::move(h), fallback) {}
  result<void> encode(std::string& out, std::string_view job_uuid) override {
    return encode_api(kind, api_.command(), out, job_uuid);
  }
  void complete(result<std::string>&& r) override {
    using reply = typename A::reply;
    result<reply> v = r ? A::parse(std::move(r).value()) : result<reply>(fail(std::move(r).error()));
    if (!v) count_failure(v.error());
    to_.deliver(std::move(v));
  }
  Handler& handler() noexcept { return to_.handler(); }

 private:
  A api_;
  handoff<Handler> to_;
};

// A command whose reply is a `command/reply` (event, filter, a raw line).
template <class Handler>
class command_op final : public op_base {
 public:
  command_op(std::string text, Handler h, boost::asio::io_context::executor_type fallback)
      : text_(std::move(text)), to_(std::move(h), fallback) {
    kind = op_kind::command;
  }
  result<void> encode(std::string& out, std::string_view) override;
  void complete(result<std::string>&& r) override {
    if (!r) count_failure(r.error());
    to_.deliver(std::move(r));
  }
  Handler& handler() noexcept { return to_.handler(); }

 private:
  std::string text_;
  handoff<Handler> to_;
};
result<void> encode_command(const std::string& text, std::string& out);
template <class Handler>
result<void> command_op<Handler>::encode(std::string& out, std::string_view) {
  return encode_command(text_, out);
}

struct canceller {
  std::shared_ptr<client_impl> client;
  std::weak_ptr<op_base> op;
  void operator()(boost::asio::cancellation_type) const { detail::cancel(client, op); }
};

template <class Op>
void launch(const std::shared_ptr<client_impl>& client, std::shared_ptr<Op> op) {
  auto slot = boost::asio::get_associated_cancellation_slot(op->handler());
  if (slot.is_connected()) slot.template emplace<canceller>(client, std::weak_ptr<op_base>(op));
  detail::start(client, std::move(op));
}

struct api_initiation {
  std::shared_ptr<client_impl> client;
  op_kind kind;
  template <class Handler, class A>
  void operator()(Handler&& handler, A a, std::chrono::milliseconds timeout) const {
    auto op = std::make_shared<api_op<A, std::decay_t<Handler>>>(std::move(a), std::forward<Handler>(handler),
                                                                 executor_of(*client));
    op->kind = kind;
    op->timeout = timeout;
    launch(client, std::move(op));
  }
};

struct command_initiation {
  std::shared_ptr<client_impl> client;
  template <class Handler>
  void operator()(Handler&& handler, std::string text, std::chrono::milliseconds timeout) const {
    auto op = std::make_shared<command_op<std::decay_t<Handler>>>(std::move(text), std::forward<Handler>(handler),
                                                                   executor_of(*client));
    op->timeout = timeout;
    launch(client, std::move(op));
  }
};

}  // namespace detail

class leg;

/// Events for a coroutine to `co_await` (`result<owned_event>`), in the
/// order FreeSWITCH sent them: io/event_stream.hpp.
using event_stream = io::event_stream<owned_event>;

/// One inbound Event Socket connection, living on one executor (one core).
/// Any coroutine, on any thread, may call it at the same time: each call hops
/// to the client's executor and its result hops back to the caller's.
///
///   esl::client fs{ex, {.port = 8021, .password = "ClueCon"}};
///   auto up = co_await fs.connect();                                 // result<void>
///   auto st = co_await fs.api("status");                             // result<std::string>
///   auto id = co_await fs.api(esl::api::originate{.endpoint = "user/1000"});  // result<uuid>
///   auto job = co_await fs.bgapi(esl::api::originate{...});          // waits for its BACKGROUND_JOB
///   fs.on_event("CHANNEL_ANSWER", [](const esl::event& e) { ... });  // subscribes too
///
/// FreeSWITCH answers the commands of one connection in order, without IDs:
/// the client matches replies to calls first in, first out. A call that times
/// out or is cancelled completes at once; its reply, when it comes, is read
/// and dropped (stats().orphans), never given to the next call. A `bgapi` is
/// sent with a Job-UUID of the client's making and completes on the
/// BACKGROUND_JOB event that carries it.
///
/// Every call completes with `result<T>`: `errc::timeout`, `errc::cancelled`,
/// `errc::disconnected` (every waiting call, at once, when the connection is
/// lost), `errc::limit_exceeded` (max_in_flight), `errc::invalid_argument` (a
/// CR/LF in a command), and FreeSWITCH's refusals (check_reply) carrying its words.
///
/// Callbacks (events, state) run on the client's executor inside its reading
/// loop: they must return quickly. The client must outlive the operations
/// started on it. Destroying it closes the connection.
class client {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  client(executor_type ex, client_options options);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept;

  /// Connects, waits for `auth/request`, authenticates and subscribes to the
  /// events wanted so far: `result<void>` (`errc::auth_failed` with
  /// FreeSWITCH's words, `errc::refused` for an ACL's rude rejection,
  /// `errc::timeout`, `errc::disconnected`). After a first success, a lost
  /// connection is made again in the background.
  template <class Token = boost::asio::deferred_t>
  auto connect(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<void>)>(
        [c = impl_](auto handler) {
          connect_start(c, [h = std::make_shared<detail::handoff<decltype(handler)>>(std::move(handler), executor_of(*c))](
                               result<void> r) { h->deliver(std::move(r)); });
        },
        token);
  }

  /// `api <command>`: the reply body, or FreeSWITCH's `-ERR ...` as an error.
  template <class Token = boost::asio::deferred_t>
  auto api(std::string command, Token&& token = {}) {
    return api(esl::api::raw{std::move(command)}, std::forward<Token>(token));
  }
  /// Any API descriptor (api.hpp): `result<A::reply>`.
  template <api_command A, class Token = boost::asio::deferred_t>
  auto api(A a, Token&& token = {}) {
    return api(std::move(a), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  /// The same with its own timeout (0: none).
  template <api_command A, class Token = boost::asio::deferred_t>
  auto api(A a, std::chrono::milliseconds timeout, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<typename A::reply>)>(
        detail::api_initiation{impl_, detail::op_kind::api}, token, std::move(a), timeout);
  }

  /// `bgapi <command>`: completes with the body of its BACKGROUND_JOB event.
  template <class Token = boost::asio::deferred_t>
  auto bgapi(std::string command, Token&& token = {}) {
    return bgapi(esl::api::raw{std::move(command)}, std::forward<Token>(token));
  }
  template <api_command A, class Token = boost::asio::deferred_t>
  auto bgapi(A a, Token&& token = {}) {
    return bgapi(std::move(a), std::chrono::milliseconds{-1}, std::forward<Token>(token));
  }
  /// The same with its own timeout for the whole job (0: none).
  template <api_command A, class Token = boost::asio::deferred_t>
  auto bgapi(A a, std::chrono::milliseconds timeout, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<typename A::reply>)>(
        detail::api_initiation{impl_, detail::op_kind::bgapi}, token, std::move(a), timeout);
  }

  /// A new call (mod_lua's `freeswitch.Session(dialstring)`): `bgapi originate`,
  /// completing when FreeSWITCH has answered or given up: the new leg, or an
  /// error. A call that fails is `errc::failed` with FreeSWITCH's words
  /// (`-ERR USER_BUSY`); `esl::cause_of(error)` gives the cause to branch on.
  /// The other errors are the bgapi's (timeout: client_options::job_timeout).
  awaitable<result<leg>> originate(api::originate call);

  /// Any other command line ("sendevent ...", "log 7"): its `Reply-Text`
  /// (`-ERR ...` is `errc::failed`). A line break ends the command and starts
  /// headers: "sendevent CUSTOM\nEvent-Subclass: x::y".
  template <class Token = boost::asio::deferred_t>
  auto command(std::string line, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<std::string>)>(detail::command_initiation{impl_}, token,
                                                                         std::move(line), std::chrono::milliseconds{-1});
  }

  /// Adds event names (or CUSTOM subclasses "sofia::register", or "ALL") to
  /// this connection's subscription and to every later one: `result<std::string>`
  /// (FreeSWITCH's `Reply-Text`).
  template <class Token = boost::asio::deferred_t>
  auto subscribe(std::vector<std::string> names, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<std::string>)>(detail::command_initiation{impl_}, token,
                                                                         want(names), std::chrono::milliseconds{-1});
  }
  /// `nixevent <names>`: takes them out again.
  template <class Token = boost::asio::deferred_t>
  auto nixevent(std::vector<std::string> names, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<std::string>)>(detail::command_initiation{impl_}, token,
                                                                         unwant(names), std::chrono::milliseconds{-1});
  }
  /// `filter <header> <value>`: FreeSWITCH sends only events matching one of the
  /// filters (BACKGROUND_JOB too: add `filter Event-Name BACKGROUND_JOB` when using bgapi).
  /// Kept for later connections.
  template <class Token = boost::asio::deferred_t>
  auto filter(std::string header, std::string value, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<std::string>)>(
        detail::command_initiation{impl_}, token, add_filter(header, value), std::chrono::milliseconds{-1});
  }
  /// `filter delete <header> [<value>]`.
  template <class Token = boost::asio::deferred_t>
  auto filter_delete(std::string header, std::string value = {}, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<std::string>)>(
        detail::command_initiation{impl_}, token, delete_filter(header, value), std::chrono::milliseconds{-1});
  }

  /// Sends `exit` (FreeSWITCH says `+OK bye` and closes): no reconnecting after it.
  template <class Token = boost::asio::deferred_t>
  auto exit(Token&& token = {}) {
    begin_close();
    return command("exit", std::forward<Token>(token));
  }
  /// Closes the connection now: waiting calls complete with `errc::disconnected`;
  /// no reconnecting. Callable from any thread.
  void close();

  /// Calls `f` with every event of that name, CUSTOM subclass, or "ALL" (""
  /// too), and subscribes to it. The event's views are valid during the call.
  subscription on_event(std::string name, event_handler f);
  void unsubscribe(subscription id);
  /// A queue of events for a coroutine to await (names per `options`, subscribed).
  event_stream stream(stream_options options = {});
  /// Called with each new state.
  void on_state(std::function<void(connection_state)> f);

  connection_state state() const noexcept;
  client_stats stats() const noexcept;

 private:
  static void connect_start(const std::shared_ptr<detail::client_impl>& c, std::function<void(result<void>)> done);
  std::string want(const std::vector<std::string>& names);
  std::string unwant(const std::vector<std::string>& names);
  std::string add_filter(const std::string& header, const std::string& value);
  std::string delete_filter(const std::string& header, const std::string& value);
  void begin_close();

  std::shared_ptr<detail::client_impl> impl_;
};

/// A call leg made by client::originate() (or any UUID): the uuid_* API
/// commands on it. A small value to copy; its client must outlive it. Each
/// verb is the API descriptor of api.hpp sent by client::api(), with its
/// result and errors (`errc::not_found` once the leg is gone).
class leg {
 public:
  leg(client& c, std::string uuid) : client_(&c), uuid_(std::move(uuid)) {}
  const std::string& uuid() const noexcept { return uuid_; }

  /// `uuid_kill <uuid> <cause>`: hangs the leg up.
  template <class Token = boost::asio::deferred_t>
  auto hangup(cause c = cause::normal_clearing, Token&& token = {}) const {
    return client_->api(api::uuid_kill{.uuid = uuid_, .cause = std::string(to_string(c))}, std::forward<Token>(token));
  }
  /// `uuid_transfer`: to an extension of the dialplan ("'&park()' inline" for an application).
  template <class Token = boost::asio::deferred_t>
  auto transfer(std::string destination, std::string dialplan = "XML", std::string context = "default",
                Token&& token = {}) const {
    return client_->api(api::uuid_transfer{.uuid = uuid_, .destination = std::move(destination),
                                           .dialplan = std::move(dialplan), .context = std::move(context)},
                        std::forward<Token>(token));
  }
  /// `uuid_bridge`: connects this leg with another.
  template <class Token = boost::asio::deferred_t>
  auto bridge(const leg& other, Token&& token = {}) const {
    return client_->api(api::uuid_bridge{.uuid = uuid_, .other = other.uuid_}, std::forward<Token>(token));
  }
  /// `uuid_getvar`: the value, or no value when it is unset.
  template <class Token = boost::asio::deferred_t>
  auto get_variable(std::string name, Token&& token = {}) const {
    return client_->api(api::uuid_getvar{.uuid = uuid_, .name = std::move(name)}, std::forward<Token>(token));
  }
  /// `uuid_setvar` (an empty value unsets it).
  template <class Token = boost::asio::deferred_t>
  auto set_variable(std::string name, std::string value, Token&& token = {}) const {
    return client_->api(api::uuid_setvar{.uuid = uuid_, .name = std::move(name), .value = std::move(value)},
                        std::forward<Token>(token));
  }
  /// `uuid_broadcast <uuid> <path> aleg`: plays a file (or `app::args`) to the leg.
  template <class Token = boost::asio::deferred_t>
  auto broadcast(std::string path, Token&& token = {}) const {
    return client_->api(api::uuid_broadcast{.uuid = uuid_, .path = std::move(path)}, std::forward<Token>(token));
  }
  /// `uuid_record <uuid> start|stop <path> [<limit>]`.
  template <class Token = boost::asio::deferred_t>
  auto record(bool start, std::string path, Token&& token = {}) const {
    return client_->api(api::uuid_record{.uuid = uuid_, .start = start, .path = std::move(path)},
                        std::forward<Token>(token));
  }
  /// `uuid_exists`: whether FreeSWITCH still has the leg.
  template <class Token = boost::asio::deferred_t>
  auto exists(Token&& token = {}) const {
    return client_->api(api::uuid_exists{.uuid = uuid_}, std::forward<Token>(token));
  }

 private:
  client* client_;
  std::string uuid_;
};

}  // namespace costrix::esl
