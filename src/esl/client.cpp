#include <costrix/esl/client.hpp>

#include <costrix/log.hpp>

#include "../library_metrics.hpp"
#include <costrix/proto/ami/message.hpp>  // iequals
#include <costrix/proto/esl/command.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace costrix::esl {
namespace asio = boost::asio;
using asio::ip::tcp;
using proto::ami::iequals;
using proto::esl::content_type;
using std::chrono::milliseconds;

std::string_view to_string(connection_state s) noexcept {
  switch (s) {
    case connection_state::disconnected: return "disconnected";
    case connection_state::connecting: return "connecting";
    case connection_state::authenticating: return "authenticating";
    case connection_state::connected: return "connected";
    case connection_state::closed: return "closed";
  }
  return "unknown";
}

namespace {

bool is_subclass(std::string_view name) { return name.find("::") != std::string_view::npos; }

// Whether a handler or stream taking `name` wants `e`.
bool matches(std::string_view name, const event& e) {
  if (name.empty() || iequals(name, "ALL")) return true;
  if (is_subclass(name)) return iequals(name, e.subclass());
  return iequals(name, e.name());
}

// `Reply-Text: -ERR ...` of a command/reply, as an error with FreeSWITCH's words.
error refusal(std::string_view text) {
  errc code = errc::failed;
  if (text.find("command not found") != std::string_view::npos) code = errc::invalid_command;
  return error{code, std::string(text)};
}

std::string_view format_name(proto::esl::event_format f) {
  switch (f) {
    case proto::esl::event_format::json: return "json";
    case proto::esl::event_format::xml: return "xml";
    case proto::esl::event_format::plain: break;
  }
  return "plain";
}

}  // namespace

namespace detail {

result<void> encode_api(op_kind kind, const std::string& command, std::string& out, std::string_view job_uuid) {
  if (kind == op_kind::bgapi) return proto::esl::encode(proto::esl::bgapi{command, job_uuid}, out);
  return proto::esl::encode(proto::esl::api{command}, out);
}

// "line" or "line\nKey: Value\n...": a command line and its headers.
result<void> encode_command(const std::string& text, std::string& out) {
  if (text.empty()) return ok();  // waits for auth/request: nothing to write
  std::string_view rest = text;
  auto nl = rest.find('\n');
  proto::esl::command_writer w(out, rest.substr(0, nl));
  while (nl != std::string_view::npos) {
    rest.remove_prefix(nl + 1);
    nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail(errc::invalid_argument, "ESL command: a header line without ':'");
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    w.header(line.substr(0, colon), value);
  }
  return w.finish();
}

struct stream_state : io::event_queue<owned_event> {
  std::vector<std::string> names;  // empty: every event

  bool wants(const event& e) const {
    if (names.empty()) return true;
    for (const auto& n : names)
      if (matches(n, e)) return true;
    return false;
  }
};

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  using executor_type = asio::io_context::executor_type;

  client_impl(executor_type ex, client_options o)
      : ex_(ex), opts_(std::move(o)), socket_(ex), parser_(opts_.limits), backoff_(ex) {
    rbuf_.resize(64 * 1024);
  }

  executor_type ex_;
  client_options opts_;

  template <class F>
  void run(F&& f) {
    if (ex_.running_in_this_thread()) f();
    else asio::post(ex_, std::forward<F>(f));
  }

  // ---- state

  std::atomic<connection_state> state_{connection_state::disconnected};
  std::vector<std::function<void(connection_state)>> state_fns_;

  void set_state(connection_state s) {
    if (state_.load(std::memory_order_relaxed) == s) return;
    state_.store(s, std::memory_order_relaxed);
    for (std::size_t i = 0; i < state_fns_.size(); ++i) state_fns_[i](s);
  }

  // ---- commands in flight: replies come in the order commands were written

  std::deque<std::shared_ptr<op_base>> fifo_;
  std::unordered_map<std::string, std::shared_ptr<op_base>> jobs_;  // bgapi by Job-UUID, after their reply
  std::unordered_set<std::string> abandoned_jobs_;                  // timed out or cancelled: their events are orphans
  std::size_t live_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};

  std::string new_uuid() {
    std::uint64_t a = rng_(), b = rng_();
    b = (b & 0x0fffffffffffffffULL) | 0x4000000000000000ULL;  // version 4 (nibble 13), variant 10
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, 0x4000 | (a & 0x0fff),
                       0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
  }

  milliseconds timeout_of(const op_base& op) const {
    if (op.timeout.count() >= 0) return op.timeout;
    if (op.login) return opts_.connect_timeout;
    return op.kind == op_kind::bgapi ? opts_.job_timeout : opts_.command_timeout;
  }

  void begin(std::shared_ptr<op_base> op) {
    // While authenticating only the login's own commands go out: FreeSWITCH refuses others.
    if (!link_up_ || (!op->login && state_.load(std::memory_order_relaxed) != connection_state::connected))
      return op->complete(fail(errc::disconnected, "not connected to FreeSWITCH"));
    if (live_ >= opts_.max_in_flight)
      return op->complete(fail(errc::limit_exceeded, fmt::format("{} commands already in flight", live_)));
    if (out_.size() + writing_.size() >= opts_.max_unsent_bytes)
      return op->complete(fail(errc::limit_exceeded, fmt::format("{} bytes not yet taken by FreeSWITCH (is it reading?)",
                                                                 out_.size() + writing_.size())));
    if (op->kind == op_kind::bgapi) op->job_uuid = new_uuid();
    const std::size_t encoded_at = out_.size();
    auto encoded = op->encode(out_, op->job_uuid);
    if (!encoded) return op->complete(fail(std::move(encoded).error()));
    if (op->kind != op_kind::command) metrics::lib::count_esl_api_text(std::string_view(out_).substr(encoded_at));
    ++live_;
    in_flight_.store(live_, std::memory_order_relaxed);
    commands_.fetch_add(1, std::memory_order_relaxed);
    metrics::lib::count_esl_command(op->kind == op_kind::api ? 0 : op->kind == op_kind::bgapi ? 1 : 2);
    fifo_.push_back(op);
    if (op->kind == op_kind::bgapi) jobs_.emplace(op->job_uuid, op);
    milliseconds timeout = timeout_of(*op);
    if (timeout.count() > 0) {
      auto timer = std::make_shared<asio::steady_timer>(ex_, timeout);
      timer->async_wait([w = weak_from_this(), o = std::weak_ptr<op_base>(op), timeout](boost::system::error_code ec) {
        if (ec) return;
        auto self = w.lock();
        auto op = o.lock();
        if (self && op)
          self->finish(*op, fail(errc::timeout, fmt::format("no answer from FreeSWITCH within {} ms", timeout.count())));
      });
      op->timer = std::move(timer);
    }
    kick_write();
  }

  // Completes `op` once. Its place in the FIFO stays: the reply, when it comes, is dropped.
  void finish(op_base& op, result<std::string>&& r) {
    if (op.done) return;
    op.done = true;
    if (auto t = std::static_pointer_cast<asio::steady_timer>(op.timer)) t->cancel();
    op.timer.reset();
    if (!op.job_uuid.empty() && jobs_.erase(op.job_uuid) && !r && !(r.error() == errc::disconnected)) {
      // Its BACKGROUND_JOB may still come. A job FreeSWITCH never reports
      // would stay here: the set is bounded.
      if (abandoned_jobs_.size() >= 4096) abandoned_jobs_.clear();
      abandoned_jobs_.insert(op.job_uuid);
    }
    --live_;
    in_flight_.store(live_, std::memory_order_relaxed);
    op.complete(std::move(r));
  }

  void cancel(const std::shared_ptr<op_base>& op) { finish(*op, fail(errc::cancelled, "the command was cancelled")); }

  void fail_all(const error& why) {
    auto fifo = std::move(fifo_);
    fifo_.clear();
    auto jobs = std::move(jobs_);
    jobs_.clear();
    abandoned_jobs_.clear();
    for (auto& op : fifo) finish(*op, fail(why));
    for (auto& [uuid, op] : jobs) finish(*op, fail(why));
  }

  // ---- writing

  std::string out_, writing_;
  bool write_busy_ = false;

  void kick_write() {
    if (write_busy_ || out_.empty() || !link_up_) return;
    write_busy_ = true;
    std::swap(out_, writing_);
    out_.clear();
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this(), epoch = epoch_](boost::system::error_code ec, std::size_t n) {
                        metrics::lib::esl().bytes_out.inc(n);
                        self->write_busy_ = false;
                        self->writing_.clear();
                        if (ec) {
                          if (epoch == self->epoch_) self->lost(epoch, error{errc::disconnected, ec.message()});
                          return;
                        }
                        self->kick_write();
                      });
  }

  // ---- reading: one loop per connection; it never waits for anyone but the socket

  tcp::socket socket_;
  std::uint64_t epoch_ = 0;
  bool link_up_ = false;
  std::vector<char> rbuf_;
  std::size_t rstart_ = 0, rend_ = 0;
  proto::esl::message_parser parser_;
  proto::esl::event_decoder decoder_;
  std::string notice_;  // the disconnect notice's words, if one came

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
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
                                                      asio::as_tuple(asio::use_awaitable));
      if (epoch != epoch_ || !link_up_) co_return;
      if (ec) {
        std::string text = ec == asio::error::eof ? "FreeSWITCH closed the connection" : ec.message();
        if (!notice_.empty()) text += ": " + notice_;
        why = error{errc::disconnected, std::move(text)};
        break;
      }
      metrics::lib::esl().bytes_in.inc(n);
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
      auto handled = dispatch((*r)->msg);
      if (!handled) return handled;
      if (epoch != epoch_ || !link_up_) return ok();  // a callback closed the client
    }
    if (rstart_ == rend_) rstart_ = rend_ = 0;
    return ok();
  }

  result<void> dispatch(const proto::esl::message& m) {
    switch (m.type()) {
      case content_type::auth_request:
      case content_type::command_reply:
      case content_type::api_response: on_reply(m); return ok();
      case content_type::event_plain:
      case content_type::event_json: on_event(m); return ok();
      case content_type::disconnect_notice: notice_ = std::string(m.body()); return ok();
      case content_type::rude_rejection:
        return fail(errc::refused, fmt::format("FreeSWITCH refused the connection: {}", m.body()));
      default: return ok();  // log/data, text/event-xml: not taken
    }
  }

  void on_reply(const proto::esl::message& m) {
    if (fifo_.empty()) {
      orphans_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::shared_ptr<op_base> op = std::move(fifo_.front());
    fifo_.pop_front();
    if (op->done) {
      orphans_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    switch (op->kind) {
      case op_kind::api:
        if (m.type() == content_type::api_response) return finish(*op, std::string(m.body()));
        return finish(*op, fail(refusal(m.reply_text())));
      case op_kind::bgapi:
        if (m.type() == content_type::command_reply && m.ok()) return;  // now the BACKGROUND_JOB
        return finish(*op, fail(refusal(m.reply_text())));
      case op_kind::command:
        if (m.type() == content_type::auth_request) return finish(*op, std::string("auth/request"));
        if (m.type() == content_type::api_response) return finish(*op, std::string(m.body()));
        if (m.ok()) return finish(*op, std::string(m.reply_text()));
        return finish(*op, fail(refusal(m.reply_text())));
    }
  }

  void on_event(const proto::esl::message& m) {
    auto decoded = decoder_.decode(m);
    if (!decoded) {
      log(log_level::warning, fmt::format("esl: an event was dropped: {}", decoded.error().what()));
      return;
    }
    const event& e = *decoded;
    if (iequals(e.name(), "BACKGROUND_JOB")) {
      std::string_view job = e.get("Job-UUID").value_or("");
      if (auto it = jobs_.find(std::string(job)); it != jobs_.end()) {
        auto op = it->second;
        return finish(*op, std::string(e.body()));
      }
      if (abandoned_jobs_.erase(std::string(job))) {
        orphans_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    publish(e);
  }

  // ---- events

  struct handler {
    subscription id;
    std::string name;
    event_handler fn;
  };
  std::vector<handler> handlers_;
  bool handlers_dirty_ = false;
  std::vector<std::shared_ptr<stream_state>> streams_;
  std::vector<std::string> wanted_;                           // event names and subclasses, as first spelled
  std::vector<std::pair<std::string, std::string>> filters_;  // in the order they were added
  std::atomic<std::uint64_t> next_sub_{1};
  std::atomic<std::uint64_t> in_flight_{0}, commands_{0}, events_{0}, orphans_{0}, logins_{0}, reconnects_{0};

  void publish(const event& e) {
    events_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < handlers_.size(); ++i)
      if (handlers_[i].fn && matches(handlers_[i].name, e)) handlers_[i].fn(e);
    if (handlers_dirty_) {
      std::erase_if(handlers_, [](const handler& h) { return !h.fn; });
      handlers_dirty_ = false;
    }
    for (std::size_t i = 0; i < streams_.size(); ++i)
      if (streams_[i]->wants(e)) streams_[i]->push(e);  // a closed queue takes nothing
    std::erase_if(streams_, [](const auto& s) { return s->closed; });
  }

  // Adds names to the subscription; returns those that are new.
  std::vector<std::string> add_wanted(const std::vector<std::string>& names) {
    std::vector<std::string> added;
    for (const auto& n : names) {
      std::string name = n.empty() ? "ALL" : n;
      bool known = std::any_of(wanted_.begin(), wanted_.end(), [&](const std::string& w) { return iequals(w, name); });
      if (!known) {
        wanted_.push_back(name);
        added.push_back(name);
      }
    }
    return added;
  }

  // "event <format> BACKGROUND_JOB <names> CUSTOM <subclasses>": subclasses come
  // last, as every word after CUSTOM is one.
  std::string event_command(const std::vector<std::string>& names, bool with_jobs) const {
    std::string out = fmt::format("event {}", format_name(opts_.format));
    if (with_jobs) out += " BACKGROUND_JOB";
    std::vector<std::string_view> subclasses;
    for (const auto& n : names) {
      if (is_subclass(n)) subclasses.push_back(n);
      else if (!(with_jobs && iequals(n, "BACKGROUND_JOB"))) out += " " + n;
    }
    if (!subclasses.empty()) {
      out += " CUSTOM";
      for (auto s : subclasses) out += fmt::format(" {}", s);
    }
    return out;
  }

  // Sends a command whose reply nobody awaits (a subscription a handler added).
  void send_detached(std::string text) {
    if (state_.load(std::memory_order_relaxed) != connection_state::connected) return;
    auto done = [](result<std::string> r) {
      if (!r) log(log_level::warning, fmt::format("esl: a subscription failed: {}", r.error().what()));
    };
    begin(std::make_shared<command_op<decltype(done)>>(std::move(text), std::move(done), ex_));
  }

  // ---- connecting, authenticating, losing the connection, reconnecting

  bool closing_ = false;
  bool running_ = false;
  bool establishing_ = false;
  bool reconnecting_ = false;
  asio::steady_timer backoff_;

  // A command of the login (sent while authenticating), awaited here.
  awaitable<result<std::string>> login_step(std::string text) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(result<std::string>)>(
        [self = shared_from_this()](auto handler, std::string text) {
          auto op = std::make_shared<command_op<decltype(handler)>>(std::move(text), std::move(handler), self->ex_);
          op->login = true;
          self->begin(std::move(op));
        },
        asio::use_awaitable, std::move(text));
  }

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
    co_return ok();
  }

  awaitable<result<void>> attempt() {
    set_state(connection_state::connecting);
    boost::system::error_code ignored;
    socket_.close(ignored);
    socket_ = tcp::socket(ex_);
    tcp::resolver resolver(ex_);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(opts_.host, std::to_string(opts_.port), asio::as_tuple(asio::use_awaitable));
    if (rec) co_return fail(errc::disconnected, fmt::format("{}: {}", opts_.host, rec.message()));
    if (closing_) co_return fail(errc::cancelled, "the client was closed");

    auto expired = std::make_shared<bool>(false);
    asio::steady_timer deadline(ex_);
    deadline.expires_after(opts_.connect_timeout);
    deadline.async_wait([expired, this, self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      *expired = true;
      boost::system::error_code ig;
      socket_.close(ig);
    });
    auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, asio::as_tuple(asio::use_awaitable));
    deadline.cancel();
    if (*expired) co_return fail(errc::timeout, fmt::format("no connection within {} ms", opts_.connect_timeout.count()));
    if (cec) co_return fail(errc::disconnected, fmt::format("{}:{}: {}", opts_.host, opts_.port, cec.message()));
    if (closing_) co_return fail(errc::cancelled, "the client was closed");
    socket_.set_option(tcp::no_delay(true), ignored);

    ++epoch_;
    link_up_ = true;
    parser_.reset();
    rstart_ = rend_ = 0;
    out_.clear();
    notice_.clear();
    asio::co_spawn(ex_, read_loop(epoch_), asio::detached);
    set_state(connection_state::authenticating);
    co_return co_await login();
  }

  awaitable<result<void>> login() {
    auto hello = co_await login_step("");  // the auth/request FreeSWITCH sends first
    if (!hello) co_return fail(std::move(hello).error());
    const std::string& secret = opts_.password;
    if (secret.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      co_return fail(errc::invalid_argument, "the password holds a line break or NUL");
    std::string line = opts_.user.empty() ? "auth " + secret
                                          : fmt::format("userauth {}@{}:{}", opts_.user, opts_.domain, secret);
    auto accepted = co_await login_step(std::move(line));
    if (!accepted) {
      error e = std::move(accepted).error();
      // The words are FreeSWITCH's ("-ERR invalid"); an encoding error could quote the line: not kept.
      if (e == errc::invalid_argument) co_return fail(errc::invalid_argument, "the user or password cannot be sent");
      if (e == errc::timeout || e == errc::disconnected || e == errc::cancelled) co_return fail(std::move(e));
      co_return fail(errc::auth_failed, std::move(e.message));
    }
    auto subscribed = co_await login_step(event_command(wanted_, true));
    if (!subscribed) co_return fail(std::move(subscribed).error());
    for (std::size_t i = 0; i < filters_.size(); ++i) {
      auto [h, v] = filters_[i];
      auto filtered = co_await login_step(fmt::format("filter {} {}", h, v));
      if (!filtered) co_return fail(std::move(filtered).error());
    }
    co_return ok();
  }

  void lost(std::uint64_t epoch, const error& why) {
    if (epoch != epoch_ || !link_up_) return;
    link_up_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
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
        metrics::lib::esl().reconnects.inc();
        break;
      }
      log(log_level::info, fmt::format("esl: reconnecting to {}:{} failed: {}", opts_.host, opts_.port, r.error().what()));
      delay = std::min(delay * 2, opts_.reconnect.max_delay);
    }
    reconnecting_ = false;
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
    if (link_up_) lost(epoch_, error{errc::disconnected, "the client was closed"});
    else set_state(connection_state::closed);
    if (!link_up_) {
      boost::system::error_code ignored;
      socket_.close(ignored);
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

void count_failure(const error& e) noexcept { metrics::lib::esl().errors[metrics::lib::error_kind(e)].inc(); }

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

std::string client::want(const std::vector<std::string>& names) {
  impl_->run([c = impl_, names] { c->add_wanted(names); });
  return impl_->event_command(names, false);
}

std::string client::unwant(const std::vector<std::string>& names) {
  impl_->run([c = impl_, names] {
    for (const auto& n : names)
      std::erase_if(c->wanted_, [&](const std::string& w) { return iequals(w, n); });
  });
  // As event_command(): mod_event_socket takes every word after CUSTOM as a
  // subclass, and a subclass without it as no event at all (-ERR no keywords supplied).
  std::string out = "nixevent";
  std::string subclasses;
  for (const auto& n : names) (is_subclass(n) ? subclasses : out) += " " + n;
  if (!subclasses.empty()) out += " CUSTOM" + subclasses;
  return out;
}

std::string client::add_filter(const std::string& header, const std::string& value) {
  impl_->run([c = impl_, header, value] { c->filters_.emplace_back(header, value); });
  return fmt::format("filter {} {}", header, value);
}

std::string client::delete_filter(const std::string& header, const std::string& value) {
  impl_->run([c = impl_, header, value] {
    std::erase_if(c->filters_, [&](const auto& f) {
      return iequals(header, "all") || (iequals(f.first, header) && (value.empty() || f.second == value));
    });
  });
  return value.empty() ? fmt::format("filter delete {}", header) : fmt::format("filter delete {} {}", header, value);
}

subscription client::on_event(std::string name, event_handler f) {
  subscription id = impl_->next_sub_.fetch_add(1, std::memory_order_relaxed);
  impl_->run([c = impl_, id, name = std::move(name), f = std::move(f)]() mutable {
    auto added = c->add_wanted({name});
    if (!added.empty()) c->send_detached(c->event_command(added, false));
    c->handlers_.push_back({id, std::move(name), std::move(f)});
  });
  return id;
}

void client::unsubscribe(subscription id) {
  impl_->run([c = impl_, id] {
    for (auto& h : c->handlers_)
      if (h.id == id) h.fn = nullptr;
    c->handlers_dirty_ = true;
  });
}

event_stream client::stream(stream_options options) {
  auto s = std::make_shared<detail::stream_state>();
  s->names = std::move(options.names);
  s->capacity = options.capacity;
  s->policy = options.policy;
  s->drop_metric = metrics::lib::esl().event_drops;
  s->depth_metric = metrics::lib::esl().event_depth;
  impl_->run([c = impl_, s] {
    auto added = c->add_wanted(s->names.empty() ? std::vector<std::string>{"ALL"} : s->names);
    if (!added.empty()) c->send_detached(c->event_command(added, false));
    c->streams_.push_back(s);
  });
  return event_stream{impl_->ex_, std::move(s)};
}

void client::on_state(std::function<void(connection_state)> f) {
  impl_->run([c = impl_, f = std::move(f)]() mutable { c->state_fns_.push_back(std::move(f)); });
}

connection_state client::state() const noexcept { return impl_->state_.load(std::memory_order_relaxed); }

client_stats client::stats() const noexcept {
  const auto& c = *impl_;
  return {.commands = c.commands_.load(std::memory_order_relaxed),
          .events = c.events_.load(std::memory_order_relaxed),
          .orphans = c.orphans_.load(std::memory_order_relaxed),
          .logins = c.logins_.load(std::memory_order_relaxed),
          .reconnects = c.reconnects_.load(std::memory_order_relaxed),
          .in_flight = c.in_flight_.load(std::memory_order_relaxed)};
}

awaitable<result<leg>> client::originate(api::originate call) {
  auto uuid = co_await bgapi(std::move(call));
  if (!uuid) co_return fail(std::move(uuid).error());
  co_return leg{*this, std::move(*uuid)};
}

}  // namespace costrix::esl
