// Listening sockets for per-core servers.
#pragma once

#include <costrix/io/runtime.hpp>
#include <costrix/result.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>

#include <span>
#include <string_view>
#include <vector>

namespace costrix::io {

/// "127.0.0.1:4573", "[::1]:4573", "0.0.0.0:0", "localhost:4573".
result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

/// A listening acceptor with SO_REUSEADDR and SO_REUSEPORT, so that every core
/// can listen on the same address and the kernel spreads the connections.
result<boost::asio::ip::tcp::acceptor> listen_reuseport(const boost::asio::any_io_executor& ex,
                                                       const boost::asio::ip::tcp::endpoint& ep,
                                                       int backlog = 4096);

/// The listening sockets this process inherited by systemd's socket
/// activation protocol (LISTEN_FDS, LISTEN_PID: a systemd .socket unit, or a
/// hand-over from the process this one replaces, see costrix/io/graceful.hpp):
/// descriptors 3, 4, ... Empty when there are none. The variables are removed
/// from the environment, so that a child process does not take them too.
std::vector<int> inherited_listeners();

/// One listening acceptor per core of `rt`, for a server. With `fds` empty,
/// each core binds `listen` with SO_REUSEPORT. Otherwise `listen` is unused
/// and core i accepts on its own duplicate of fds[i % fds.size()] (one socket
/// may serve every core: the cores' accepts then share its queue); each fd
/// must be a listening TCP socket, and there may be no more fds than cores.
/// On success the fds are closed (the acceptors hold duplicates); on an error
/// they are left open.
result<std::vector<boost::asio::ip::tcp::acceptor>> open_listeners(runtime& rt, std::string_view listen,
                                                                  std::span<const int> fds, int backlog);

/// A server's accept loop on one core: at each wake-up, every connection
/// queued (up to 64) goes to `admit` as a non-blocking, close-on-exec
/// descriptor. Out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM): a warning
/// naming `who`, then a 50 ms pause on `backoff` while connections wait in the
/// backlog. Ends when the acceptor is closed or once `stopping` is set: the
/// connections still queued stay for whoever else holds the socket.
awaitable<void> accept_connections(boost::asio::ip::tcp::acceptor& acceptor, boost::asio::steady_timer& backoff,
                                   const std::atomic<bool>& stopping, std::string_view who,
                                   std::function<void(int)> admit);

}  // namespace costrix::io
