#include <costrix/io/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <unistd.h>

namespace costrix::io {
namespace asio = boost::asio;
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

awaitable<stream::io_result> tcp_stream::read_some(asio::mutable_buffer b) {
  return socket_.async_read_some(b, use_tuple);
}

awaitable<stream::io_result> tcp_stream::write(asio::const_buffer b) { return asio::async_write(socket_, b, use_tuple); }

void tcp_stream::cancel() noexcept {
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void tcp_stream::close() noexcept {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

std::string tcp_stream::peer() const {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

fd_stream::fd_stream(executor_type ex, int in_fd, int out_fd) : in_(ex, ::dup(in_fd)), out_(ex, ::dup(out_fd)) {}

awaitable<stream::io_result> fd_stream::read_some(asio::mutable_buffer b) { return in_.async_read_some(b, use_tuple); }

awaitable<stream::io_result> fd_stream::write(asio::const_buffer b) { return asio::async_write(out_, b, use_tuple); }

void fd_stream::cancel() noexcept {
  boost::system::error_code ignored;
  in_.cancel(ignored);
  out_.cancel(ignored);
}

void fd_stream::close() noexcept {
  boost::system::error_code ignored;
  in_.close(ignored);
  out_.close(ignored);
}

awaitable<result<std::string_view>> line_reader::read_line() {
  for (;;) {
    auto line = buffer_.next_line();
    if (!line) co_return fail(std::move(line).error());
    if (*line) co_return **line;
    auto space = buffer_.prepare();
    auto [ec, n] = co_await stream_.read_some(asio::buffer(space.data(), space.size()));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return fail(errc::cancelled);
      if (ec == asio::error::eof) {
        eof_ = true;
        co_return fail(errc::disconnected, "connection closed by peer");
      }
      co_return fail(errc::disconnected, ec.message());
    }
    buffer_.commit(n);
  }
}

}  // namespace costrix::io

