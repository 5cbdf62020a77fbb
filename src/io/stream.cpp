#include <costrix/io/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace costrix::io {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

void set_non_blocking(int fd) noexcept {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool is_socket(int fd) noexcept {
  int type = 0;
  socklen_t len = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
}

error_code last_error() noexcept {
  if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::would_block;
  return error_code(errno, boost::system::system_category());
}

}  // namespace

stream stream::adopt(executor_type ex, int fd) {
  set_non_blocking(fd);
  bool socket = is_socket(fd);
  return stream{descriptor{ex, fd}, nullptr, socket};
}

stream stream::duplicate(executor_type ex, int in_fd, int out_fd) {
  int in = ::dup(in_fd);
  set_non_blocking(in);
  bool socket = is_socket(in);
  if (in_fd == out_fd) return stream{descriptor{ex, in}, nullptr, socket};
  int out = ::dup(out_fd);
  set_non_blocking(out);
  return stream{descriptor{ex, in}, std::make_unique<descriptor>(ex, out), socket && is_socket(out)};
}

std::size_t stream::read_some(std::span<char> into, error_code& ec) noexcept {
  if (!in_.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  for (;;) {
    ssize_t n = ::read(in_.native_handle(), into.data(), into.size());
    if (n > 0) {
      ec = {};
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      ec = into.empty() ? error_code{} : error_code{asio::error::eof};
      return 0;
    }
    if (errno == EINTR) continue;
    ec = last_error();
    return 0;
  }
}

std::size_t stream::write_some(std::string_view bytes, error_code& ec) noexcept {
  descriptor& d = out_ ? *out_ : in_;
  if (!d.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  for (;;) {
    // send() with MSG_NOSIGNAL: a peer gone is EPIPE, never SIGPIPE.
    ssize_t n = socket_ ? ::send(d.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL)
                        : ::write(d.native_handle(), bytes.data(), bytes.size());
    if (n >= 0) {
      ec = {};
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    ec = last_error();
    return 0;
  }
}

awaitable<result<void>> stream::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    error_code ec;
    std::size_t n = write_some(bytes, ec);
    bytes.remove_prefix(n);
    if (ec == asio::error::would_block) {
      auto [wait_error] = co_await async_wait_writable(asio::as_tuple(asio::use_awaitable));
      if (wait_error == asio::error::operation_aborted) co_return fail(errc::cancelled);
      if (wait_error) co_return fail(errc::disconnected, wait_error.message());
    } else if (ec) {
      co_return fail(errc::disconnected, ec.message());
    }
  }
  co_return ok();
}

void stream::cancel() noexcept {
  error_code ignored;
  in_.cancel(ignored);
  if (out_) out_->cancel(ignored);
}

void stream::close() noexcept {
  error_code ignored;
  if (socket_ && in_.is_open()) ::shutdown(in_.native_handle(), SHUT_RDWR);
  in_.close(ignored);
  if (out_) out_->close(ignored);
}

std::string stream::peer() const {
  if (!socket_) return "stdio";
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto& d = const_cast<descriptor&>(in_);
  if (::getpeername(d.native_handle(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    std::string out(1, '[');  // appended: GCC 12 warns about "[" + std::string, a false -Wrestrict
    out += text;
    out += "]:";
    out += std::to_string(ntohs(a->sin6_port));
    return out;
  }
  return "unix";
}

awaitable<result<std::string_view>> line_reader::read_line() {
  for (;;) {
    auto line = buffer_.next_line();
    if (!line) co_return fail(std::move(line).error());
    if (*line) co_return **line;
    auto space = buffer_.prepare();
    error_code ec;
    std::size_t n = stream_.read_some(space, ec);
    if (!ec) {
      buffer_.commit(n);
      continue;
    }
    if (ec == asio::error::would_block) {
      auto [wait_error] = co_await stream_.async_wait_readable(asio::as_tuple(asio::use_awaitable));
      if (wait_error == asio::error::operation_aborted) co_return fail(errc::cancelled);
      if (wait_error) co_return fail(errc::disconnected, wait_error.message());
      continue;
    }
    if (ec == asio::error::eof) {
      eof_ = true;
      co_return fail(errc::disconnected, "connection closed by peer");
    }
    co_return fail(errc::disconnected, ec.message());
  }
}

}  // namespace costrix::io
