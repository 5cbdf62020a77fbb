// Test helpers: feed ESL bytes to a message_parser as a connection would.
#pragma once

#include <costrix/proto/esl/message_parser.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::test::esl {

/// A parsed message copied out of the receive buffer.
struct stored {
  proto::esl::content_type type = proto::esl::content_type::none;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t consumed = 0;

  explicit stored(const proto::esl::parsed& p) : type(p.msg.type()), body(p.msg.body()), consumed(p.consumed) {
    for (const auto& h : p.msg.headers()) headers.emplace_back(h.key, h.value);
  }
  std::optional<std::string> get(std::string_view key) const {
    for (const auto& [k, v] : headers)
      if (k == key) return v;
    return std::nullopt;
  }
  friend bool operator==(const stored&, const stored&) = default;
};

struct fed {
  std::vector<stored> messages;
  std::optional<costrix::error> error;  ///< the error that stopped the stream, if any
  std::size_t left = 0;                 ///< bytes still unconsumed at the end
};

/// Appends `bytes` to a receive buffer `piece()` bytes at a time (all at once
/// without `piece`) and, after each piece, takes every complete message out
/// of the buffer. With `move_buffer` the buffer moves after each piece, so the
/// parser must resume from offsets, not pointers. `check` sees each message
/// while its views are valid.
inline fed feed(proto::esl::message_parser& p, std::string_view bytes, const std::function<std::size_t()>& piece = {},
                bool move_buffer = false, const std::function<void(const proto::esl::message&)>& check = {}) {
  fed out;
  std::string buf;
  std::size_t at = 0;
  while (at < bytes.size()) {
    std::size_t n = piece ? std::max<std::size_t>(1, piece()) : bytes.size();
    n = std::min(n, bytes.size() - at);
    buf.append(bytes.substr(at, n));
    at += n;
    if (move_buffer) {
      std::string moved;
      moved.reserve(buf.size() + 64);
      moved = buf;
      buf.swap(moved);
    }
    for (;;) {
      auto r = p.parse(buf);
      if (!r) {
        out.error = r.error();
        out.left = buf.size();
        return out;
      }
      if (!*r) break;
      if (check) check((*r)->msg);
      out.messages.emplace_back(**r);
      buf.erase(0, (*r)->consumed);
    }
  }
  out.left = buf.size();
  return out;
}

/// A transcript's received bytes without the `<<closed>>` marker of a closed connection.
inline std::string wire(std::string_view received) {
  constexpr std::string_view closed = "<<closed>>";
  std::string s{received};
  if (s.ends_with(closed)) s.resize(s.size() - closed.size());
  return s;
}

}  // namespace costrix::test::esl
