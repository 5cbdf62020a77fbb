// proto::esl::message_parser: frames Event Socket messages out of received bytes, zero-copy.
#pragma once

#include <costrix/proto/esl/message.hpp>
#include <costrix/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::proto::esl {

/// What one message may hold. Going over one is `errc::limit_exceeded`.
struct limits {
  /// The header block: its lines with their endings, the closing empty line
  /// and any empty lines in front of it. The outbound `connect` reply carries
  /// every channel variable here (a few KiB, more with long SIP headers).
  std::size_t max_header_bytes = 256 * 1024;
  /// One header line without its ending.
  std::size_t max_line_bytes = 64 * 1024;
  std::size_t max_headers = 4096;
  /// A `Content-Length`: a larger one is refused as soon as its header line
  /// is read, before any of the body arrives. (An `api` reply such as `show
  /// channels` on a busy switch is the largest body in practice.)
  std::size_t max_body_bytes = 16 * 1024 * 1024;
};

/// A complete message and how many bytes it took from the front of the input.
struct parsed {
  std::size_t consumed = 0;
  message msg;
};

/// Incremental, zero-copy ESL framing. No I/O: the caller keeps the received
/// bytes in its own buffer and calls `parse()` with all the bytes not yet
/// consumed; when a message is complete it gets the message (views into those
/// bytes) and drops `consumed` bytes from the front before the next call.
///
///   - A message is `Key: Value` lines (`\n` or `\r\n`) ended by an empty
///     line, then, when it has a `Content-Length` header, exactly that many
///     bytes of body. The key ends at the first ':' and the spaces after it
///     are dropped, as FreeSWITCH's own ESL library does. A key is visible
///     ASCII (no space, tab or control character).
///   - `Content-Length` is decimal digits only (no sign, no spaces).
///   - Empty lines between messages are skipped.
///
/// Errors: a line that is not `Key: Value`, a NUL byte in the headers, a
/// `Content-Length` that is not a number or given twice: `errc::protocol`; a
/// line, header block, header count or `Content-Length` over `limits`:
/// `errc::limit_exceeded`. Each error's message says what was wrong and quotes
/// the offending line. After an error the stream cannot be framed any
/// further: `parse()` returns the same error until `reset()`.
///
/// Between calls that return "need more bytes" (`std::nullopt`) the input must
/// start at the same byte and only grow (it may move in memory): the parser
/// resumes where it stopped. Header storage is kept across messages, so a
/// warm parser allocates nothing per message.
class message_parser {
 public:
  explicit message_parser(esl::limits l = {});

  /// The next message at the front of `bytes`, `std::nullopt` when more bytes
  /// are needed, or the error that broke the stream. The message is valid
  /// while `bytes` is, and until the next `parse()` or `reset()`.
  result<std::optional<parsed>> parse(std::string_view bytes);

  /// Ready for a new connection.
  void reset() noexcept;

  const esl::limits& limits() const noexcept { return limits_; }

 private:
  // Offsets into the caller's bytes, so a partial message survives the buffer moving.
  struct slot {
    std::size_t key_at = 0, key_size = 0, value_at = 0, value_size = 0;
  };

  void start_message() noexcept;
  error broken(errc c, std::string text);  // the stream is broken from here on
  result<void> add(std::size_t line_at, std::string_view line, std::size_t colon);
  parsed finish(std::string_view bytes);

  esl::limits limits_;
  std::optional<error> broken_;

  // The message in progress.
  std::size_t scan_ = 0;                  // offset of the next unread header line, or of the body
  std::optional<std::size_t> body_size_;  // from Content-Length
  bool in_body_ = false;                  // the header block is complete; waiting for the body
  std::vector<slot> slots_;
  std::vector<header> headers_;  // the last complete message's headers
};

}  // namespace costrix::proto::esl
