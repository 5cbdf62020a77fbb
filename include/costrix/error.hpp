// costrix::errc and costrix::error: what a failed call tells the program.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace costrix {

/// What went wrong, as a code a program can branch on.
enum class errc {
  hangup = 1,       ///< the caller hung up (AGI `HANGUP` line, `result=-1 (hangup)`)
  dead_channel,     ///< `511`: the command is not allowed on a dead channel
  invalid_command,  ///< `510`: the peer does not know the command
  usage,            ///< `520`: the peer rejected the arguments; message holds its usage text
  failed,           ///< the command ran and reported failure (e.g. `result=-1`)
  not_found,        ///< what was asked for does not exist (application, channel, key)
  timeout,          ///< no answer within the deadline
  cancelled,        ///< the operation was cancelled
  disconnected,     ///< the connection closed or broke
  auth_failed,      ///< the peer refused our credentials
  protocol,         ///< the peer sent something that does not follow the protocol
  limit_exceeded,   ///< a line, message or environment over its configured limit
  refused,          ///< the server is at its session limit
  invalid_argument, ///< the caller passed a value that cannot be encoded
};

const std::error_category& category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// A failure: a code to branch on and, where there is one, the peer's own words
/// (Asterisk's usage text or `Message:`, FreeSWITCH's `-ERR ...`).
struct error {
  std::error_code code;
  std::string message;

  error() = default;
  error(std::error_code c, std::string msg = {}) : code(c), message(std::move(msg)) {}
  error(errc c, std::string msg = {}) : code(make_error_code(c)), message(std::move(msg)) {}

  /// "hangup", or "usage: Invalid command syntax..." when there is a message.
  std::string what() const;

  friend bool operator==(const error& e, errc c) noexcept { return e.code == make_error_code(c); }
};

}  // namespace costrix

template <>
struct std::is_error_code_enum<costrix::errc> : std::true_type {};
