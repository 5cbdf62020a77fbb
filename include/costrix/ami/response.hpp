// ami::response: what Asterisk answered to one action, owned by the caller.
#pragma once

#include <costrix/proto/ami/message.hpp>
#include <costrix/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::ami {

using proto::ami::message;
using proto::ami::owned_message;

/// The `Response:` header's value.
enum class response_status {
  success,  ///< `Success`
  error,    ///< `Error`
  follows,  ///< `Follows` (Asterisk < 14's `Command`)
  goodbye,  ///< `Goodbye` (`Logoff`)
  other,    ///< anything else
};

/// A response with everything that belongs to it: for an event-list action
/// (`EventList: start`) the events up to the `...Complete` event; for an action
/// that completes on an event (async `Originate`) that event.
struct response {
  response_status status = response_status::other;
  owned_message fields;                 ///< the response's headers, in order
  std::vector<owned_message> events;    ///< an event list's items, in order
  std::optional<owned_message> last;    ///< the `...Complete` event, or `OriginateResponse`

  /// Success, Follows or Goodbye.
  bool ok() const noexcept { return status != response_status::error && status != response_status::other; }
  /// Asterisk's `Message:` ("Authentication accepted", "No such channel"), empty without one.
  std::string_view text() const noexcept { return fields.get("Message").value_or(std::string_view{}); }
  /// The first value of a header of the response (case-insensitive).
  std::optional<std::string_view> get(std::string_view key) const noexcept { return fields.get(key); }
};

response_status status_of(std::string_view response_header) noexcept;

/// The error an unsuccessful response stands for, with Asterisk's `Message:`:
/// `errc::not_found` ("No such channel", "... not found"), `errc::auth_failed`
/// ("Permission denied", "Authentication failed"), otherwise `errc::failed`.
error error_of(const response& r);

/// `r` if it is ok(), else error_of(r): how typed actions read a plain response.
result<response> expect_ok(response&& r);

}  // namespace costrix::ami
