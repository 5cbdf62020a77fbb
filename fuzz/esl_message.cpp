// libFuzzer: ESL framing read whole and in pieces from a buffer that moves (the
// same messages and the same verdict either way), every event decoded (plain,
// JSON, connect-reply headers) and copied, the input as an event body of its
// own, and the command writer: a parsed message sent back as `sendevent` reads
// back unchanged.
#include <costrix/proto/ami/message.hpp>  // iequals
#include <costrix/proto/esl/command.hpp>
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esl = costrix::proto::esl;
using costrix::proto::ami::iequals;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct stored {
  esl::content_type type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool operator==(const stored&) const = default;
};

struct outcome {
  std::vector<stored> messages;
  std::optional<std::error_code> error;
};

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool same(const esl::event& a, const esl::event& b) {
  return a.name() == b.name() && a.subclass() == b.subclass() && a.body() == b.body() &&
         std::equal(a.headers().begin(), a.headers().end(), b.headers().begin(), b.headers().end());
}

void decode_events(const esl::message& m, esl::event_decoder& d) {
  auto e = d.decode(m);
  if (!e) return;
  check(!e->name().empty());
  check(e->get("Event-Name") == e->name());
  esl::owned_event kept{*e};
  check(same(kept, *e));
  esl::owned_event moved{std::move(kept)};
  check(same(moved, *e));
}

// A parsed message sent back as `sendevent`: encodable unless a value holds a
// '\r' (the parser keeps one inside a line) or the body a NUL; its header
// block and body read back as they were.
void round_trip(const esl::message& m) {
  esl::sendevent c{.name = "FUZZ", .body = m.body()};
  bool encodable = m.body().find('\0') == std::string_view::npos;
  for (const auto& h : m.headers()) {
    if (iequals(h.key, "Content-Length") || iequals(h.key, "Content-Type")) continue;  // body() writes them
    c.headers.push_back(h);
    encodable = encodable && h.value.find('\r') == std::string_view::npos;
  }
  std::string out;
  auto r = esl::encode(c, out);
  check(static_cast<bool>(r) == encodable);
  if (!r) {
    check(out.empty());
    return;
  }
  std::string_view rest = out;
  check(rest.starts_with("sendevent FUZZ\n"));
  rest.remove_prefix(15);
  if (c.headers.empty() && c.body.empty()) {
    check(rest == "\n");
    return;
  }
  esl::message_parser p({.max_headers = 100000});
  auto back = p.parse(rest);
  check(back && back->has_value() && (*back)->consumed == rest.size());
  const auto& b = (*back)->msg;
  check(b.body() == m.body());
  std::size_t extra = m.body().empty() ? 0 : 2;  // Content-Type and Content-Length
  check(b.headers().size() == c.headers.size() + extra);
  for (std::size_t i = 0; i < c.headers.size(); ++i) check(b.headers()[i] == c.headers[i]);
}

// Reads `in` as a connection would: appended to a buffer in pieces (all at
// once when `seed` is 0; the buffer moves after each piece otherwise).
outcome read(std::string_view in, esl::limits l, std::uint32_t seed, bool deep) {
  esl::message_parser p(l);
  esl::event_decoder d({.max_headers = 64});
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
      check((*r)->consumed > 0 && (*r)->consumed <= buf.size());
      check(m.headers().size() <= l.max_headers && m.body().size() <= l.max_body_bytes);
      check(inside(m.body(), buf));
      for (const auto& h : m.headers()) check(inside(h.key, buf) && inside(h.value, buf));
      stored s{m.type(), {}, std::string{m.body()}};
      for (const auto& h : m.headers()) s.headers.emplace_back(h.key, h.value);
      if (deep) {
        decode_events(m, d);
        round_trip(m);
        (void)m.ok();
      }
      out.messages.push_back(std::move(s));
      buf.erase(0, (*r)->consumed);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr esl::limits small{
      .max_header_bytes = 1024, .max_line_bytes = 128, .max_headers = 24, .max_body_bytes = 4096};
  for (esl::limits l : {esl::limits{}, small}) {
    outcome whole = read(in, l, 0, l.max_headers == small.max_headers);
    outcome pieces = read(in, l, static_cast<std::uint32_t>(size) | 1u, false);
    check(whole.error == pieces.error);
    check(whole.messages == pieces.messages);
  }
  // The input as an event body of each form.
  esl::event_decoder d({.max_headers = 64});
  if (auto e = d.decode_plain(in)) check(esl::owned_event{*e}.name() == e->name());
  if (auto e = d.decode_json(in)) check(esl::owned_event{*e}.name() == e->name());
  return 0;
}
