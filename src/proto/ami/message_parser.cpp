#include <costrix/proto/ami/message_parser.hpp>

#include "../printable.hpp"

#include <algorithm>
#include <cstring>

namespace costrix::proto::ami {

namespace {

constexpr std::string_view end_command = "--END COMMAND--";
constexpr std::string_view call_manager = "Call Manager";

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

// Where a `Key: Value` line's ':' is, or npos when the line is not one.
std::size_t key_colon(std::string_view line) noexcept {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_key(line.substr(0, colon))) return std::string_view::npos;
  return colon;
}

message_kind kind_of(std::string_view first_key) noexcept {
  if (iequals(first_key, "Response")) return message_kind::response;
  if (iequals(first_key, "Event")) return message_kind::event;
  if (iequals(first_key, "Action")) return message_kind::action;
  return message_kind::other;
}

}  // namespace

message_parser::message_parser(ami::limits l, first f)
    : limits_(l), first_(f), banner_pending_(f == first::banner) {}

void message_parser::reset() noexcept {
  banner_pending_ = first_ == first::banner;
  broken_.reset();
  start_message();
}

void message_parser::start_message() noexcept {
  scan_ = 0;
  slots_.clear();
  action_id_ = SIZE_MAX;
  section_ = section::headers;
  follows_ = false;
  has_body_ = false;
}

error message_parser::broken(errc c, std::string text) {
  broken_ = error{c, "AMI: " + std::move(text)};
  start_message();
  return *broken_;
}

// `line` starts at offset `line_at` of the caller's bytes; `colon` is where its ':' is.
result<void> message_parser::add(std::size_t line_at, std::string_view line, std::size_t colon) {
  if (slots_.size() >= limits_.max_headers)
    return fail(broken(errc::limit_exceeded,
                       "a message with more than " + std::to_string(limits_.max_headers) + " headers"));
  std::string_view key = line.substr(0, colon);
  std::size_t value_at = colon + 1;
  if (value_at < line.size() && line[value_at] == ' ') ++value_at;  // "Key: Value"; "Key:Value" has none
  slots_.push_back({line_at, key.size(), line_at + value_at, line.size() - value_at});

  if (slots_.size() == 1) {
    follows_ = kind_of(key) == message_kind::response && iequals(line.substr(value_at), "Follows");
  } else if (follows_ && section_ == section::headers && iequals(key, "Privilege")) {
    section_ = section::body_first;  // Asterisk < 14 writes the CLI output right after it (and ActionID)
  }
  if (action_id_ == SIZE_MAX && iequals(key, "ActionID")) action_id_ = slots_.size() - 1;
  return ok();
}

// One line of a `Response: Follows` body (a header with an empty key).
result<void> message_parser::add_body(std::size_t line_at, std::string_view line) {
  if (slots_.size() >= limits_.max_headers)
    return fail(broken(errc::limit_exceeded, "a message with more than " + std::to_string(limits_.max_headers) +
                                                 " headers and Command output lines"));
  slots_.push_back({line_at, 0, line_at, line.size()});
  has_body_ = true;
  return ok();
}

parsed message_parser::finish(std::string_view bytes) {
  headers_.resize(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const slot& s = slots_[i];
    headers_[i] = {s.key_size == 0 ? std::string_view{} : bytes.substr(s.key_at, s.key_size),
                   s.value_size == 0 ? std::string_view{} : bytes.substr(s.value_at, s.value_size)};
  }
  parsed p;
  p.consumed = scan_;
  p.msg.headers_ = headers_;
  p.msg.kind_ = kind_of(headers_.front().key);
  p.msg.action_id_ = action_id_;  // SIZE_MAX (message::none) when there is none
  p.msg.has_body_ = has_body_;
  start_message();
  return p;
}

parsed message_parser::banner(std::string_view line) {
  auto slash = line.find('/');
  parsed p;
  p.consumed = scan_;
  p.msg.kind_ = message_kind::banner;
  p.msg.banner_name_ = line.substr(0, slash);
  p.msg.version_ = line.substr(slash + 1);
  banner_pending_ = false;
  start_message();
  return p;
}

result<std::optional<parsed>> message_parser::parse(std::string_view bytes) {
  if (broken_) return fail(*broken_);
  if (bytes.size() < scan_) start_message();  // not the bytes of last time: read them afresh

  // A line may hold max_line_bytes plus "\r\n": its '\n' is looked for no further.
  const std::size_t max_line = limits_.max_line_bytes;
  const std::size_t line_cap = max_line + std::min<std::size_t>(2, SIZE_MAX - max_line);
  auto too_long_message = [&] {
    return fail(broken(errc::limit_exceeded,
                       "a message longer than " + std::to_string(limits_.max_message_bytes) + " bytes"));
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
      if (bytes.size() >= limits_.max_message_bytes) return too_long_message();
      return std::optional<parsed>{};  // need more bytes
    }
    const std::size_t next = static_cast<std::size_t>(nl - bytes.data()) + 1;
    if (next > limits_.max_message_bytes) return too_long_message();
    std::string_view line = bytes.substr(line_at, next - 1 - line_at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > max_line) return too_long_line(line);
    if (!line.empty() && std::memchr(line.data(), '\0', line.size()) != nullptr)
      return fail(broken(errc::protocol, "a NUL byte in line " + quoted(line)));
    scan_ = next;

    if (banner_pending_) {
      auto slash = line.find('/');
      if (slash == std::string_view::npos || slash + 1 == line.size() ||
          !line.substr(0, slash).ends_with(call_manager))
        return fail(broken(errc::protocol,
                           "expected the banner \"Asterisk Call Manager/<version>\", got " + quoted(line)));
      return std::optional<parsed>{banner(line)};
    }

    switch (section_) {
      case section::headers:
      case section::trailer: {
        if (line.empty()) {
          if (slots_.empty()) continue;  // an empty line between messages
          return std::optional<parsed>{finish(bytes)};
        }
        auto colon = key_colon(line);
        if (colon != std::string_view::npos) {
          if (auto r = add(line_at, line, colon); !r) return fail(std::move(r).error());
          continue;
        }
        if (follows_ && section_ == section::headers) {  // no Privilege header: the body starts here
          section_ = section::body;
          break;
        }
        return fail(broken(errc::protocol, "not a \"Key: Value\" line: " + quoted(line)));
      }
      case section::body_first: {
        section_ = section::body;
        auto colon = key_colon(line);
        if (colon != std::string_view::npos && iequals(line.substr(0, colon), "ActionID")) {
          if (auto r = add(line_at, line, colon); !r) return fail(std::move(r).error());
          continue;
        }
        break;
      }
      case section::body: break;
    }

    // A body line; the last one ends with "--END COMMAND--" (alone on its
    // line when the output ended with a line break, else after its last text).
    if (line.ends_with(end_command)) {
      line.remove_suffix(end_command.size());
      section_ = section::trailer;
      if (line.empty()) continue;
    }
    if (auto r = add_body(line_at, line); !r) return fail(std::move(r).error());
  }
}

}  // namespace costrix::proto::ami
