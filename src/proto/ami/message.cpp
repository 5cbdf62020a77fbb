#include <costrix/proto/ami/message.hpp>
#include <costrix/proto/ami/url_decode.hpp>
#include <costrix/proto/agi/environment.hpp>

#include <cstring>
#include <new>

namespace costrix::proto::ami {

namespace {
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view message::name() const noexcept {
  switch (kind_) {
    case message_kind::banner: return banner_name_;
    case message_kind::response:
    case message_kind::event:
    case message_kind::action: return headers_.empty() ? std::string_view{} : headers_.front().value;
    case message_kind::other: break;
  }
  return {};
}

std::optional<std::string_view> message::get(std::string_view key) const noexcept {
  for (const header& h : headers_)
    if (iequals(h.key, key)) return h.value;
  return std::nullopt;
}

// The block: the header array, then every key and value (and a banner's name
// and version) one after the other.
owned_message::owned_message(const message& m) : message(m) {
  std::size_t text = banner_name_.size() + version_.size();
  for (const header& h : m.headers()) text += h.key.size() + h.value.size();
  const std::size_t array = m.headers().size() * sizeof(header);
  size_ = array + text;
  if (size_ == 0) {
    headers_ = {};
    banner_name_ = version_ = {};
    return;
  }
  block_.reset(new std::byte[size_]);  // new[] of bytes is aligned for any type of that size
  // An array of headers in the front of the block (placement new[] of a
  // trivially destructible type adds no overhead).
  header* out = new (block_.get()) header[m.headers().size()];
  char* at = reinterpret_cast<char*>(block_.get() + array);
  auto place = [&](std::string_view v) {
    if (v.empty()) return std::string_view{};
    std::memcpy(at, v.data(), v.size());
    std::string_view copy{at, v.size()};
    at += v.size();
    return copy;
  };
  for (std::size_t i = 0; i < m.headers().size(); ++i) {
    std::string_view key = place(m.headers()[i].key);
    out[i] = header{key, place(m.headers()[i].value)};
  }
  headers_ = {out, m.headers().size()};
  banner_name_ = place(banner_name_);
  version_ = place(version_);
}

owned_message::owned_message(owned_message&& other) noexcept
    : message(other), block_(std::move(other.block_)), size_(other.size_) {
  static_cast<message&>(other) = message{};
  other.size_ = 0;
}

owned_message& owned_message::operator=(const owned_message& other) {
  if (this != &other) *this = owned_message(other);
  return *this;
}

owned_message& owned_message::operator=(owned_message&& other) noexcept {
  if (this != &other) {
    static_cast<message&>(*this) = other;
    block_ = std::move(other.block_);
    size_ = other.size_;
    static_cast<message&>(other) = message{};
    other.size_ = 0;
  }
  return *this;
}

std::string url_decode(std::string_view s) { return agi::url_decode(s); }

}  // namespace costrix::proto::ami
