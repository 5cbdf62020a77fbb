// io::line_receiver: lines from a stream without a receive buffer per connection.
#pragma once

#include <costrix/io/line_buffer.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace costrix::io {

/// Bytes are read into a buffer shared by every connection of the thread, and
/// only the bytes a connection has received but not yet used (an unfinished
/// line, or what came after the reply it waited for) are copied into a block
/// of its own, freed once used. An idle connection therefore holds no receive
/// buffer, and a reply that arrives whole costs no allocation.
///
/// Lines handed to a consumer are views into the thread's buffer: valid until
/// the consumer returns to the caller of `drain`, never across an await.
class line_receiver {
 public:
  explicit line_receiver(std::size_t max_line = line_buffer::default_max_line) noexcept : max_line_(max_line) {}

  /// Hands each complete line (without `\n` or `\r\n`) to `consume`, a callable
  /// `result<bool>(std::string_view)` that returns true when it needs no more.
  /// Reads the stream only while `consume` wants more and bytes are there.
  ///   - true: `consume` is satisfied (bytes after its line are kept);
  ///   - false: nothing more to read now: wait until the stream is readable, call again;
  ///   - `errc::disconnected` (end of stream: see at_eof(), or a broken
  ///     connection), `errc::limit_exceeded` (a line over max_line), or
  ///     `consume`'s own error.
  template <typename Consume>
  result<bool> drain(stream& s, Consume&& consume) {
    for (;;) {
      auto filled = fill(s);
      if (!filled) return fail(std::move(filled).error());
      std::span<char> bytes = *filled;
      if (bytes.empty()) return false;
      std::size_t used = 0;
      bool done = false;
      for (;;) {
        auto line = next_line(bytes, used);
        if (!line) return fail(std::move(line).error());
        if (!*line) break;
        auto r = consume(**line);
        if (!r) return fail(std::move(r).error());
        if (*r) {
          done = true;
          break;
        }
      }
      keep(bytes.subspan(used));
      if (done) return true;
      if (last_read_empty_) return false;
    }
  }

  /// Bytes received and not yet handed out.
  std::size_t held() const noexcept { return held_size_; }
  bool at_eof() const noexcept { return eof_; }
  std::size_t max_line() const noexcept { return max_line_; }

 private:
  // The kept bytes, then whatever the stream has, in the thread's buffer. An
  // empty span: nothing kept and nothing to read.
  result<std::span<char>> fill(stream& s);
  result<std::optional<std::string_view>> next_line(std::span<char> bytes, std::size_t& used) const;
  void keep(std::span<const char> rest);

  std::unique_ptr<char[]> held_;
  std::uint32_t held_size_ = 0;
  std::uint32_t max_line_;
  bool eof_ = false;
  bool last_read_empty_ = false;  // the last fill() found the stream with nothing to read
};

}  // namespace costrix::io
