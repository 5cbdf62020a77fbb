// io::stream: a connection's descriptor(s), read and written without blocking.
#pragma once

#include <costrix/io/line_buffer.hpp>
#include <costrix/result.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace costrix::io {

/// A connection: a TCP socket (FastAGI) or a pair of descriptors (classic AGI
/// on stdin/stdout). Reads and writes never block; a caller with nothing to do
/// waits for readiness. Waiting for readiness rather than reading into a
/// buffer is what lets an idle connection hold no receive buffer.
class stream {
 public:
  using executor_type = boost::asio::io_context::executor_type;
  using descriptor = boost::asio::posix::basic_stream_descriptor<executor_type>;

  /// Takes over `fd`, a connected socket or any descriptor used both ways.
  static stream adopt(executor_type ex, int fd);
  /// Reads `in_fd` and writes `out_fd` through duplicates: the caller keeps the originals.
  static stream duplicate(executor_type ex, int in_fd, int out_fd);

  stream(stream&&) noexcept = default;
  stream& operator=(stream&&) noexcept = default;
  ~stream() { close(); }

  /// Bytes read (> 0), or 0 with `ec` set: `would_block` when nothing has
  /// arrived yet, `eof` when the peer closed, or the system's error.
  std::size_t read_some(std::span<char> into, boost::system::error_code& ec) noexcept;
  /// Bytes written (possibly fewer than asked), or 0 with `ec` set (`would_block` when full).
  std::size_t write_some(std::string_view bytes, boost::system::error_code& ec) noexcept;

  /// Completes (with an error_code) when a read would find something to read.
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return in_.async_wait(descriptor::wait_read, std::forward<Token>(token));
  }
  /// Completes when a write would take at least one byte.
  template <typename Token>
  auto async_wait_writable(Token&& token) {
    return (out_ ? *out_ : in_).async_wait(descriptor::wait_write, std::forward<Token>(token));
  }

  /// Writes all of `bytes`, waiting when the peer is slow: for code off the hot
  /// path (simulators, tests). `errc::disconnected` or `errc::cancelled`.
  awaitable<result<void>> write_all(std::string_view bytes);

  /// Cancels the waits in progress; they complete with `operation_aborted`.
  void cancel() noexcept;
  /// Closes the connection; idempotent.
  void close() noexcept;
  bool is_open() const noexcept { return in_.is_open(); }
  executor_type get_executor() noexcept { return in_.get_executor(); }
  /// "127.0.0.1:40312" for TCP, "unix" for a local socket, "stdio" for other descriptors.
  std::string peer() const;

 private:
  stream(descriptor in, std::unique_ptr<descriptor> out, bool socket) noexcept
      : in_(std::move(in)), out_(std::move(out)), socket_(socket) {}

  descriptor in_;
  std::unique_ptr<descriptor> out_;  // classic AGI only: writes go to in_ otherwise
  bool socket_ = false;
};

/// Reads lines from a stream into a line_buffer of its own, for code that keeps
/// a line across its own awaits (simulators, clients). Servers' sessions use
/// line_receiver instead, which holds no buffer while idle.
class line_reader {
 public:
  explicit line_reader(stream& s, std::size_t max_line = line_buffer::default_max_line,
                       std::size_t initial = line_buffer::default_initial)
      : stream_(s), buffer_(max_line, initial) {}

  /// The next line (a view valid until the next call), or: `errc::disconnected`
  /// at end of stream or on a broken connection, `errc::limit_exceeded` for an
  /// over-long line, `errc::cancelled` if the wait was cancelled.
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
