#include <costrix/proto/ami/message.hpp>  // iequals
#include <costrix/proto/esl/message_parser.hpp>

#include "../printable.hpp"

#include <algorithm>
#include <cstring>

namespace costrix::proto::esl {

namespace {

using ami::iequals;

// A key is visible ASCII (or any byte >= 0x80): no space, tab, control
// character or DEL. The ':' cannot occur: the key ends at the first one.
bool is_key(std::string_view key) noexcept {
  if (key.empty()) return false;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

content_type type_of(std::string_view v) noexcept {
  struct known {
    std::string_view text;
    content_type type;
  };
  static constexpr known table[] = {
      {"auth/request", content_type::auth_request},
      {"command/reply", content_type::command_reply},
      {"api/response", content_type::api_response},
      {"text/event-plain", content_type::event_plain},
      {"text/event-json", content_type::event_json},
      {"text/event-xml", content_type::event_xml},
      {"text/disconnect-notice", content_type::disconnect_notice},
      {"text/rude-rejection", content_type::rude_rejection},
      {"log/data", content_type::log_data},
  };
  for (const known& k : table)
    if (iequals(v, k.text)) return k.type;
  return content_type::other;
}

// "123" -> 123; nullopt for anything but decimal digits, or a number past `max`.
std::optional<std::size_t> length_of(std::string_view v, std::size_t max, bool& too_big) noexcept {
  too_big = false;
  if (v.empty()) return std::nullopt;
  std::size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    if (!too_big) {
      n = n * 10 + static_cast<std::size_t>(c - '0');
      if (n > max) too_big = true;  // keep checking the digits: "99999x" is not a number
    }
  }
  return n;
}

}  // namespace

message_parser::message_parser(esl::limits l) : limits_(l) {}

void message_parser::reset() noexcept {
  broken_.reset();
  start_message();
}

void message_parser::start_message() noexcept {
  scan_ = 0;
  slots_.clear();
  body_size_.reset();
  in_body_ = false;
}

error message_parser::broken(errc c, std::string text) {
  broken_ = error{c, "ESL: " + std::move(text)};
  start_message();
  return *broken_;
}

// `line` starts at offset `line_at` of the caller's bytes; `colon` is where its ':' is.
result<void> message_parser::add(std::size_t line_at, std::string_view line, std::size_t colon) {
  if (slots_.size() >= limits_.max_headers)
    return fail(
        broken(errc::limit_exceeded, "a message with more than " + std::to_string(limits_.max_headers) + " headers"));
  std::string_view key = line.substr(0, colon);
  std::size_t value_at = colon + 1;
  while (value_at < line.size() && line[value_at] == ' ') ++value_at;
  std::string_view value = line.substr(value_at);
  if (iequals(key, "Content-Length")) {
    bool too_big = false;
    auto n = length_of(value, limits_.max_body_bytes, too_big);
    if (!n) return fail(broken(errc::protocol, "a Content-Length that is not a decimal number: " + quoted(line)));
    if (body_size_) return fail(broken(errc::protocol, "a second Content-Length header: " + quoted(line)));
    if (too_big)
      return fail(broken(errc::limit_exceeded,
                         "a body longer than " + std::to_string(limits_.max_body_bytes) + " bytes: " + quoted(line)));
    body_size_ = *n;
  }
  slots_.push_back({line_at, key.size(), line_at + value_at, value.size()});
  return ok();
}

parsed message_parser::finish(std::string_view bytes) {
  headers_.resize(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const slot& s = slots_[i];
    headers_[i] = {bytes.substr(s.key_at, s.key_size),
                   s.value_size == 0 ? std::string_view{} : bytes.substr(s.value_at, s.value_size)};
  }
  parsed p;
  p.msg.headers_ = headers_;
  p.msg.type_ = content_type::none;
  for (const header& h : headers_)
    if (iequals(h.key, "Content-Type")) {
      p.msg.type_ = type_of(h.value);
      break;
    }
  std::size_t body = body_size_.value_or(0);
  if (body != 0) p.msg.body_ = bytes.substr(scan_, body);
  p.consumed = scan_ + body;
  start_message();
  return p;
}

result<std::optional<parsed>> message_parser::parse(std::string_view bytes) {
  if (broken_) return fail(*broken_);
  if (bytes.size() < scan_) start_message();  // not the bytes of last time: read them afresh

  if (in_body_) {
    if (bytes.size() - scan_ < *body_size_) return std::optional<parsed>{};
    return std::optional<parsed>{finish(bytes)};
  }

  // A line may hold max_line_bytes plus "\r\n": its '\n' is looked for no further.
  const std::size_t max_line = limits_.max_line_bytes;
  const std::size_t line_cap = max_line + std::min<std::size_t>(2, SIZE_MAX - max_line);
  auto too_long_block = [&] {
    return fail(broken(errc::limit_exceeded,
                       "a header block longer than " + std::to_string(limits_.max_header_bytes) + " bytes"));
  };
  auto too_long_line = [&](std::string_view start) {
    return fail(broken(errc::limit_exceeded,
                       "a line longer than " + std::to_string(max_line) + " bytes: " + quoted(start.substr(0, 40))));
  };

  for (;;) {
    const std::size_t line_at = scan_;
    const std::size_t available = bytes.size() - line_at;
    const std::size_t window = std::min(available, line_cap);
    const char* nl =
        window == 0 ? nullptr : static_cast<const char*>(std::memchr(bytes.data() + line_at, '\n', window));
    if (nl == nullptr) {
      if (available >= line_cap) return too_long_line(bytes.substr(line_at));
      if (bytes.size() >= limits_.max_header_bytes) return too_long_block();
      return std::optional<parsed>{};  // need more bytes
    }
    const std::size_t next = static_cast<std::size_t>(nl - bytes.data()) + 1;
    if (next > limits_.max_header_bytes) return too_long_block();
    std::string_view line = bytes.substr(line_at, next - 1 - line_at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > max_line) return too_long_line(line);
    if (!line.empty() && std::memchr(line.data(), '\0', line.size()) != nullptr)
      return fail(broken(errc::protocol, "a NUL byte in header line " + quoted(line)));
    scan_ = next;

    if (line.empty()) {
      if (slots_.empty()) continue;  // an empty line between messages
      if (body_size_.value_or(0) == 0 || bytes.size() - scan_ >= *body_size_)
        return std::optional<parsed>{finish(bytes)};
      in_body_ = true;
      return std::optional<parsed>{};  // the body has not all arrived
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_key(line.substr(0, colon)))
      return fail(broken(errc::protocol, "not a \"Key: Value\" header line: " + quoted(line)));
    if (auto r = add(line_at, line, colon); !r) return fail(std::move(r).error());
  }
}

}  // namespace costrix::proto::esl
