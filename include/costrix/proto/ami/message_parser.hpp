// proto::ami::message_parser: frames AMI messages out of received bytes, zero-copy.
#pragma once

#include <costrix/proto/ami/message.hpp>
#include <costrix/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::proto::ami {

/// What one message may hold. Going over one is `errc::limit_exceeded`.
struct limits {
  /// A whole message: its lines with their endings, the closing empty line,
  /// and any empty lines in front of it.
  std::size_t max_message_bytes = 256 * 1024;
  /// One line without its ending (an `Env` of AsyncAGIStart is ~1 KiB).
  std::size_t max_line_bytes = 64 * 1024;
  /// Header lines plus old-style Command body lines. A `Command` reply has one
  /// `Output:` header per line of CLI output, so thousands are plausible.
  std::size_t max_headers = 4096;
};

/// A complete message and how many bytes it took from the front of the input.
struct parsed {
  std::size_t consumed = 0;
  message msg;
};

/// Incremental, zero-copy AMI framing. No I/O: the caller keeps the received
/// bytes in its own buffer and calls `parse()` with all the bytes not yet
/// consumed; when a message is complete it gets the message (views into those
/// bytes) and drops `consumed` bytes from the front before the next call.
///
///   - Lines end in `\r\n` or `\n`. A message is `Key: Value` lines ended by an
///     empty line; a key is split at the first ':', and one space after it is
///     dropped (`Key:` is an empty value, `Key:value` has no space). A key is
///     visible ASCII (no space, tab or control character).
///   - The first line on a connection is the banner (`Asterisk Call
///     Manager/11.0.0`; any product ending in "Call Manager" is accepted),
///     returned as a message of kind `banner`. Construct with `first::message`
///     for a stream without one (a server reading actions).
///   - `Response: Follows` (Asterisk < 14's `Command`): after the `Privilege`
///     header (and an `ActionID` right after it) every line, empty ones
///     included, is body up to a line ending in `--END COMMAND--`; then the
///     empty line ends the message. `message::output()` gives the body lines.
///   - Empty lines between messages are skipped.
///
/// Errors: a line that is not `Key: Value` (outside a Command body), a first
/// line that is not a banner, a NUL byte: `errc::protocol`; a line, message or
/// header count over `limits`: `errc::limit_exceeded`. Each message quotes the
/// offending line. After an error the stream cannot be framed any further:
/// the connection is broken, and `parse()` returns the same error until `reset()`.
///
/// Between calls that return "need more bytes" (`std::nullopt`) the input must
/// start at the same byte and only grow (it may move in memory): the parser
/// resumes where it stopped rather than scanning again. Header storage is kept
/// across messages, so a warm parser allocates nothing per message.
class message_parser {
 public:
  /// What the stream starts with.
  enum class first { banner, message };

  explicit message_parser(ami::limits l = {}, first f = first::banner);

  /// The next message at the front of `bytes`, `std::nullopt` when more bytes
  /// are needed, or the error that broke the stream. The message is valid while
  /// `bytes` is, and until the next `parse()` or `reset()`.
  result<std::optional<parsed>> parse(std::string_view bytes);

  /// Ready for a new connection (a banner first again, if so constructed).
  void reset() noexcept;

  const ami::limits& limits() const noexcept { return limits_; }

 private:
  // Offsets into the caller's bytes, so a partial message survives the buffer moving.
  struct slot {
    std::size_t key_at = 0, key_size = 0, value_at = 0, value_size = 0;
  };
  enum class section : unsigned char { headers, body_first, body, trailer };

  void start_message() noexcept;
  error broken(errc c, std::string text);  // the stream is broken from here on
  result<void> add(std::size_t line_at, std::string_view line, std::size_t colon);
  result<void> add_body(std::size_t line_at, std::string_view line);
  parsed finish(std::string_view bytes);
  parsed banner(std::string_view line);

  ami::limits limits_;
  first first_;
  bool banner_pending_;
  std::optional<error> broken_;

  // The message in progress.
  std::size_t scan_ = 0;  // offset of the next unread line
  std::vector<slot> slots_;
  std::vector<header> headers_;  // the last complete message's headers
  std::size_t action_id_ = SIZE_MAX;
  section section_ = section::headers;
  bool follows_ = false;   // Response: Follows
  bool has_body_ = false;
};

}  // namespace costrix::proto::ami
