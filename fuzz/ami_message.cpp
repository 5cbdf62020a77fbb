// libFuzzer: AMI framing read whole and in pieces from a buffer that moves (the
// same messages and the same verdict either way), owned copies, and the action
// encoder: whatever it writes from a parsed message reads back unchanged.
#include <costrix/proto/ami/action.hpp>
#include <costrix/proto/ami/message_parser.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ami = costrix::proto::ami;
using first = ami::message_parser::first;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct outcome {
  std::vector<ami::owned_message> messages;
  std::optional<std::error_code> error;
};

bool same(const ami::message& a, const ami::message& b) {
  return a.kind() == b.kind() && a.name() == b.name() && a.version() == b.version() &&
         a.action_id() == b.action_id() &&
         std::equal(a.headers().begin(), a.headers().end(), b.headers().begin(), b.headers().end());
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// Reads `in` as a connection would: appended to a buffer in pieces (all at
// once when `seed` is 0; the buffer moves after each piece otherwise).
outcome read(std::string_view in, ami::limits l, first f, std::uint32_t seed) {
  ami::message_parser p(l, f);
  outcome out;
  std::string buf;
  std::size_t at = 0;
  while (at < in.size()) {
    std::size_t n = in.size() - at;
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (seed >> 16) % 40);
    }
    std::string grown;
    grown.reserve(buf.size() + n);
    grown.append(buf).append(in.substr(at, n));
    buf.swap(grown);
    at += n;
    for (;;) {
      auto r = p.parse(buf);
      if (!r) {
        out.error = r.error().code;
        auto again = p.parse(buf);  // broken for good
        check(!again && again.error().code == r.error().code);
        return out;
      }
      if (!*r) break;
      const auto& m = (*r)->msg;
      check((*r)->consumed > 0 && (*r)->consumed <= buf.size() && (*r)->consumed <= l.max_message_bytes);
      check(m.headers().size() <= l.max_headers);
      for (const auto& h : m.headers()) check(inside(h.key, buf) && inside(h.value, buf));
      ami::owned_message copy(m);
      check(same(copy, m));
      out.messages.push_back(std::move(copy));
      buf.erase(0, (*r)->consumed);
    }
  }
  return out;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f && c != ':';
  });
}

// A parsed message sent back as an action: encodable unless the name is not a
// token or a value holds a '\r' (the parser keeps lone CRs); read back unchanged.
void round_trip(const ami::message& m) {
  if (m.kind() == ami::message_kind::banner || m.headers().empty() || m.headers()[0].key.empty()) return;
  ami::action a{std::string{m.name()}};
  bool encodable = is_token(a.name);
  std::vector<ami::header> expected;
  for (const auto& h : m.headers().subspan(1)) {
    if (h.key.empty() || ami::iequals(h.key, "Action") || ami::iequals(h.key, "ActionID")) continue;
    a.add(h.key, h.value);
    expected.push_back(h);
    encodable = encodable && h.value.find('\r') == std::string_view::npos;
  }
  std::string id = m.action_id().empty() ? std::string{"id"} : std::string{m.action_id()};
  encodable = encodable && id.find('\r') == std::string::npos;
  std::string out;
  auto r = ami::encode(a, id, out);
  check(static_cast<bool>(r) == encodable);
  if (!r) {
    check(out.empty());
    return;
  }
  ami::message_parser p({}, first::message);
  auto back = p.parse(out);
  check(back && back->has_value() && (*back)->consumed == out.size());
  const auto& b = (*back)->msg;
  check(b.kind() == ami::message_kind::action && b.name() == a.name && b.action_id() == id);
  check(b.headers().size() == expected.size() + 2);
  for (std::size_t i = 0; i < expected.size(); ++i) check(b.headers()[i + 1] == expected[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr ami::limits small{.max_message_bytes = 1024, .max_line_bytes = 128, .max_headers = 24};
  for (first f : {first::banner, first::message}) {
    for (ami::limits l : {ami::limits{}, small}) {
      outcome whole = read(in, l, f, 0);
      outcome pieces = read(in, l, f, static_cast<std::uint32_t>(size) | 1u);
      check(whole.error == pieces.error);
      check(whole.messages.size() == pieces.messages.size());
      for (std::size_t i = 0; i < whole.messages.size(); ++i) check(same(whole.messages[i], pieces.messages[i]));
      if (f == first::message && l.max_headers == small.max_headers)
        for (const auto& m : whole.messages) round_trip(m);
    }
  }
  return 0;
}
