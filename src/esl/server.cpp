#include <costrix/esl/server.hpp>

#include <costrix/io/listener.hpp>
#include <costrix/log.hpp>

#include "../library_metrics.hpp"
#include "log_call.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <optional>

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace costrix::esl {
namespace asio = boost::asio;
using asio::ip::tcp;
using metrics::lib::end_cause;

struct server::route_entry {
  std::string exact;
  std::optional<std::regex> pattern;
  handler run;
};

struct server::route_table {
  std::vector<route_entry> entries;
  handler fallback;

  const handler* find(std::string_view value) const {
    for (const auto& e : entries)
      if (e.pattern ? std::regex_search(value.begin(), value.end(), *e.pattern) : e.exact == value) return &e.run;
    return fallback ? &fallback : nullptr;
  }
};

// One connection, from accept to close, touched only on its core.
struct server::call {
  call(runtime::executor_type ex, int fd, const session_options& options)
      : stream(io::stream::adopt(ex, fd)), session(stream, options) {}
  io::stream stream;
  esl::session session;
  std::shared_ptr<const route_table> routes;  // keeps the handler alive for the whole call
  asio::cancellation_signal cancel;           // cancels what the handler awaits (stop's deadline)
  metrics::lib::end_cause cause = metrics::lib::end_cause::handler_returned;
  bool closed_by_stop = false;                // close_all() closed the socket
  call* prev = nullptr;
  call* next = nullptr;
};

struct server::core_state {
  explicit core_state(runtime::executor_type ex) : executor(ex), acceptor(ex), grace(ex), backoff(ex) {}
  runtime::executor_type executor;
  tcp::acceptor acceptor;
  asio::steady_timer grace;
  asio::steady_timer backoff;
  call* head = nullptr;  // the calls, an intrusive list
  std::chrono::steady_clock::time_point refused_logged_at{};
  std::size_t refused_unlogged = 0;

  void push(call* c) noexcept {
    c->next = head;
    if (head) head->prev = c;
    head = c;
  }
  void erase(call* c) noexcept {
    (c->prev ? c->prev->next : head) = c->next;
    if (c->next) c->next->prev = c->prev;
  }
  void close_all() {
    for (call* c = head; c; c = c->next) {
      c->closed_by_stop = true;
      c->stream.close();
      c->cancel.emit(asio::cancellation_type::terminal);
    }
  }
};

server::server(runtime& rt, server_options options)
    : rt_(rt), options_(std::move(options)), routes_(std::make_shared<const route_table>()) {
  for (unsigned i = 0; i < rt_.size(); ++i) cores_.push_back(std::make_unique<core_state>(rt_.executor(i)));
  metrics::lib::esl_outbound(), metrics::lib::esl();  // every series registered before the first call
}

server::~server() {
  if (stopping_) return;
  for (auto& c : cores_) {
    boost::system::error_code ignored;
    c->acceptor.close(ignored);
  }
}

void server::update_routes(const std::function<void(route_table&)>& change) {
  std::lock_guard lock(stop_mutex_);
  auto next = std::make_shared<route_table>(*routes_.load());
  change(*next);
  routes_.store(std::move(next));
}

server& server::route(std::string value, handler h) {
  update_routes([&](route_table& t) { t.entries.push_back({std::move(value), std::nullopt, std::move(h)}); });
  return *this;
}
server& server::route(std::regex pattern, handler h) {
  update_routes([&](route_table& t) { t.entries.push_back({{}, std::move(pattern), std::move(h)}); });
  return *this;
}
server& server::default_route(handler h) {
  update_routes([&](route_table& t) { t.fallback = std::move(h); });
  return *this;
}
void server::clear_routes() {
  update_routes([](route_table& t) { t = route_table{}; });
}

result<void> server::start() {
  auto acceptors = io::open_listeners(rt_, options_.listen, options_.listen_fds, options_.backlog);
  if (!acceptors) return fail(std::move(acceptors).error());
  auto allow = io::allow_list::parse(options_.allow);
  if (!allow) return fail(std::move(allow).error());
  peers_.set(std::move(*allow));
  for (unsigned i = 0; i < cores_.size(); ++i) {
    listening_fds_.push_back((*acceptors)[i].native_handle());
    cores_[i]->acceptor = std::move((*acceptors)[i]);
  }
  options_.listen_fds.clear();
  port_ = cores_[0]->acceptor.local_endpoint().port();
  for (unsigned i = 0; i < cores_.size(); ++i)
    asio::co_spawn(rt_.executor(i), accept_loop(i), [](std::exception_ptr) {});
  return ok();
}

namespace {

// After stop()'s grace the handler's awaits are cancelled and Asio throws
// operation_aborted at the next one: the expected end of a stopped call.
void log_threw(const session& s, std::string_view peer, std::string_view route, std::exception_ptr e,
               bool stopping) {
  std::string what = "an exception that is not a std::exception";
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    if (stopping && ex.code() == asio::error::operation_aborted) {
      log_call(log_level::info, s, peer, route, "esl: the call ended by the server's stop");
      return;
    }
    what = ex.what();
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  log_call(log_level::error, s, peer, route, fmt::format("esl: the handler threw: {}", what));
}

}  // namespace

awaitable<void> server::accept_loop(unsigned core) {
  core_state& cs = *cores_[core];
  co_await io::accept_connections(cs.acceptor, cs.backoff, stopping_, "esl", [this, &cs](int fd) { admit(cs, fd); });
}

void server::admit(core_state& cs, int fd) {
  accepted_.fetch_add(1, std::memory_order_relaxed);
  if (!peers_.admit(fd)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    metrics::lib::esl_outbound().refused.inc();
    ::close(fd);
    return;
  }
  outstanding_.fetch_add(1, std::memory_order_relaxed);  // a session: released by session_ended()
  if (active_.fetch_add(1, std::memory_order_relaxed) >= options_.max_sessions) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    metrics::lib::esl_outbound().refused.inc();
    ++cs.refused_unlogged;
    if (auto now = std::chrono::steady_clock::now(); now - cs.refused_logged_at >= std::chrono::seconds(1)) {
      log(log_level::warning, fmt::format("esl: refused {} connection(s): {} sessions already active",
                                          cs.refused_unlogged, options_.max_sessions));
      cs.refused_logged_at = now;
      cs.refused_unlogged = 0;
    }
    ::close(fd);
    session_ended();
    return;
  }
  metrics::lib::esl_outbound().sessions.inc();
  metrics::lib::esl_outbound().active.inc();
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto* c = new call(cs.executor, fd, options_.session);
  cs.push(c);
  asio::co_spawn(cs.executor, serve(c),
                 asio::bind_cancellation_slot(c->cancel.slot(), [this, &cs, c](std::exception_ptr) { finish(cs, c); }));
}

awaitable<void> server::serve(call* c) {
  session& s = c->session;
  std::exception_ptr thrown;
  try {
    auto started = co_await s.start();
    if (!started) {
      log_call(log_level::info, s, c->stream.peer(), {}, fmt::format("esl: no channel data: {}", started.error().what()));
      c->cause = started.error() == errc::timeout ? end_cause::timeout : end_cause::no_environment;
    } else {
      c->routes = routes_.load();
      auto value = s.channel_data().get(options_.route_by).value_or(std::string_view{});
      if (const handler* h = c->routes->find(value)) {
        log_call(log_level::debug, s, c->stream.peer(), value, fmt::format("esl: a call routed by {}", options_.route_by));
        co_await (*h)(s);
        // The hangup first: FreeSWITCH closes the socket after it. A socket
        // closed with no hangup seen: stop() closed it, or FreeSWITCH or the
        // network dropped it.
        if (!s.hangup_cause().empty()) c->cause = end_cause::caller_hung_up;
        else if (!s.ready()) c->cause = c->closed_by_stop ? end_cause::server_stop : end_cause::disconnected;
      } else {
        c->cause = end_cause::no_route;
        log_call(log_level::warning, s, c->stream.peer(), value, fmt::format("esl: no route for {} \"{}\"", options_.route_by, value));
      }
    }
  } catch (...) {
    thrown = std::current_exception();
  }
  if (thrown) {
    auto route = s.channel_data().get(options_.route_by).value_or(std::string_view{});
    log_threw(s, c->stream.peer(), route, thrown, stopping_.load(std::memory_order_relaxed));
  }
  if (thrown) c->cause = stopping_.load(std::memory_order_relaxed) ? end_cause::server_stop : end_cause::handler_threw;
  // The session's own coroutines must end before the call is freed, whatever stop() cancels now.
  co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await s.shutdown();
}

// Runs once the call's coroutines are gone: only now may stop()'s callback
// run, and the server be destroyed after it.
void server::finish(core_state& cs, call* c) {
  metrics::lib::esl_outbound().end(c->cause);
  cs.erase(c);
  delete c;
  session_ended();
}

void server::session_ended() {
  active_.fetch_sub(1, std::memory_order_acq_rel);
  release();
}

void server::release() {
  if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  std::vector<std::function<void()>> done;
  {
    std::lock_guard lock(stop_mutex_);
    fired_ = true;
    done.swap(on_stopped_);
  }
  for (auto& f : done) f();
}

void server::stop(std::chrono::milliseconds grace, std::function<void()> on_stopped) {
  bool first = false;
  bool fired = false;
  {
    std::lock_guard lock(stop_mutex_);
    if (fired_) {
      fired = true;
    } else {
      if (on_stopped) on_stopped_.push_back(std::move(on_stopped));
      if (!stopping_) {
        first = true;
        stopping_ = true;
      }
    }
  }
  if (fired) {  // already stopped: run the new callback now
    if (on_stopped) on_stopped();
    return;
  }
  if (!first) return;
  outstanding_.fetch_add(cores_.size(), std::memory_order_acq_rel);  // one per listener, released once it is closed
  for (auto& c : cores_) {
    asio::post(c->acceptor.get_executor(), [this, cs = c.get(), grace] {
      boost::system::error_code ignored;
      cs->acceptor.close(ignored);
      if (grace.count() <= 0) {
        cs->close_all();
      } else {
        cs->grace.expires_after(grace);
        cs->grace.async_wait([cs](const boost::system::error_code& ec) {
          if (!ec) cs->close_all();
        });
      }
      release();
    });
  }
  release();  // the token held until stop()
}

}  // namespace costrix::esl
