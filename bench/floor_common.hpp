// What the plain-Asio floor servers share: one io_context per thread (concurrency hint
// 1), one SO_REUSEPORT listener per thread, a connection stays on the thread that
// accepted it, TCP_NODELAY; the command line and the banner. No costrix.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/socket.h>

namespace floor_common {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Serves one accepted connection.
using serve_fn = asio::awaitable<void> (*)(tcp::socket);

inline asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, serve_fn serve) {
  asio::steady_timer backoff{acceptor.get_executor()};
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // out of descriptors or another transient failure: wait, then serve again
      backoff.expires_after(50ms);
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

inline bool parse_endpoint(std::string_view text, tcp::endpoint& ep) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || err != std::errc{} || p != port_text.data() + port_text.size() || port > 65535)
    return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  else if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  ep = {addr, static_cast<unsigned short>(port)};
  return true;
}

/// The floor servers' main(): `--listen ADDR:PORT` (default `listen`) and `--threads N`
/// (default: one per core); prints `banner` (with the address, port and thread count)
/// once listening, then serves until SIGINT or SIGTERM.
inline int run(int argc, char** argv, const char* name, std::string listen, const char* banner, serve_fn serve) {
  unsigned threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--listen") listen = argv[i + 1];
    else if (flag == "--threads") threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else return std::fprintf(stderr, "usage: %s [--listen ADDR:PORT] [--threads N]\n", name), 2;
  }
  if (argc % 2 == 0) return std::fprintf(stderr, "usage: %s [--listen ADDR:PORT] [--threads N]\n", name), 2;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  tcp::endpoint ep;
  if (!parse_endpoint(listen, ep))
    return std::fprintf(stderr, "%s: address must be HOST:PORT, got \"%s\"\n", name, listen.c_str()), 2;

  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<tcp::acceptor> acceptors;
  for (unsigned i = 0; i < threads; ++i) {
    auto& ctx = *contexts.emplace_back(std::make_unique<asio::io_context>(1));
    auto& acceptor = acceptors.emplace_back(ctx);
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.set_option(reuse_port(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(4096, ec);
    if (ec) return std::fprintf(stderr, "%s: listen on %s: %s\n", name, listen.c_str(), ec.message().c_str()), 1;
    if (i == 0) ep.port(acceptor.local_endpoint().port());  // port 0: the others join the same port
  }
  for (auto& acceptor : acceptors) asio::co_spawn(acceptor.get_executor(), accept_loop(acceptor, serve), asio::detached);

  asio::signal_set signals{*contexts[0], SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec)
      for (auto& ctx : contexts) ctx->stop();
  });
  std::printf(banner, ep.address().to_string().c_str(), static_cast<unsigned>(ep.port()), threads);
  std::fflush(stdout);

  std::vector<std::thread> pool;
  for (auto& ctx : contexts) pool.emplace_back([&c = *ctx] { c.run(); });
  for (auto& t : pool) t.join();
  return 0;
}

}  // namespace floor_common
