// io::line_buffer: a connection's receive buffer that hands out lines as views into itself.
#pragma once

#include <costrix/result.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace costrix::io {

/// The line at the start of `pending`, whose first '\n' is at `newline`
/// (`std::string_view::npos`: none yet), without its `\n` or `\r\n`:
/// std::nullopt while it has not ended, `errc::limit_exceeded` once it is
/// longer than `max_line`. The rule every line reader of costrix follows.
result<std::optional<std::string_view>> cut_line(std::string_view pending, std::size_t newline,
                                                 std::size_t max_line);

/// The receive buffer of one connection. No I/O: the owner reads into
/// `prepare()`, calls `commit(n)`, then takes complete lines with `next_line()`.
///
/// A line is returned without its `\n` or `\r\n` as a view into the buffer, valid
/// until the next `prepare()`. The buffer starts small and grows (doubling) only
/// while a line is longer than what it holds, up to `max_line`; a line that does
/// not end within `max_line` bytes is `errc::limit_exceeded`. Once warm, taking a
/// line allocates nothing.
class line_buffer {
 public:
  static constexpr std::size_t default_max_line = 8 * 1024;
  static constexpr std::size_t default_initial = 256;

  explicit line_buffer(std::size_t max_line = default_max_line, std::size_t initial = default_initial);

  /// The next complete line, `std::nullopt` if more bytes are needed, or
  /// `errc::limit_exceeded` if the pending line is already longer than `max_line`.
  result<std::optional<std::string_view>> next_line();

  /// Free space to read into (never empty unless the pending line has reached
  /// `max_line`). Moves unread bytes to the front when that makes room.
  std::span<char> prepare();
  void commit(std::size_t n) noexcept { end_ += n; }

  /// Bytes received but not yet returned as lines.
  std::string_view pending() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t max_line() const noexcept { return max_line_; }

  /// Gives memory back when the buffer is empty and has grown past `initial`.
  void shrink() noexcept;

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t initial_ = 0;
  std::size_t max_line_ = 0;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last received byte
  std::size_t scan_ = 0;   // where the search for '\n' resumes
};

}  // namespace costrix::io
