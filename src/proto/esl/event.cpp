#include <costrix/proto/agi/environment.hpp>  // url_decode: one decoder for AGI, AMI and ESL
#include <costrix/proto/ami/message.hpp>      // iequals
#include <costrix/proto/esl/event.hpp>

#include "../printable.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstring>
#include <new>

namespace costrix::proto::esl {

namespace {

using ami::iequals;

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Where the first '%' not followed by two hex digits is, or npos.
std::size_t bad_escape(std::string_view v) noexcept {
  for (std::size_t i = v.find('%'); i != std::string_view::npos; i = v.find('%', i + 1)) {
    if (i + 2 >= v.size() || !is_hex(v[i + 1]) || !is_hex(v[i + 2])) return i;
    i += 2;
  }
  return std::string_view::npos;
}

bool is_key(std::string_view key) noexcept {
  if (key.empty()) return false;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::optional<std::size_t> decimal(std::string_view v) noexcept {
  if (v.empty() || v.size() > 18) return std::nullopt;  // 18 digits cannot overflow
  std::size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

}  // namespace

std::optional<std::string_view> event::get(std::string_view key) const noexcept {
  for (const header& h : headers_)
    if (iequals(h.key, key)) return h.value;
  return std::nullopt;
}

result<void> event_decoder::add(std::string_view key, std::string_view value, bool url_encoded) {
  if (slots_.size() >= limits_.max_headers)
    return fail(errc::limit_exceeded, "ESL event: more than " + std::to_string(limits_.max_headers) + " headers");
  slot s{text_.size(), key.size(), 0, 0};
  text_ += key;
  s.value_at = text_.size();
  if (url_encoded) {
    if (auto at = bad_escape(value); at != std::string_view::npos)
      return fail(errc::protocol, "ESL event: a '%' not followed by two hex digits in the value of " + quoted(key) +
                                      ": " + quoted(value.substr(at, 12)));
    text_.resize(s.value_at + value.size());
    s.value_size = agi::url_decode(value, {text_.data() + s.value_at, value.size()});
    text_.resize(s.value_at + s.value_size);
  } else {
    text_ += value;
    s.value_size = value.size();
  }
  slots_.push_back(s);
  return ok();
}

// Views over text_, made once it no longer grows.
result<event> event_decoder::finish() {
  headers_.resize(slots_.size());
  std::string_view text = text_;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    headers_[i] = {text.substr(slots_[i].key_at, slots_[i].key_size),
                   text.substr(slots_[i].value_at, slots_[i].value_size)};
  event e;
  e.headers_ = headers_;
  e.body_ = body_size_ == 0 ? std::string_view{} : text.substr(body_at_, body_size_);
  auto name = e.get("Event-Name");
  if (!name || name->empty()) return fail(errc::protocol, "ESL event: no Event-Name header");
  e.name_ = *name;
  e.subclass_ = e.get("Event-Subclass").value_or(std::string_view{});
  return e;
}

result<event> event_decoder::decode_plain(std::string_view body) {
  text_.clear();
  slots_.clear();
  body_at_ = body_size_ = 0;
  text_.reserve(body.size());  // decoding never lengthens: text_ holds it all without growing again

  std::optional<std::size_t> length;
  std::size_t at = 0;
  for (;;) {
    auto nl = body.find('\n', at);
    if (nl == std::string_view::npos)
      return fail(errc::protocol, "ESL event: the headers are not ended by an empty line: " + quoted(body.substr(at)));
    std::string_view line = body.substr(at, nl - at);
    at = nl + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) break;
    if (std::memchr(line.data(), '\0', line.size()) != nullptr)
      return fail(errc::protocol, "ESL event: a NUL byte in header line " + quoted(line));
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_key(line.substr(0, colon)))
      return fail(errc::protocol, "ESL event: not a \"Key: Value\" header line: " + quoted(line));
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    if (iequals(key, "Content-Length")) {
      length = decimal(value);
      if (!length)
        return fail(errc::protocol, "ESL event: a Content-Length that is not a decimal number: " + quoted(line));
    }
    if (auto r = add(key, value, true); !r) return fail(std::move(r).error());
  }

  std::string_view rest = body.substr(at);
  if (length.value_or(0) != rest.size())
    return fail(errc::protocol, "ESL event: its Content-Length is " + std::to_string(length.value_or(0)) + " but " +
                                    std::to_string(rest.size()) + " bytes follow its headers");
  body_at_ = text_.size();
  body_size_ = rest.size();
  text_ += rest;
  return finish();
}

result<event> event_decoder::decode_json(std::string_view body) {
  text_.clear();
  slots_.clear();
  body_at_ = body_size_ = 0;

  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(body, ec);
  if (ec) return fail(errc::protocol, "ESL event: the text/event-json body is not JSON: " + ec.message());
  const boost::json::object* obj = doc.if_object();
  if (obj == nullptr) return fail(errc::protocol, "ESL event: the text/event-json body is not a JSON object");

  std::string scratch;
  auto text_of = [&](const boost::json::value& v) -> std::string_view {
    if (const auto* s = v.if_string()) return *s;
    scratch = boost::json::serialize(v);  // a number, true/false, null: as written
    return scratch;
  };
  bool has_body = false;
  for (const auto& member : *obj) {
    std::string_view key = member.key();
    if (key == "_body") {
      has_body = true;
      continue;
    }
    if (!is_key(key))
      return fail(errc::protocol, "ESL event: a JSON member name that is not a header key: " + quoted(key));
    if (const auto* array = member.value().if_array()) {  // a header with several values
      for (const auto& v : *array)
        if (auto r = add(key, text_of(v), false); !r) return fail(std::move(r).error());
    } else if (auto r = add(key, text_of(member.value()), false); !r) {
      return fail(std::move(r).error());
    }
  }
  if (has_body) {
    std::string_view b = text_of(obj->at("_body"));
    body_at_ = text_.size();
    body_size_ = b.size();
    text_ += b;
  }
  return finish();
}

result<event> event_decoder::decode(const message& m) {
  switch (m.type()) {
    case content_type::event_plain:
      return decode_plain(m.body());
    case content_type::event_json:
      return decode_json(m.body());
    default:
      break;
  }
  if (!m.has_event_headers())
    return fail(errc::invalid_argument, "ESL event: the message is neither an event nor carries event headers");
  text_.clear();
  slots_.clear();
  body_at_ = body_size_ = 0;
  for (const header& h : m.headers())
    if (auto r = add(h.key, h.value, true); !r) return fail(std::move(r).error());
  body_at_ = text_.size();
  body_size_ = m.body().size();
  text_ += m.body();
  return finish();
}

// The block: the header array, then every key and value and the body.
owned_event::owned_event(const event& e) : event(e) {
  std::size_t text = body_.size();
  for (const header& h : e.headers()) text += h.key.size() + h.value.size();
  const std::size_t array = e.headers().size() * sizeof(header);
  if (array + text == 0) {
    static_cast<event&>(*this) = event{};
    return;
  }
  block_.reset(new std::byte[array + text]);
  header* out = new (block_.get()) header[e.headers().size()];
  char* at = reinterpret_cast<char*>(block_.get() + array);
  auto place = [&](std::string_view v) {
    if (v.empty()) return std::string_view{};
    std::memcpy(at, v.data(), v.size());
    std::string_view copy{at, v.size()};
    at += v.size();
    return copy;
  };
  for (std::size_t i = 0; i < e.headers().size(); ++i) {
    std::string_view key = place(e.headers()[i].key);
    out[i] = header{key, place(e.headers()[i].value)};
  }
  headers_ = {out, e.headers().size()};
  body_ = place(body_);
  // name and subclass are values of headers: point them into the copy.
  auto rebase = [&](std::string_view v) {
    for (std::size_t i = 0; i < e.headers().size(); ++i)
      if (e.headers()[i].value.data() == v.data() && !v.empty()) return out[i].value;
    return std::string_view{};
  };
  name_ = rebase(e.name_);
  subclass_ = rebase(e.subclass_);
}

owned_event::owned_event(owned_event&& other) noexcept : event(other), block_(std::move(other.block_)) {
  static_cast<event&>(other) = event{};
}

owned_event& owned_event::operator=(const owned_event& other) {
  if (this != &other) *this = owned_event(other);
  return *this;
}

owned_event& owned_event::operator=(owned_event&& other) noexcept {
  if (this != &other) {
    static_cast<event&>(*this) = other;
    block_ = std::move(other.block_);
    static_cast<event&>(other) = event{};
  }
  return *this;
}

}  // namespace costrix::proto::esl
