// The client connections of a simulated server (sim::ami_server, sim::esl_server):
// writing to them without ever blocking the simulator, and closing them.
#pragma once

#include <costrix/io/stream.hpp>
#include <costrix/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace costrix::sim::detail {

/// What both simulators keep of one client connection.
struct server_client {
  explicit server_client(io::stream s) : stream(std::move(s)) {}
  io::stream stream;
  std::string in;   // received, not yet framed
  std::string out;  // to write, while a write is in progress
  bool writing = false;
  bool finishing = false;  // no more requests: close once what is queued is written
  bool close_after_write = false;
  bool closed = false;
};

/// Mixed into a simulator's state (CRTP), which has, on its one executor:
/// `ex`, `clients` (a vector of `std::shared_ptr<Client>`), `opts.max_pending_bytes`,
/// `mutex` guarding `counters.active`, `shared_from_this()` and `log_name`.
template <class State, class Client>
struct server_clients {
  using client_ptr = std::shared_ptr<Client>;

  void close(const client_ptr& c) {
    if (c->closed) return;
    c->closed = true;
    c->stream.close();
    std::erase(self().clients, c);
    std::lock_guard lock(self().mutex);
    --self().counters.active;
  }

  // Closes once everything queued is written (a goodbye, a failed login).
  void finish(const client_ptr& c) {
    c->finishing = true;
    if (c->writing) c->close_after_write = true;
    else close(c);
  }

  // What the socket takes now is written at once; the rest is queued for one
  // write loop. A client that lets `max_pending_bytes` pile up (it does not
  // read) is disconnected.
  void send(const client_ptr& c, std::string_view bytes) {
    if (c->closed) return;
    if (c->writing) {
      if (c->out.size() + bytes.size() > self().opts.max_pending_bytes) {
        log(log_level::warning, fmt::format("{}: {}: {} bytes not read: disconnecting", State::log_name,
                                            c->stream.peer(), c->out.size()));
        close(c);
        return;
      }
      c->out.append(bytes);
      return;
    }
    boost::system::error_code ec;
    std::size_t n = c->stream.write_some(bytes, ec);
    if (ec && ec != boost::asio::error::would_block) {
      close(c);
      return;
    }
    bytes.remove_prefix(n);
    if (bytes.empty()) return;
    c->out.assign(bytes);
    c->writing = true;
    boost::asio::co_spawn(self().ex, write_loop(self().shared_from_this(), c), boost::asio::detached);
  }

 private:
  State& self() { return static_cast<State&>(*this); }

  static awaitable<void> write_loop(std::shared_ptr<State> owner, client_ptr c) {
    std::string chunk;
    while (!c->closed && !c->out.empty()) {
      chunk.clear();
      chunk.swap(c->out);
      auto written = co_await c->stream.write_all(chunk);
      if (!written) {
        owner->close(c);
        co_return;
      }
    }
    c->writing = false;
    if (c->close_after_write) owner->close(c);
  }
};

}  // namespace costrix::sim::detail
