// Listening sockets for per-core servers.
#pragma once

#include <costrix/result.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <string_view>

namespace costrix::io {

/// "127.0.0.1:4573", "[::1]:4573", "0.0.0.0:0", "localhost:4573".
result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

/// A listening acceptor with SO_REUSEADDR and SO_REUSEPORT, so that every core
/// can listen on the same address and the kernel spreads the connections.
result<boost::asio::ip::tcp::acceptor> listen_reuseport(const boost::asio::any_io_executor& ex,
                                                       const boost::asio::ip::tcp::endpoint& ep,
                                                       int backlog = 4096);

}  // namespace costrix::io
