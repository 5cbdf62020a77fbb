// proto::esl::message: one FreeSWITCH Event Socket message (a reply, an API
// response, an event, a notice) as views into the bytes it was parsed from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace costrix::proto::esl {

/// One `Key: Value` line, as sent.
struct header {
  std::string_view key;
  std::string_view value;
  friend bool operator==(const header&, const header&) = default;
};

/// What a message is, from its `Content-Type` header.
enum class content_type {
  auth_request,       ///< `auth/request`: the server asks an inbound client to authenticate
  command_reply,      ///< `command/reply`: `Reply-Text: +OK ...` or `-ERR ...`
  api_response,       ///< `api/response`: the reply to `api`, in the body
  event_plain,        ///< `text/event-plain`: the body is an event (see event_decoder)
  event_json,         ///< `text/event-json`: the body is an event as a JSON object
  event_xml,          ///< `text/event-xml`: recognised; the body is left as it is
  disconnect_notice,  ///< `text/disconnect-notice`: the server is closing (or lingering)
  rude_rejection,     ///< `text/rude-rejection`: the server refused the connection (ACL)
  log_data,           ///< `log/data`: a log line, after the `log` command
  none,               ///< no `Content-Type` header
  other,              ///< any other `Content-Type`
};

/// One ESL message. Its views point into the bytes given to the parser (and
/// the parser's header storage): valid while those bytes are and until the
/// parser's next `parse()`.
class message {
 public:
  message() noexcept = default;

  esl::content_type type() const noexcept { return type_; }

  /// The first value of `key` (ASCII case-insensitive, as FreeSWITCH compares),
  /// as sent: not URL-decoded (see event_decoder for event values).
  std::optional<std::string_view> get(std::string_view key) const noexcept;

  /// Every header in order.
  std::span<const header> headers() const noexcept { return headers_; }

  /// The `Content-Length` bytes after the headers; empty without that header.
  std::string_view body() const noexcept { return body_; }

  /// The reply's words: `Reply-Text` of a `command/reply` (`+OK accepted`,
  /// `-ERR invalid`), the body of an `api/response`; empty for other types.
  std::string_view reply_text() const noexcept;

  /// Whether a reply reports success: a `command/reply` whose `Reply-Text`
  /// starts with `+OK` (the outbound `connect` reply URL-encodes it as
  /// `%2BOK%0A`, which counts), an `api/response` whose body does not start
  /// with `-ERR` or `-USAGE`. False for other types.
  bool ok() const noexcept;

  /// The `Job-UUID` header of a `bgapi` reply; empty when there is none.
  std::string_view job_uuid() const noexcept { return get("Job-UUID").value_or(std::string_view{}); }

  /// Whether the headers themselves are an event (`Event-Name` among them):
  /// the outbound `connect` reply carries the channel's data this way.
  bool has_event_headers() const noexcept { return get("Event-Name").has_value(); }

 private:
  friend class message_parser;
  std::span<const header> headers_;
  std::string_view body_;
  esl::content_type type_ = esl::content_type::none;
};

}  // namespace costrix::proto::esl
