#include <costrix/io/listener.hpp>

#include <costrix/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace costrix::io {
namespace asio = boost::asio;
using asio::ip::tcp;

result<tcp::endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail(errc::invalid_argument, "address must be HOST:PORT, got \"" + std::string(text) + "\"");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
    return fail(errc::invalid_argument, "bad port in \"" + std::string(text) + "\"");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host.empty()) host = host.empty() ? "0.0.0.0" : "127.0.0.1";
  boost::system::error_code aec;
  auto addr = asio::ip::make_address(std::string(host), aec);
  if (aec) return fail(errc::invalid_argument, "bad address in \"" + std::string(text) + "\"");
  return tcp::endpoint{addr, static_cast<unsigned short>(port)};
}

result<tcp::acceptor> listen_reuseport(const asio::any_io_executor& ex, const tcp::endpoint& ep, int backlog) {
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  tcp::acceptor acceptor{ex};
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.set_option(reuse_port(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) return fail(errc::failed, "listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
                                        ": " + ec.message());
  return acceptor;
}

std::vector<int> inherited_listeners() {
  int n = ::sd_listen_fds(1);
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) fds.push_back(SD_LISTEN_FDS_START + i);
  return fds;
}

namespace {

// A duplicate of `fd`, checked to be a listening TCP socket, as an acceptor.
result<tcp::acceptor> adopt(const asio::any_io_executor& ex, int fd) {
  std::string what = "listening descriptor " + std::to_string(fd);
  int listening = 0, type = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
    return fail(errc::invalid_argument, what + ": not a socket");
  len = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  sockaddr_storage addr{};
  socklen_t addr_len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len);
  if (!listening || type != SOCK_STREAM || (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
    return fail(errc::invalid_argument, what + ": not a listening TCP socket");
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return fail(errc::failed, what + ": dup: " + std::strerror(errno));
  tcp::acceptor acceptor{ex};
  boost::system::error_code ec;
  acceptor.assign(addr.ss_family == AF_INET ? tcp::v4() : tcp::v6(), copy, ec);
  if (ec) {
    ::close(copy);
    return fail(errc::failed, what + ": " + ec.message());
  }
  return acceptor;
}

}  // namespace

result<std::vector<tcp::acceptor>> open_listeners(runtime& rt, std::string_view listen, std::span<const int> fds,
                                                  int backlog) {
  std::vector<tcp::acceptor> acceptors;
  if (!fds.empty()) {
    if (fds.size() > rt.size())
      return fail(errc::invalid_argument, std::to_string(fds.size()) + " listening descriptors for " +
                                              std::to_string(rt.size()) + " threads: at most one per thread");
    for (unsigned i = 0; i < rt.size(); ++i) {
      auto a = adopt(rt.executor(i), fds[i % fds.size()]);
      if (!a) return fail(std::move(a).error());
      acceptors.push_back(std::move(*a));
    }
    for (int fd : fds) ::close(fd);
    return acceptors;
  }
  auto ep = parse_endpoint(listen);
  if (!ep) return fail(std::move(ep).error());
  for (unsigned i = 0; i < rt.size(); ++i) {
    auto a = listen_reuseport(rt.executor(i), *ep, backlog);
    if (!a) return fail(std::move(a).error());
    if (i == 0) ep->port(a->local_endpoint().port());  // port 0: the others join the same port
    acceptors.push_back(std::move(*a));
  }
  return acceptors;
}

awaitable<void> accept_connections(tcp::acceptor& acceptor, asio::steady_timer& backoff,
                                   const std::atomic<bool>& stopping, std::string_view who,
                                   std::function<void(int)> admit) {
  constexpr int accepts_per_wakeup = 64;
  auto out_of_resources = [](int e) { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; };
  boost::system::error_code ec;
  acceptor.non_blocking(true, ec);
  for (;;) {
    auto [wait_error] = co_await acceptor.async_wait(tcp::acceptor::wait_read, asio::as_tuple(asio::use_awaitable));
    if (wait_error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    for (int n = 0; n < accepts_per_wakeup && !wait_error; ++n) {
      // Once stop() has begun, connections stay queued for whoever else holds
      // the socket (the process taking over); one already accepted is served.
      if (stopping.load(std::memory_order_relaxed)) co_return;
      int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK) break;
        if (!out_of_resources(e)) continue;  // the caller gave up (ECONNABORTED) and the like
        wait_error.assign(e, boost::system::system_category());
        break;
      }
      admit(fd);  // even when stop() has begun: it ends within the grace
    }
    if (wait_error) {
      // Out of descriptors (or another failure): wait, then serve again.
      log(log_level::warning, fmt::format("{}: accept failed: {}; retrying", who, wait_error.message()));
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

}  // namespace costrix::io
