// proto::ami::message: one AMI message (banner, response, event or action) as
// views into the bytes it was parsed from, and owned_message, its owning copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace costrix::proto::ami {

/// One `Key: Value` line. A line of an old-style `Command` body (see
/// `message::output()`) is kept as a header with an empty key.
struct header {
  std::string_view key;
  std::string_view value;
  friend bool operator==(const header&, const header&) = default;
};

/// What a message is, read from its first line.
enum class message_kind {
  banner,    ///< `Asterisk Call Manager/11.0.0`, the first line on a connection
  response,  ///< first header `Response:`
  event,     ///< first header `Event:`
  action,    ///< first header `Action:` (what a client sends; a simulated server reads these)
  other,     ///< any other first header: framed and returned, for the caller to ignore
};

/// ASCII case-insensitive equality, as Asterisk compares header names (strcasecmp).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// The values of the headers that have one key (case-insensitive), in order.
/// A view over the message's headers: nothing is copied.
class value_range {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // operator* returns a value, not a reference
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    std::string_view operator*() const noexcept { return at_->value; }
    iterator& operator++() noexcept {
      ++at_;
      skip();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_ == b.at_; }

   private:
    friend class value_range;
    iterator(const header* at, const header* end, std::string_view key) noexcept : at_(at), end_(end), key_(key) {
      skip();
    }
    void skip() noexcept {
      while (at_ != end_ && !iequals(at_->key, key_)) ++at_;
    }
    const header* at_ = nullptr;
    const header* end_ = nullptr;
    std::string_view key_;
  };

  value_range() = default;
  value_range(std::span<const header> headers, std::string_view key) noexcept : headers_(headers), key_(key) {}

  iterator begin() const noexcept { return {headers_.data(), headers_.data() + headers_.size(), key_}; }
  iterator end() const noexcept {
    const header* e = headers_.data() + headers_.size();
    return {e, e, key_};
  }
  bool empty() const noexcept { return begin() == end(); }

 private:
  std::span<const header> headers_;
  std::string_view key_;
};

/// One AMI message. Its views point into the bytes given to the parser (and
/// the parser's header storage): they are valid while those bytes are and
/// until the parser's next `parse()`. Copy it into an `owned_message` to keep it.
class message {
 public:
  message() noexcept = default;

  message_kind kind() const noexcept { return kind_; }

  /// The first header's value for a response, event or action ("Success",
  /// "Newchannel", "Originate"); the product for a banner ("Asterisk Call
  /// Manager"); empty for `message_kind::other`.
  std::string_view name() const noexcept;

  /// A banner's version ("11.0.0"); empty for other kinds.
  std::string_view version() const noexcept { return version_; }

  /// The first `ActionID` value, empty when there is none.
  std::string_view action_id() const noexcept {
    return action_id_ < headers_.size() ? headers_[action_id_].value : std::string_view{};
  }

  /// The first value of `key` (compared case-insensitively), if the message has it.
  /// `Value: ` (present, empty) and no `Value` header at all are told apart.
  std::optional<std::string_view> get(std::string_view key) const noexcept;

  /// Every value of `key`, in order (`ChanVariable`, `Variable`, `Output`).
  value_range all(std::string_view key) const noexcept { return {headers_, key}; }

  /// A `Command` action's output lines, whatever the framing: Asterisk ≥ 14's
  /// repeated `Output:` headers, or the raw body lines of older Asterisk's
  /// `Response: Follows` (up to `--END COMMAND--`).
  value_range output() const noexcept { return {headers_, has_body_ ? std::string_view{} : "Output"}; }

  /// Every header in order; body lines of `Response: Follows` have an empty key.
  std::span<const header> headers() const noexcept { return headers_; }

 private:
  friend class message_parser;
  friend class owned_message;
  static constexpr std::size_t none = SIZE_MAX;

  std::span<const header> headers_;
  std::string_view banner_name_;
  std::string_view version_;
  std::size_t action_id_ = none;  // index into headers_
  message_kind kind_ = message_kind::other;
  bool has_body_ = false;  // old Command framing: body lines are headers with an empty key
};

/// A message that owns its bytes: the headers and all their text in one heap
/// block, so it can outlive the receive buffer (an event queued for a slow
/// consumer, a response handed to a waiting coroutine). Moving keeps every
/// view valid (the block does not move); a copy has its own block.
class owned_message : public message {
 public:
  owned_message() noexcept = default;
  explicit owned_message(const message& m);
  owned_message(const owned_message& other) : owned_message(static_cast<const message&>(other)) {}
  owned_message(owned_message&& other) noexcept;
  owned_message& operator=(const owned_message& other);
  owned_message& operator=(owned_message&& other) noexcept;
  ~owned_message() = default;

  /// Bytes of the heap block (0 for an empty message).
  std::size_t allocated_bytes() const noexcept { return size_; }

 private:
  std::unique_ptr<std::byte[]> block_;
  std::size_t size_ = 0;
};

}  // namespace costrix::proto::ami
