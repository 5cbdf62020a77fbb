#include <costrix/ami/client.hpp>

#include <costrix/log.hpp>

#include "../library_metrics.hpp"
#include <costrix/proto/ami/login_key.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <optional>
#include <random>

namespace costrix::ami {
namespace asio = boost::asio;
using asio::ip::tcp;
using proto::ami::iequals;
using std::chrono::milliseconds;

std::string_view to_string(connection_state s) noexcept {
  switch (s) {
    case connection_state::disconnected: return "disconnected";
    case connection_state::connecting: return "connecting";
    case connection_state::logging_in: return "logging_in";
    case connection_state::connected: return "connected";
    case connection_state::closed: return "closed";
  }
  return "unknown";
}

namespace detail {

struct stream_state : io::event_queue<owned_message> {
  std::vector<std::string> names;  // empty: every event

  bool wants(const message& m) const {
    if (names.empty()) return true;
    for (const auto& n : names)
      if (iequals(n, m.name())) return true;
    return false;
  }
};

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  using executor_type = asio::io_context::executor_type;

  client_impl(executor_type ex, client_options o)
      : ex_(ex), opts_(std::move(o)), socket_(ex), parser_(opts_.limits), backoff_(ex), keepalive_timer_(ex) {
    if (opts_.action_id_prefix.empty()) {
      std::random_device rd;
      opts_.action_id_prefix = fmt::format("cx{:08x}", rd());
    }
    prefix_ = opts_.action_id_prefix + "-";
    rbuf_.resize(64 * 1024);
    if (opts_.tls.enabled) tls_context_ = make_tls_context(opts_.tls);
  }

  executor_type ex_;
  client_options opts_;
  std::string prefix_;

  // ---- running things on the client's thread

  template <class F>
  void run(F&& f) {
    if (ex_.running_in_this_thread()) f();
    else asio::post(ex_, std::forward<F>(f));
  }

  // ---- connection state

  std::atomic<connection_state> state_{connection_state::disconnected};
  std::vector<std::function<void(connection_state)>> state_fns_;

  void set_state(connection_state s) {
    if (state_.load(std::memory_order_relaxed) == s) return;
    state_.store(s, std::memory_order_relaxed);
    for (std::size_t i = 0; i < state_fns_.size(); ++i) state_fns_[i](s);
  }

  // ---- the ActionID table: slot index + generation, touched on this thread only

  enum class phase : unsigned char { response, list, completion };
  struct slot {
    explicit slot(executor_type ex) : timer(ex) {}
    std::uint32_t generation = 0;
    std::shared_ptr<op_base> op;  // empty: free
    phase at = phase::response;
    response reply;
    std::optional<owned_message> early;  // the completion event, come before the response
    asio::steady_timer timer;
  };
  std::deque<slot> slots_;  // a deque: slots never move
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;

  // "<prefix>-<slot hex>-<generation hex>"
  static void append_hex(std::string& out, std::uint32_t v) {
    char buf[8];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
    out.append(buf, end);
  }
  std::string& id_of(std::uint32_t index, std::uint32_t generation) {
    id_scratch_.assign(prefix_);
    append_hex(id_scratch_, index);
    id_scratch_ += '-';
    append_hex(id_scratch_, generation);
    return id_scratch_;
  }
  std::string id_scratch_;

  bool ours(std::string_view id) const noexcept { return id.starts_with(prefix_); }

  // The live slot an ActionID names, or nullptr (not ours, malformed, or stale).
  slot* find(std::string_view id) {
    if (!ours(id)) return nullptr;
    id.remove_prefix(prefix_.size());
    auto dash = id.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 >= id.size()) return nullptr;
    std::uint32_t index = 0, generation = 0;
    auto a = std::from_chars(id.data(), id.data() + dash, index, 16);
    auto b = std::from_chars(id.data() + dash + 1, id.data() + id.size(), generation, 16);
    if (a.ptr != id.data() + dash || b.ptr != id.data() + id.size()) return nullptr;
    if (index >= slots_.size()) return nullptr;
    slot& s = slots_[index];
    if (!s.op || s.generation != generation) return nullptr;
    return &s;
  }

  std::uint32_t index_of(const slot& s) const { return s.op->slot; }

  void begin(std::shared_ptr<op_base> op) {
    // While logging in only the login's own actions go out: Asterisk would refuse others.
    if (!link_up_ || (!op->login && state_.load(std::memory_order_relaxed) != connection_state::connected))
      return op->complete(fail(errc::disconnected, "not connected to Asterisk"));
    if (live_ >= opts_.max_in_flight)
      return op->complete(fail(errc::limit_exceeded, fmt::format("{} actions already in flight", live_)));
    if (out_.size() + writing_.size() >= opts_.max_unsent_bytes)
      return op->complete(fail(errc::limit_exceeded, fmt::format("{} bytes not yet taken by Asterisk (is it reading?)",
                                                                 out_.size() + writing_.size())));
    std::uint32_t index;
    if (free_.empty()) {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back(ex_);
    } else {
      index = free_.back();
      free_.pop_back();
    }
    slot& s = slots_[index];
    const std::size_t encoded_at = out_.size();
    auto encoded = op->encode(out_, id_of(index, s.generation));
    if (!encoded) {
      free_.push_back(index);
      return op->complete(fail(std::move(encoded).error()));
    }
    op->slot = index;
    op->generation = s.generation;
    s.at = phase::response;
    milliseconds timeout = op->timeout.count() < 0 ? opts_.action_timeout : op->timeout;
    s.op = std::move(op);
    ++live_;
    in_flight_.store(live_, std::memory_order_relaxed);
    actions_.fetch_add(1, std::memory_order_relaxed);
    metrics::lib::ami().in_flight.inc();
    metrics::lib::count_ami_action_text(std::string_view(out_).substr(encoded_at));
    if (timeout.count() > 0) {
      s.timer.expires_after(timeout);
      s.timer.async_wait([w = weak_from_this(), index, generation = s.generation, timeout](boost::system::error_code ec) {
        if (ec) return;
        auto self = w.lock();
        if (!self) return;
        slot& t = self->slots_[index];
        if (t.op && t.generation == generation)
          self->finish(index, fail(errc::timeout, fmt::format("no answer from Asterisk within {} ms", timeout.count())));
      });
    }
    kick_write();
  }

  // Completes the action in slot `index` and frees the slot: a later message
  // with its ActionID finds another generation and is an orphan.
  void finish(std::uint32_t index, result<response>&& r) {
    slot& s = slots_[index];
    std::shared_ptr<op_base> op = std::move(s.op);
    ++s.generation;
    s.timer.cancel();
    s.reply = response{};
    s.early.reset();
    free_.push_back(index);
    --live_;
    in_flight_.store(live_, std::memory_order_relaxed);
    metrics::lib::ami().in_flight.dec();
    if (!r) metrics::lib::ami().errors[metrics::lib::error_kind(r.error())].inc();
    if (!r && r.error() == errc::timeout) metrics::lib::ami().timed_out.inc();
    op->complete(std::move(r));
  }

  void cancel(const std::shared_ptr<op_base>& op) {
    if (op->slot >= slots_.size()) return;
    slot& s = slots_[op->slot];
    if (s.op != op || s.generation != op->generation) return;  // already answered
    finish(op->slot, fail(errc::cancelled, "the action was cancelled"));
  }

  void fail_all(const error& why) {
    for (std::uint32_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].op) finish(i, fail(why));
  }

  // ---- writing: actions are appended to out_; one write at a time takes all of it

  std::string out_, writing_;
  bool write_busy_ = false;

  void kick_write() {
    if (write_busy_ || out_.empty() || !link_up_) return;
    write_busy_ = true;
    std::swap(out_, writing_);
    out_.clear();
    auto done = [self = shared_from_this(), epoch = epoch_, tls = tls_](boost::system::error_code ec, std::size_t n) {
      metrics::lib::ami().bytes_out.inc(n);
      self->write_busy_ = false;
      self->writing_.clear();
      if (ec) {
        if (epoch == self->epoch_) self->lost(epoch, error{errc::disconnected, ec.message()});
        return;
      }
      self->kick_write();
    };
    if (tls_) asio::async_write(*tls_, asio::buffer(writing_), std::move(done));
    else asio::async_write(socket_, asio::buffer(writing_), std::move(done));
  }

  // ---- reading: one loop per connection; it never waits for anyone but the socket

  // A TLS connection's stream owns its socket (a pending operation of an old
  // connection keeps its own alive); a plain connection uses socket_.
  using tls_stream = asio::ssl::stream<tcp::socket>;
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::shared_ptr<tls_stream> tls_;
  tcp::socket& sock() noexcept { return tls_ ? tls_->next_layer() : socket_; }

  static std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& o) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                     ec);
    if (!o.ca_file.empty()) ctx->load_verify_file(o.ca_file, ec);
    else ctx->set_default_verify_paths(ec);
    if (ec) log(log_level::warning, fmt::format("ami: TLS: cannot load the trusted certificates: {}", ec.message()));
    ctx->set_verify_mode(o.verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
    return ctx;
  }

  // The TLS handshake on the connected socket, checking the certificate
  // against the trusted CAs and the server's name.
  awaitable<result<void>> handshake(const std::shared_ptr<bool>& expired) {
    tls_ = std::make_shared<tls_stream>(std::move(socket_), *tls_context_);
    socket_ = tcp::socket(ex_);
    const std::string& name = opts_.tls.server_name.empty() ? opts_.host : opts_.tls.server_name;
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), name.c_str()))
      co_return fail(errc::invalid_argument, fmt::format("TLS: \"{}\" cannot be sent as the server name", name));
    if (opts_.tls.verify) tls_->set_verify_callback(asio::ssl::host_name_verification(name));
    auto tls = tls_;
    auto [ec] = co_await tls->async_handshake(tls_stream::client, asio::as_tuple(asio::use_awaitable));
    if (*expired) co_return fail(errc::timeout, fmt::format("no TLS handshake within {} ms", opts_.connect_timeout.count()));
    if (ec) {
      std::string why = ec.message();
      if (ec.category() == asio::error::get_ssl_category()) {
        long verify = SSL_get_verify_result(tls->native_handle());
        if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
      }
      co_return fail(errc::auth_failed, fmt::format("TLS with {}:{}: {}", opts_.host, opts_.port, why));
    }
    co_return ok();
  }
  std::uint64_t epoch_ = 0;  // one per connection
  bool link_up_ = false;     // the socket is connected (logged in or not)
  std::vector<char> rbuf_;
  std::size_t rstart_ = 0, rend_ = 0;
  proto::ami::message_parser parser_;

  awaitable<void> read_loop(std::uint64_t epoch) {
    auto self = shared_from_this();
    error why{errc::disconnected};
    for (;;) {
      if (rstart_ > 0 && (rend_ == rbuf_.size() || rstart_ >= rbuf_.size() / 2)) {
        std::memmove(rbuf_.data(), rbuf_.data() + rstart_, rend_ - rstart_);
        rend_ -= rstart_;
        rstart_ = 0;
      }
      if (rend_ == rbuf_.size()) rbuf_.resize(rbuf_.size() * 2);  // the parser's limits bound this
      auto space = asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_);
      boost::system::error_code ec;
      std::size_t n = 0;
      if (auto tls = tls_) std::tie(ec, n) = co_await tls->async_read_some(space, asio::as_tuple(asio::use_awaitable));
      else std::tie(ec, n) = co_await socket_.async_read_some(space, asio::as_tuple(asio::use_awaitable));
      if (epoch != epoch_ || !link_up_) co_return;
      if (ec) {
        why = ec == asio::error::eof ? error{errc::disconnected, "Asterisk closed the connection"}
                                     : error{errc::disconnected, ec.message()};
        break;
      }
      metrics::lib::ami().bytes_in.inc(n);
      rend_ += n;
      auto drained = drain(epoch);
      if (!drained) {
        why = std::move(drained).error();
        break;
      }
      if (epoch != epoch_ || !link_up_) co_return;
    }
    lost(epoch, why);
  }

  result<void> drain(std::uint64_t epoch) {
    while (rstart_ < rend_) {
      auto r = parser_.parse(std::string_view(rbuf_.data() + rstart_, rend_ - rstart_));
      if (!r) return fail(std::move(r).error());
      if (!*r) break;
      rstart_ += (*r)->consumed;
      dispatch((*r)->msg);
      if (epoch != epoch_ || !link_up_) return ok();  // a callback closed the client
    }
    if (rstart_ == rend_) rstart_ = rend_ = 0;
    return ok();
  }

  void dispatch(const message& m) {
    switch (m.kind()) {
      case proto::ami::message_kind::banner:
        banner_ = std::string(m.version());
        return;
      case proto::ami::message_kind::response: {
        slot* s = find(m.action_id());
        if (!s) return orphan(m);
        return on_response(*s, m);
      }
      case proto::ami::message_kind::event: {
        // An event carrying one of our ActionIDs belongs to its action while
        // that action gathers a list or waits for its completion event;
        // otherwise it is an event like any other (UserEvent copies the
        // ActionID of the action that raised it into the event every session gets).
        std::string_view id = m.action_id();
        if (!id.empty())
          if (slot* s = find(id); s && on_action_event(*s, m)) return;
        return publish(m);
      }
      default: return;
    }
  }

  void on_response(slot& s, const message& m) {
    std::uint32_t index = s.op->slot;
    if (s.at != phase::response) return orphan(m);  // a second response for one ActionID
    s.reply.status = status_of(m.name());
    s.reply.fields = owned_message(m);
    if (auto list = m.get("EventList"); list && iequals(*list, "start")) {
      s.at = phase::list;
      return;
    }
    if (!s.op->completion_event.empty() && s.reply.status == response_status::success) {
      if (s.early) {
        s.reply.last = std::move(s.early);
        return finish(index, std::move(s.reply));
      }
      s.at = phase::completion;
      return;
    }
    finish(index, std::move(s.reply));
  }

  // True when the event was the action's.
  bool on_action_event(slot& s, const message& m) {
    std::uint32_t index = s.op->slot;
    switch (s.at) {
      case phase::response:
        if (s.op->completion_event.empty() || !iequals(m.name(), s.op->completion_event)) return false;
        s.early.emplace(m);
        return true;
      case phase::list: {
        auto list = m.get("EventList");
        if (list && iequals(*list, "Complete")) {
          s.reply.last.emplace(m);
          if (auto items = m.get("ListItems")) {
            std::size_t n = 0;
            auto [end, ec] = std::from_chars(items->data(), items->data() + items->size(), n);
            if (ec != std::errc{} || end != items->data() + items->size() || n != s.reply.events.size()) {
              finish(index, fail(errc::protocol, fmt::format("{} says ListItems: {}, but {} events came", m.name(),
                                                             *items, s.reply.events.size())));
              return true;
            }
          }
          finish(index, std::move(s.reply));
          return true;
        }
        if (list && iequals(*list, "Cancelled")) {
          finish(index, fail(errc::failed, fmt::format("{}: the event list was cancelled", m.name())));
          return true;
        }
        s.reply.events.emplace_back(m);
        return true;
      }
      case phase::completion:
        if (!iequals(m.name(), s.op->completion_event)) return false;
        s.reply.last.emplace(m);
        finish(index, std::move(s.reply));
        return true;
    }
    return false;
  }

  // ---- events

  struct sub {
    subscription id;
    std::string name;  // empty: every event
    event_handler fn;
  };
  std::vector<sub> subs_;
  bool subs_dirty_ = false;
  std::vector<std::shared_ptr<stream_state>> streams_;
  event_handler orphan_fn_;
  std::atomic<std::uint64_t> next_sub_{1};
  std::atomic<std::uint64_t> in_flight_{0}, actions_{0}, events_{0}, orphans_{0}, logins_{0}, reconnects_{0};
  std::string banner_;

  void publish(const message& m) {
    events_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < subs_.size(); ++i) {
      if (!subs_[i].fn) continue;
      if (subs_[i].name.empty() || iequals(subs_[i].name, m.name())) subs_[i].fn(m);
    }
    if (subs_dirty_) {
      std::erase_if(subs_, [](const sub& s) { return !s.fn; });
      subs_dirty_ = false;
    }
    for (std::size_t i = 0; i < streams_.size(); ++i)
      if (streams_[i]->wants(m)) streams_[i]->push(m);  // a closed queue takes nothing
    std::erase_if(streams_, [](const auto& s) { return s->closed; });
  }

  void orphan(const message& m) {
    orphans_.fetch_add(1, std::memory_order_relaxed);
    if (orphan_fn_) orphan_fn_(m);
  }

  // ---- connecting, logging in, losing the connection, reconnecting

  bool closing_ = false;       // close() or logoff(): no more reconnecting
  bool running_ = false;       // connect() succeeded: losses are repaired
  bool establishing_ = false;  // an attempt (connect + login) is in progress
  bool reconnecting_ = false;
  asio::steady_timer backoff_;
  asio::steady_timer keepalive_timer_;

  template <action_descriptor A>
  auto send_here(A a, milliseconds timeout, bool login = false) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(result<reply_t<A>>)>(
        send_initiation{shared_from_this(), login}, asio::use_awaitable, std::move(a), timeout);
  }

  // One attempt: TCP connect, then (the banner is read by the loop) login.
  awaitable<result<void>> establish() {
    auto self = shared_from_this();
    establishing_ = true;
    auto r = co_await attempt();
    establishing_ = false;
    if (!r) {
      if (link_up_) lost(epoch_, r.error());
      if (!closing_) set_state(connection_state::disconnected);
      co_return r;
    }
    if (closing_) co_return fail(errc::cancelled, "the client was closed");
    logins_.fetch_add(1, std::memory_order_relaxed);
    set_state(connection_state::connected);
    if (opts_.keepalive.count() > 0) asio::co_spawn(ex_, keepalive(epoch_), asio::detached);
    co_return ok();
  }

  awaitable<result<void>> attempt() {
    set_state(connection_state::connecting);
    boost::system::error_code ignored;
    sock().close(ignored);
    socket_ = tcp::socket(ex_);
    tls_.reset();
    tcp::resolver resolver(ex_);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(opts_.host, std::to_string(opts_.port), asio::as_tuple(asio::use_awaitable));
    if (rec) co_return fail(errc::disconnected, fmt::format("{}: {}", opts_.host, rec.message()));
    if (closing_) co_return fail(errc::cancelled, "the client was closed");

    // The connect's deadline closes the socket; its handler only touches a shared flag.
    auto expired = std::make_shared<bool>(false);
    asio::steady_timer deadline(ex_);
    deadline.expires_after(opts_.connect_timeout);
    deadline.async_wait([expired, this, self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      *expired = true;
      boost::system::error_code ig;
      sock().close(ig);
    });
    auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, asio::as_tuple(asio::use_awaitable));
    if (!tls_context_) deadline.cancel();  // with TLS it covers the handshake too
    if (*expired) co_return fail(errc::timeout, fmt::format("no connection within {} ms", opts_.connect_timeout.count()));
    if (cec) co_return fail(errc::disconnected, fmt::format("{}:{}: {}", opts_.host, opts_.port, cec.message()));
    if (closing_) co_return fail(errc::cancelled, "the client was closed");
    socket_.set_option(tcp::no_delay(true), ignored);
    if (tls_context_) {
      auto secured = co_await handshake(expired);
      deadline.cancel();
      if (!secured) {
        sock().close(ignored);
        co_return fail(std::move(secured).error());
      }
    }

    ++epoch_;
    link_up_ = true;
    parser_.reset();
    rstart_ = rend_ = 0;
    out_.clear();
    asio::co_spawn(ex_, read_loop(epoch_), asio::detached);
    set_state(connection_state::logging_in);
    co_return co_await login();
  }

  awaitable<result<void>> login() {
    raw request{"Login"};
    if (opts_.login == login_method::md5) {
      raw ask{"Challenge"};
      ask.add("AuthType", "MD5");
      auto challenge = co_await send_here(std::move(ask), opts_.connect_timeout, true);
      if (!challenge) co_return fail(std::move(challenge).error());
      if (!challenge->ok())  // no fallback to a plain Login: that would send the secret
        co_return fail(errc::auth_failed,
                       fmt::format("Asterisk refused the MD5 Challenge ({}); login_method::plain sends the secret instead",
                                   challenge->text()));
      std::string key = proto::ami::login_key(challenge->get("Challenge").value_or(""), opts_.secret);
      request.add("AuthType", "MD5").add("Username", opts_.username).add("Key", key);
    } else {
      request.add("Username", opts_.username).add("Secret", opts_.secret);
    }
    request.add("Events", opts_.events);
    auto answer = co_await send_here(std::move(request), opts_.connect_timeout, true);
    if (!answer) co_return fail(std::move(answer).error());
    if (!answer->ok()) co_return fail(errc::auth_failed, std::string(answer->text()));
    co_return ok();
  }

  // The connection `epoch` is gone: every waiting action fails at once.
  void lost(std::uint64_t epoch, const error& why) {
    if (epoch != epoch_ || !link_up_) return;
    link_up_ = false;
    boost::system::error_code ignored;
    sock().close(ignored);
    keepalive_timer_.cancel();
    fail_all(why);
    if (closing_) return set_state(connection_state::closed);
    if (establishing_) return;  // the attempt in progress reports it
    set_state(connection_state::disconnected);
    if (running_ && opts_.reconnect.enabled && !reconnecting_) asio::co_spawn(ex_, reconnect(), asio::detached);
  }

  awaitable<void> reconnect() {
    auto self = shared_from_this();
    reconnecting_ = true;
    milliseconds delay = opts_.reconnect.initial_delay;
    while (!closing_) {
      backoff_.expires_after(delay);
      co_await backoff_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (closing_) break;
      auto r = co_await establish();
      if (r) {
        reconnects_.fetch_add(1, std::memory_order_relaxed);
        metrics::lib::ami().reconnects.inc();
        break;
      }
      log(log_level::info, fmt::format("ami: reconnecting to {}:{} failed: {}", opts_.host, opts_.port, r.error().what()));
      delay = std::min(delay * 2, opts_.reconnect.max_delay);
    }
    reconnecting_ = false;
  }

  awaitable<void> keepalive(std::uint64_t epoch) {
    auto self = shared_from_this();
    while (epoch == epoch_ && link_up_ && !closing_) {
      keepalive_timer_.expires_after(opts_.keepalive);
      auto [ec] = co_await keepalive_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || epoch != epoch_ || !link_up_) co_return;
      auto pong = co_await send_here(ping{}, opts_.keepalive);
      if (!pong && pong.error() == errc::timeout && epoch == epoch_)
        lost(epoch, error{errc::disconnected, "no answer to the keepalive Ping"});
    }
  }

  void connect(std::function<void(result<void>)> done) {
    if (running_ || establishing_ || reconnecting_)
      return done(fail(errc::invalid_argument, "connect() was already called"));
    closing_ = false;
    asio::co_spawn(ex_, [](std::shared_ptr<client_impl> self, std::function<void(result<void>)> done) -> awaitable<void> {
      auto r = co_await self->establish();
      if (r) self->running_ = true;
      done(std::move(r));
    }(shared_from_this(), std::move(done)), asio::detached);
  }

  void close() {
    closing_ = true;
    running_ = false;
    backoff_.cancel();
    keepalive_timer_.cancel();
    if (link_up_) lost(epoch_, error{errc::disconnected, "the client was closed"});
    else set_state(connection_state::closed);
    if (!link_up_) {
      boost::system::error_code ignored;
      sock().close(ignored);  // an attempt in progress
    }
  }
};

void start(const std::shared_ptr<client_impl>& c, std::shared_ptr<op_base> op) {
  c->run([c, op = std::move(op)]() mutable { c->begin(std::move(op)); });
}

void cancel(const std::shared_ptr<client_impl>& c, const std::weak_ptr<op_base>& op) {
  asio::post(c->ex_, [c, op] {
    if (auto o = op.lock()) c->cancel(o);
  });
}

asio::io_context::executor_type executor_of(const client_impl& c) noexcept { return c.ex_; }

}  // namespace detail

// ---- client

client::client(executor_type ex, client_options options)
    : impl_(std::make_shared<detail::client_impl>(ex, std::move(options))) {}

client::~client() { close(); }

client::executor_type client::get_executor() const noexcept { return impl_->ex_; }

void client::connect_start(const std::shared_ptr<detail::client_impl>& c, std::function<void(result<void>)> done) {
  c->run([c, done = std::move(done)]() mutable { c->connect(std::move(done)); });
}

void client::close() {
  impl_->run([c = impl_] { c->close(); });
}

void client::begin_close() {
  impl_->run([c = impl_] {
    c->closing_ = true;
    c->running_ = false;
    c->backoff_.cancel();
  });
}

void client::remember_events(const std::string& mask) {
  impl_->run([c = impl_, mask] { c->opts_.events = mask; });
}

subscription client::on_event(std::string name, event_handler f) {
  subscription id = impl_->next_sub_.fetch_add(1, std::memory_order_relaxed);
  impl_->run([c = impl_, id, name = std::move(name), f = std::move(f)]() mutable {
    std::string n = name == "*" ? std::string{} : std::move(name);
    c->subs_.push_back({id, std::move(n), std::move(f)});
  });
  return id;
}

void client::unsubscribe(subscription id) {
  impl_->run([c = impl_, id] {
    for (auto& s : c->subs_)
      if (s.id == id) s.fn = nullptr;
    c->subs_dirty_ = true;
  });
}

event_stream client::stream(stream_options options) {
  auto s = std::make_shared<detail::stream_state>();
  s->names = std::move(options.names);
  s->capacity = options.capacity;
  s->policy = options.policy;
  s->drop_metric = metrics::lib::ami().event_drops;
  s->depth_metric = metrics::lib::ami().event_depth;
  impl_->run([c = impl_, s] { c->streams_.push_back(s); });
  return event_stream{impl_->ex_, std::move(s)};
}

void client::on_orphan(event_handler f) {
  impl_->run([c = impl_, f = std::move(f)]() mutable { c->orphan_fn_ = std::move(f); });
}

void client::on_state(std::function<void(connection_state)> f) {
  impl_->run([c = impl_, f = std::move(f)]() mutable { c->state_fns_.push_back(std::move(f)); });
}

connection_state client::state() const noexcept { return impl_->state_.load(std::memory_order_relaxed); }

client_stats client::stats() const noexcept {
  const auto& c = *impl_;
  return {.actions = c.actions_.load(std::memory_order_relaxed),
          .events = c.events_.load(std::memory_order_relaxed),
          .orphans = c.orphans_.load(std::memory_order_relaxed),
          .logins = c.logins_.load(std::memory_order_relaxed),
          .reconnects = c.reconnects_.load(std::memory_order_relaxed),
          .in_flight = c.in_flight_.load(std::memory_order_relaxed)};
}

}  // namespace costrix::ami
