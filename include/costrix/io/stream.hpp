// io::stream: a byte stream a protocol session reads lines from and writes to.
#pragma once

#include <costrix/io/line_buffer.hpp>
#include <costrix/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstddef>
#include <string>
#include <tuple>
#include <boost/system/error_code.hpp>

namespace costrix::io {

/// A connection: a TCP socket (FastAGI) or a pair of file descriptors (classic
/// AGI on stdin/stdout). Protocol sessions only see this interface.
class stream {
 public:
  using executor_type = boost::asio::any_io_executor;
  virtual ~stream() = default;

  /// (error, bytes). Both are Asio's own operations, with no coroutine frame of
  /// costrix's around them: an idle session holds as little memory as it can.
  using io_result = std::tuple<boost::system::error_code, std::size_t>;

  /// Reads at least one byte. End of stream is `boost::asio::error::eof`.
  virtual awaitable<io_result> read_some(boost::asio::mutable_buffer b) = 0;
  /// Writes all of `b`.
  virtual awaitable<io_result> write(boost::asio::const_buffer b) = 0;
  /// Cancels the reads and writes in progress; they complete with operation_aborted.
  virtual void cancel() noexcept = 0;
  /// Closes the connection; idempotent.
  virtual void close() noexcept = 0;
  virtual executor_type get_executor() = 0;
  /// "127.0.0.1:40312" for TCP, "stdio" for descriptors.
  virtual std::string peer() const = 0;
};

class tcp_stream final : public stream {
 public:
  explicit tcp_stream(boost::asio::ip::tcp::socket s) : socket_(std::move(s)) {}
  awaitable<io_result> read_some(boost::asio::mutable_buffer b) override;
  awaitable<io_result> write(boost::asio::const_buffer b) override;
  void cancel() noexcept override;
  void close() noexcept override;
  executor_type get_executor() override { return socket_.get_executor(); }
  std::string peer() const override;
  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }

 private:
  boost::asio::ip::tcp::socket socket_;
};

/// Reads from one descriptor and writes to another (they may be the same).
class fd_stream final : public stream {
 public:
  fd_stream(executor_type ex, int in_fd, int out_fd);
  awaitable<io_result> read_some(boost::asio::mutable_buffer b) override;
  awaitable<io_result> write(boost::asio::const_buffer b) override;
  void cancel() noexcept override;
  void close() noexcept override;
  executor_type get_executor() override { return in_.get_executor(); }
  std::string peer() const override { return "stdio"; }

 private:
  boost::asio::posix::stream_descriptor in_;
  boost::asio::posix::stream_descriptor out_;
};

/// Reads lines from a stream through a line_buffer.
class line_reader {
 public:
  explicit line_reader(stream& s, std::size_t max_line = line_buffer::default_max_line,
                       std::size_t initial = line_buffer::default_initial)
      : stream_(s), buffer_(max_line, initial) {}

  /// The next line (a view valid until the next call), or: `errc::disconnected`
  /// at end of stream or on a broken connection, `errc::limit_exceeded` for an
  /// over-long line, `errc::cancelled` if the read was cancelled.
  awaitable<result<std::string_view>> read_line();

  line_buffer& buffer() noexcept { return buffer_; }
  /// The peer closed the stream cleanly (the last read_line() ended at EOF).
  bool at_eof() const noexcept { return eof_; }

 private:
  stream& stream_;
  line_buffer buffer_;
  bool eof_ = false;
};

}  // namespace costrix::io
