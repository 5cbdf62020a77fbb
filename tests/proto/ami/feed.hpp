// Test helpers: feed AMI bytes to a message_parser as a connection would.
#pragma once

#include <costrix/proto/ami/message_parser.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::test {

struct fed {
  std::vector<proto::ami::owned_message> messages;
  std::optional<costrix::error> error;  ///< the error that stopped the stream, if any
  std::size_t left = 0;                 ///< bytes still unconsumed at the end
};

/// Appends `bytes` to a receive buffer `piece()` bytes at a time (all at once
/// without `piece`) and, after each piece, takes every complete message out of
/// the buffer, as a connection does. When `move_buffer` is set the buffer is
/// copied to a new address after each piece, so the parser must resume a
/// partial message from offsets, not pointers.
inline fed feed(proto::ami::message_parser& p, std::string_view bytes,
                const std::function<std::size_t()>& piece = {}, bool move_buffer = false) {
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
      out.messages.emplace_back((*r)->msg);
      buf.erase(0, (*r)->consumed);
    }
  }
  out.left = buf.size();
  return out;
}

/// The values of a range (value_range) as a vector.
template <class Range>
std::vector<std::string> strings(const Range& r) {
  std::vector<std::string> v;
  for (std::string_view s : r) v.emplace_back(s);
  return v;
}

/// Same kind, name, version and headers.
inline bool same(const proto::ami::message& a, const proto::ami::message& b) {
  return a.kind() == b.kind() && a.name() == b.name() && a.version() == b.version() &&
         a.action_id() == b.action_id() &&
         std::equal(a.headers().begin(), a.headers().end(), b.headers().begin(), b.headers().end());
}

}  // namespace costrix::test
