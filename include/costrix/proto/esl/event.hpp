// proto::esl::event: a FreeSWITCH event with its values decoded, whichever
// form it came in (text/event-plain, text/event-json, the outbound connect
// reply); event_decoder, which makes one; owned_event, a copy that keeps.
#pragma once

#include <costrix/proto/esl/message.hpp>
#include <costrix/result.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::proto::esl {

/// An event: its headers with decoded values, and its body (a BACKGROUND_JOB's
/// result, a CUSTOM event's payload). The same accessors whatever the wire
/// form. The views point into the event_decoder that made it: valid until its
/// next `decode()`. Copy it into an `owned_event` to keep it.
class event {
 public:
  event() noexcept = default;

  /// `Event-Name`: "CHANNEL_ANSWER", "BACKGROUND_JOB", "CUSTOM".
  std::string_view name() const noexcept { return name_; }

  /// `Event-Subclass` of a CUSTOM event ("sofia::register"); empty otherwise.
  std::string_view subclass() const noexcept { return subclass_; }

  /// The first value of `key` (ASCII case-insensitive), decoded.
  std::optional<std::string_view> get(std::string_view key) const noexcept;

  /// Every header in order, values decoded. A JSON array value is one header per element.
  std::span<const header> headers() const noexcept { return headers_; }

  /// The body: what follows the headers of a plain event (its own
  /// `Content-Length` bytes) or the `_body` member of a JSON one; empty without one.
  std::string_view body() const noexcept { return body_; }

 private:
  friend class event_decoder;
  friend class owned_event;
  std::span<const header> headers_;
  std::string_view name_;
  std::string_view subclass_;
  std::string_view body_;
};

/// What one event may hold. Going over it is `errc::limit_exceeded`.
struct event_limits {
  std::size_t max_headers = 4096;
};

/// Decodes events. A plain event's body is `Key: Value` lines with URL-encoded
/// values (`%XX`), ended by an empty line, then (when it has a `Content-Length`
/// header) exactly that many bytes of body. A JSON event is one object whose
/// members are the headers (`_body` is the body). The decoded text is written
/// to the decoder's own storage, which is reused: a warm decoder allocates
/// nothing per plain event.
///
/// Errors, all `errc::protocol` and naming what was wrong: a line that is not
/// `Key: Value`, a `%` not followed by two hex digits, a NUL byte, headers not
/// ended by an empty line, a `Content-Length` that disagrees with the bytes
/// after the headers; a JSON body that is not an object; no `Event-Name`. More
/// headers than `event_limits` is `errc::limit_exceeded`. A decoder has no
/// stream state: an error concerns that one event only.
class event_decoder {
 public:
  explicit event_decoder(event_limits l = {}) : limits_(l) {}

  /// The event in `m`: its body for `text/event-plain` and `text/event-json`,
  /// its own headers when it has an `Event-Name` header (the outbound
  /// `connect` reply). Any other message is `errc::invalid_argument`.
  result<event> decode(const message& m);

  /// A `text/event-plain` body.
  result<event> decode_plain(std::string_view body);

  /// A `text/event-json` body.
  result<event> decode_json(std::string_view body);

 private:
  struct slot {
    std::size_t key_at, key_size, value_at, value_size;
  };
  result<event> finish();
  result<void> add(std::string_view key, std::string_view value, bool url_encoded);

  event_limits limits_;
  std::string text_;  // keys and decoded values, one after the other
  std::vector<slot> slots_;
  std::vector<header> headers_;
  std::size_t body_at_ = 0, body_size_ = 0;
};

/// An event that owns its bytes: headers and text in one heap block, so it can
/// outlive the decoder (queued for a consumer, handed to a waiting job).
/// Moving keeps every view valid; a copy has its own block.
class owned_event : public event {
 public:
  owned_event() noexcept = default;
  explicit owned_event(const event& e);
  owned_event(const owned_event& other) : owned_event(static_cast<const event&>(other)) {}
  owned_event(owned_event&& other) noexcept;
  owned_event& operator=(const owned_event& other);
  owned_event& operator=(owned_event&& other) noexcept;
  ~owned_event() = default;

 private:
  std::unique_ptr<std::byte[]> block_;
};

}  // namespace costrix::proto::esl
