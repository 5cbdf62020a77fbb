#include <costrix/fastagi/server.hpp>

#include <costrix/io/listener.hpp>
#include <costrix/log.hpp>

#include "../library_metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/version.hpp>

#include <fmt/format.h>

#include <optional>

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace costrix::fastagi {
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

  const handler* find(std::string_view script) const {
    for (const auto& e : entries) {
      if (e.pattern ? std::regex_search(script.begin(), script.end(), *e.pattern) : e.exact == script) return &e.run;
    }
    return fallback ? &fallback : nullptr;
  }
};

// One connection, from accept to close: its stream, its session, and its
// place in one of its core's lists so that stop() can close it. Touched only
// on that core.
struct server::call {
  call(runtime::executor_type ex, int fd, const agi::session_options& options)
      : stream(io::stream::adopt(ex, fd)), session(stream, options) {}
  io::stream stream;
  agi::session session;
  std::shared_ptr<const route_table> routes;  // keeps the handler alive for the whole call
  asio::cancellation_signal cancel;           // cancels whatever the handler awaits (stop's deadline)
  std::chrono::steady_clock::time_point environment_due{};  // while in `waiting`
  bool waiting = false;                       // in core_state::waiting, not core_state::running
  bool closed_by_stop = false;                // close_all() closed it: stop()'s grace ran out
  call* prev = nullptr;
  call* next = nullptr;
};

// An intrusive list of calls, in the order they were added.
struct server::call_list {
  call* head = nullptr;
  call* tail = nullptr;

  void push_back(call* c) noexcept {
    c->prev = tail;
    c->next = nullptr;
    (tail ? tail->next : head) = c;
    tail = c;
  }
  void erase(call* c) noexcept {
    (c->prev ? c->prev->next : head) = c->next;
    (c->next ? c->next->prev : tail) = c->prev;
    c->prev = c->next = nullptr;
  }
};

// A core's listener and its calls. Calls whose environment has not arrived
// wait in `waiting`: every call gets the same environment timeout, so the
// list is in deadline order and one timer per core serves all of them.
struct server::core_state {
  explicit core_state(runtime::executor_type ex)
      : executor(ex), acceptor(ex), grace(ex), backoff(ex), environment_timer(ex) {}
  runtime::executor_type executor;
  tcp::acceptor acceptor;
  asio::steady_timer grace;
  asio::steady_timer backoff;
  asio::steady_timer environment_timer;
  bool environment_timer_armed = false;
  call_list waiting;  // the environment is due
  call_list running;  // the handler runs
  std::chrono::steady_clock::time_point refused_logged_at{};
  std::size_t refused_unlogged = 0;

  void close_all() {
    for (call_list* list : {&waiting, &running}) {
      for (auto* c = list->head; c; c = c->next) {
        c->closed_by_stop = true;
        c->stream.close();
        c->cancel.emit(asio::cancellation_type::terminal);
      }
    }
  }
};

server::server(runtime& rt, server_options options)
    : rt_(rt), options_(std::move(options)), routes_(std::make_shared<const route_table>()) {
  for (unsigned i = 0; i < rt_.size(); ++i) cores_.push_back(std::make_unique<core_state>(rt_.executor(i)));
  metrics::lib::fastagi(), metrics::lib::agi();  // every series registered before the first call
}

server::~server() {
  if (stopping_) return;  // the cores closed their listeners
  for (auto& c : cores_) {
    boost::system::error_code ignored;
    c->acceptor.close(ignored);
  }
}

void server::update_routes(const std::function<void(route_table&)>& change) {
  std::lock_guard lock(stop_mutex_);  // route changes are rare; sessions only load()
  auto next = std::make_shared<route_table>(*routes_.load());
  change(*next);
  routes_.store(std::move(next));
}

server& server::route(std::string script, handler h) {
  update_routes([&](route_table& t) { t.entries.push_back({std::move(script), std::nullopt, std::move(h)}); });
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
  for (unsigned i = 0; i < cores_.size(); ++i) asio::co_spawn(rt_.executor(i), accept_loop(i), asio::detached);
  return ok();
}

namespace {

end_cause no_environment_cause(const error& e) noexcept {
  return e == errc::timeout ? end_cause::timeout : end_cause::no_environment;
}

// A handler that returned: what became of its call, from the session's state.
// The caller's HANGUP comes first (Asterisk may close the socket after it).
// A connection stop() closed is server_stop, whatever error the backend gave
// the command in flight (epoll: cancelled; io_uring may report the closed descriptor).
end_cause returned_cause(const agi::session& s, bool closed_by_stop) noexcept {
  if (s.hung_up()) return end_cause::caller_hung_up;
  auto why = s.broken_by();
  if (!why) return end_cause::handler_returned;
  if (closed_by_stop) return end_cause::server_stop;
  switch (*why) {
    case errc::timeout: return end_cause::command_timeout;
    case errc::protocol:
    case errc::limit_exceeded: return end_cause::protocol_error;
    case errc::cancelled: return end_cause::handler_returned;
    default: return end_cause::disconnected;
  }
}


void log_no_environment(io::stream& stream, const error& e) {
  if (!log_enabled(log_level::info)) return;
  std::string peer = stream.peer();
  log(log_level::info, {.peer = peer}, fmt::format("fastagi: no AGI environment: {}", e.what()));
}

// A call's line: its route, channel, uniqueid and peer follow the text.
void log_call(log_level level, const agi::session& s, std::string_view line) {
  if (!log_enabled(level)) return;
  std::string peer = s.peer();
  log(level, {s.script(), s.env().channel(), s.env().uniqueid(), peer}, line);
}

void log_no_route(const agi::session& s) {
  log_call(log_level::warning, s, fmt::format("fastagi: no route for script \"{}\"", s.script()));
}

// After stop()'s grace the handler's awaits are cancelled, and Asio throws
// operation_aborted at the next one: the expected end of a stopped call.
void log_threw(const agi::session& s, std::exception_ptr e, bool stopping) {
  std::string what = "an exception that is not a std::exception";
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    if (stopping && ex.code() == asio::error::operation_aborted) {
      log_call(log_level::info, s, "fastagi: the script ended by the server's stop");
      return;
    }
    what = ex.what();
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  log_call(log_level::error, s, fmt::format("fastagi: the script threw: {}", what));
}

}  // namespace

awaitable<void> server::accept_loop(unsigned core) {
  core_state& cs = *cores_[core];
  co_await io::accept_connections(cs.acceptor, cs.backoff, stopping_, "fastagi", [this, &cs](int fd) { admit(cs, fd); });
}

void server::admit(core_state& cs, int fd) {
  accepted_.fetch_add(1, std::memory_order_relaxed);
  if (!peers_.admit(fd)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    metrics::lib::fastagi().refused.inc();
    ::close(fd);
    return;
  }
  outstanding_.fetch_add(1, std::memory_order_relaxed);  // a session: released by session_ended()
  if (active_.fetch_add(1, std::memory_order_relaxed) >= options_.max_sessions) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    metrics::lib::fastagi().refused.inc();
    // One line a second at most, so that a flood does not flood the log too.
    ++cs.refused_unlogged;
    if (auto now = std::chrono::steady_clock::now(); now - cs.refused_logged_at >= std::chrono::seconds(1)) {
      log(log_level::warning, fmt::format("fastagi: refused {} connection(s): {} sessions already active",
                                          cs.refused_unlogged, options_.max_sessions));
      cs.refused_logged_at = now;
      cs.refused_unlogged = 0;
    }
    ::close(fd);
    session_ended();
    return;
  }
  metrics::lib::fastagi().sessions.inc();
  metrics::lib::fastagi().active.inc();
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto* c = new call(cs.executor, fd, options_.session);
  // The environment has usually arrived with the connection: then the handler
  // starts at once; otherwise the call waits for the rest, holding no
  // coroutine and no timer of its own.
  auto started = c->session.try_start();
  if (!started) {
    cs.running.push_back(c);
    log_no_environment(c->stream, started.error());
    return finish(cs, c, static_cast<int>(no_environment_cause(started.error())));
  }
  if (*started) {
    cs.running.push_back(c);
    return run_handler(cs, c);
  }
  c->waiting = true;
  cs.waiting.push_back(c);
  if (auto timeout = options_.session.environment_timeout; timeout.count() > 0) {
    c->environment_due = std::chrono::steady_clock::now() + timeout;
    if (!cs.environment_timer_armed) arm_environment_timer(cs);
  }
  await_environment(cs, c);
}

void server::await_environment(core_state& cs, call* c) {
  c->stream.async_wait_readable([this, &cs, c](const boost::system::error_code& ec) {
    result<bool> started = false;
    if (ec == asio::error::operation_aborted && c->environment_due == std::chrono::steady_clock::time_point::max())
      started = fail(errc::timeout, fmt::format("none within {} ms", options_.session.environment_timeout.count()));
    else if (ec)
      started = fail(errc::disconnected, ec.message());
    else
      started = c->session.try_start();
    if (started && !*started) return await_environment(cs, c);
    cs.waiting.erase(c);
    c->waiting = false;
    cs.running.push_back(c);
    if (!started) {
      log_no_environment(c->stream, started.error());
      return finish(cs, c, static_cast<int>(no_environment_cause(started.error())));
    }
    run_handler(cs, c);
  });
}

// Ends the waits of the calls whose environment is overdue (marked with a
// time_point::max() deadline), then sleeps until the next one is due.
void server::arm_environment_timer(core_state& cs) {
  cs.environment_timer_armed = false;
  const auto now = std::chrono::steady_clock::now();
  for (call* c = cs.waiting.head; c; c = c->next) {
    if (c->environment_due == std::chrono::steady_clock::time_point::max()) continue;  // ending already
    if (c->environment_due == std::chrono::steady_clock::time_point{}) continue;     // no timeout
    if (c->environment_due > now) {
      cs.environment_timer_armed = true;
      cs.environment_timer.expires_at(c->environment_due);
      // Only a re-arm or the server's destruction cancels the wait: then
      // there is nothing to do, and `cs` may be gone.
      cs.environment_timer.async_wait([this, &cs](const boost::system::error_code& ec) {
        if (!ec) arm_environment_timer(cs);
      });
      return;
    }
    c->environment_due = std::chrono::steady_clock::time_point::max();
    c->stream.cancel();
  }
}

struct server::entry {
  using point = asio::awaitable<asio::detail::awaitable_thread_entry_point, asio::any_io_executor>;

  static point run(server& self, core_state& cs, call& c, const handler& h) {
    std::exception_ptr thrown;
    try {
      co_await h(c.session);
    } catch (...) {
      thrown = std::current_exception();
    }
    if (thrown) log_threw(c.session, thrown, self.stopping_.load(std::memory_order_relaxed));
    const bool stopping = self.stopping_.load(std::memory_order_relaxed);
    end_cause cause = thrown ? (stopping ? end_cause::server_stop : end_cause::handler_threw)
                             : returned_cause(c.session, c.closed_by_stop);
    self.finish(cs, &c, static_cast<int>(cause));
  }
};

void server::run_handler(core_state& cs, call* c) {
  c->routes = routes_.load();
  const handler* h = c->routes->find(c->session.script());
  if (h == nullptr) {
    log_no_route(c->session);
    return finish(cs, c, static_cast<int>(end_cause::no_route));
  }
  auto slot = c->cancel.slot();
  asio::detail::awaitable_handler<asio::any_io_executor, void>(entry::run(*this, cs, *c, *h), cs.executor, slot,
                                                                asio::cancellation_state(slot))
      .launch();
}

// Runs once the call's coroutines are gone: only now may stop()'s callback
// run, and the server be destroyed after it.
void server::finish(core_state& cs, call* c, int cause) {
  metrics::lib::fastagi().end(static_cast<end_cause>(cause));
  c->stream.close();
  (c->waiting ? cs.waiting : cs.running).erase(c);
  delete c;
  session_ended();
}

void server::session_ended() {
  active_.fetch_sub(1, std::memory_order_acq_rel);
  release();
}

// on_stopped runs once: after stop(), when every core has closed its listener
// and the last session has ended.
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

}  // namespace costrix::fastagi
