#include <costrix/fastagi/server.hpp>

#include <costrix/io/listener.hpp>
#include <costrix/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <optional>

namespace costrix::fastagi {
namespace asio = boost::asio;
using asio::ip::tcp;

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

// A session's place in its core's list, so that stop() can close it. Touched
// only on that core.
struct live_session {
  io::tcp_stream stream;
  asio::cancellation_signal* cancel;  // cancels whatever the handler awaits (stop's deadline)
  live_session* prev = nullptr;
  live_session* next = nullptr;
};

struct server::core_state {
  explicit core_state(const asio::any_io_executor& ex) : acceptor(ex), grace(ex), backoff(ex) {}
  tcp::acceptor acceptor;
  asio::steady_timer grace;
  asio::steady_timer backoff;
  live_session* sessions = nullptr;
  std::chrono::steady_clock::time_point refused_logged_at{};
  std::size_t refused_unlogged = 0;
  // Cancellation signals, reused: a finished session's signal serves the next one.
  std::vector<std::unique_ptr<asio::cancellation_signal>> spare_signals;

  std::unique_ptr<asio::cancellation_signal> take_signal() {
    if (spare_signals.empty()) return std::make_unique<asio::cancellation_signal>();
    auto sig = std::move(spare_signals.back());
    spare_signals.pop_back();
    return sig;
  }

  void link(live_session* s) {
    s->next = sessions;
    if (sessions) sessions->prev = s;
    sessions = s;
  }
  void unlink(live_session* s) {
    if (s->prev) s->prev->next = s->next;
    else sessions = s->next;
    if (s->next) s->next->prev = s->prev;
  }
  void close_all() {
    for (auto* s = sessions; s; s = s->next) {
      s->stream.close();
      s->cancel->emit(asio::cancellation_type::terminal);
    }
  }
};

server::server(runtime& rt, server_options options)
    : rt_(rt), options_(std::move(options)), routes_(std::make_shared<const route_table>()) {
  for (unsigned i = 0; i < rt_.size(); ++i) cores_.push_back(std::make_unique<core_state>(rt_.executor(i)));
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
  auto ep = io::parse_endpoint(options_.listen);
  if (!ep) return fail(std::move(ep).error());
  for (unsigned i = 0; i < cores_.size(); ++i) {
    auto acceptor = io::listen_reuseport(rt_.executor(i), *ep, options_.backlog);
    if (!acceptor) return fail(std::move(acceptor).error());
    if (i == 0) ep->port(acceptor->local_endpoint().port());  // port 0: the others join the same port
    cores_[i]->acceptor = std::move(*acceptor);
  }
  port_ = ep->port();
  for (unsigned i = 0; i < cores_.size(); ++i) asio::co_spawn(rt_.executor(i), accept_loop(i), asio::detached);
  return ok();
}

awaitable<void> server::accept_loop(unsigned core) {
  core_state& cs = *cores_[core];
  for (;;) {
    auto [ec, socket] = co_await cs.acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !cs.acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors (or another transient failure): wait, then serve again.
      log(log_level::warning, fmt::format("fastagi: accept failed: {}; retrying", ec.message()));
      cs.backoff.expires_after(std::chrono::milliseconds(50));
      co_await cs.backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (stopping_.load(std::memory_order_relaxed)) co_return;
    accepted_.fetch_add(1, std::memory_order_relaxed);
    if (active_.fetch_add(1, std::memory_order_relaxed) >= options_.max_sessions) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      // One line a second at most, so that a flood does not flood the log too.
      ++cs.refused_unlogged;
      if (auto now = std::chrono::steady_clock::now(); now - cs.refused_logged_at >= std::chrono::seconds(1)) {
        log(log_level::warning, fmt::format("fastagi: refused {} connection(s): {} sessions already active",
                                            cs.refused_unlogged, options_.max_sessions));
        cs.refused_logged_at = now;
        cs.refused_unlogged = 0;
      }
      boost::system::error_code ignored;
      socket.close(ignored);
      session_ended();
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto signal = cs.take_signal();
    auto* sig = signal.get();
    asio::co_spawn(socket.get_executor(), run_session(core, std::move(socket), sig),
                   asio::bind_cancellation_slot(sig->slot(), [this, &cs, signal = std::move(signal)](std::exception_ptr) mutable {
                     // The session's frames are gone: only now may stop()'s callback
                     // run, and the server be destroyed after it.
                     cs.spare_signals.push_back(std::move(signal));
                     session_ended();
                   }));
  }
}

awaitable<void> server::run_session(unsigned core, tcp::socket socket, asio::cancellation_signal* cancel) {
  // Cancelled operations return errors, as the session's own do, instead of throwing.
  co_await asio::this_coro::throw_if_cancelled(false);
  core_state& cs = *cores_[core];
  live_session live{io::tcp_stream{std::move(socket)}, cancel};
  cs.link(&live);
  {
    agi::session s(live.stream, options_.session);
    if (auto started = co_await s.start(); !started) {
      log(log_level::info, fmt::format("fastagi: {}: no AGI environment: {}", live.stream.peer(),
                                       started.error().what()));
    } else {
      auto table = routes_.load();  // keeps the handler alive for the whole call
      if (const handler* h = table->find(s.script())) {
        try {
          co_await (*h)(s);
        } catch (const std::exception& e) {
          log(log_level::error, fmt::format("fastagi: script \"{}\" on channel {} ({}) threw: {}", s.script(),
                                            s.env().channel, s.env().uniqueid, e.what()));
        } catch (...) {
          log(log_level::error, fmt::format("fastagi: script \"{}\" on channel {} ({}) threw", s.script(),
                                            s.env().channel, s.env().uniqueid));
        }
      } else {
        log(log_level::warning, fmt::format("fastagi: no route for script \"{}\" (request {}, channel {})",
                                            s.script(), s.env().request, s.env().channel));
      }
    }
  }
  live.stream.close();
  cs.unlink(&live);
}

void server::session_ended() {
  active_.fetch_sub(1, std::memory_order_acq_rel);
  maybe_stopped();
}

// on_stopped runs once: after stop(), when every core has closed its listener
// and the last session has ended.
void server::maybe_stopped() {
  if (!stopping_.load() || cores_open_.load() != 0 || active_.load() != 0) return;
  std::vector<std::function<void()>> done;
  {
    std::lock_guard lock(stop_mutex_);
    done.swap(on_stopped_);
  }
  for (auto& f : done) f();
}

void server::stop(std::chrono::milliseconds grace, std::function<void()> on_stopped) {
  bool first = false;
  {
    std::lock_guard lock(stop_mutex_);
    if (on_stopped) on_stopped_.push_back(std::move(on_stopped));
    if (!stopping_) {
      first = true;
      cores_open_ = cores_.size();
      stopping_ = true;
    }
  }
  if (!first) {
    maybe_stopped();  // already stopped: run the new callback now
    return;
  }
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
      cores_open_.fetch_sub(1);
      maybe_stopped();
    });
  }
}

}  // namespace costrix::fastagi
