#include <costrix/proto/agi/environment.hpp>

#include "../printable.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace costrix::proto::agi {

namespace {

// The agi_* keys of the text lines, in environment::text_index order (every
// text but the decoded script).
constexpr std::array<std::string_view, 17> text_keys{
    "request", "channel", "language", "type", "uniqueid", "version", "callerid", "calleridname", "dnid",
    "rdnis", "context", "extension", "priority", "enhanced", "accountcode", "threadid", "network_script",
};

constexpr std::array<std::string_view, 4> int_keys{"callingpres", "callingani2", "callington", "callingtns"};

int to_int_or_zero(std::string_view s) noexcept {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && end == s.data() + s.size() ? v : 0;
}

bool is_key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "agi_arg_N": N as the next argument number expects it (decimal, no sign, no leading zero).
std::optional<std::size_t> arg_number(std::string_view name) noexcept {
  constexpr std::string_view prefix = "arg_";
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (name.empty() || name.front() == '0') return std::nullopt;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc{} || end != name.data() + name.size()) return std::nullopt;
  return n;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes that decode() writes for `s` (a valid %XX is one byte).
std::size_t decoded_size(std::string_view s) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i, ++n)
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) i += 2;
  return n;
}

// Writes the decoded `s` to `out` (decoded_size(s) bytes); returns the bytes written.
std::size_t decode(std::string_view s, bool plus_is_space, char* out) noexcept {
  char* at = out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        *at++ = static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    *at++ = (plus_is_space && c == '+') ? ' ' : c;
  }
  return static_cast<std::size_t>(at - out);
}

// The raw pieces of "path?k=v&k2": on_path(path), then on_param(key, value) for
// every non-empty piece of the query, in order.
template <class OnPath, class OnParam>
void walk_script(std::string_view network_script, OnPath on_path, OnParam on_param) {
  auto q = network_script.find('?');
  on_path(network_script.substr(0, q));
  if (q == std::string_view::npos) return;
  std::string_view rest = network_script.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    on_param(piece.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
  }
}

struct script_size {
  std::size_t bytes = 0;   // decoded path, keys and values
  std::size_t params = 0;  // query parameters
};

script_size measure_script(std::string_view network_script) noexcept {
  script_size n;
  walk_script(
      network_script, [&](std::string_view path) { n.bytes += decoded_size(path); },
      [&](std::string_view key, std::string_view value) {
        n.bytes += decoded_size(key) + decoded_size(value);
        ++n.params;
      });
  return n;
}

// split_script() without the size check: `out` holds measure_script().bytes;
// on_param(key, value) for every query parameter, in order.
template <class OnParam>
std::size_t split_into(std::string_view network_script, char* out, std::string_view& path, OnParam on_param) {
  char* at = out;
  auto take = [&](std::string_view raw, bool plus_is_space) {
    std::size_t n = decode(raw, plus_is_space, at);
    std::string_view v = n == 0 ? std::string_view{} : std::string_view{at, n};
    at += n;
    return v;
  };
  walk_script(
      network_script, [&](std::string_view raw) { path = take(raw, false); },
      [&](std::string_view raw_key, std::string_view raw_value) {
        std::string_view key = take(raw_key, true);
        on_param(key, take(raw_value, true));
      });
  return static_cast<std::size_t>(at - out);
}

using unknown_pair = std::pair<std::string_view, std::string_view>;
static_assert(std::is_trivially_destructible_v<std::string_view> && std::is_trivially_destructible_v<query_param> &&
                  std::is_trivially_destructible_v<unknown_pair>,
              "the block's arrays are freed with the block, never destroyed one by one");
static_assert(alignof(std::string_view) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__ &&
                  sizeof(std::string_view) % alignof(query_param) == 0 &&
                  sizeof(query_param) % alignof(unknown_pair) == 0,
              "every array of the block starts aligned");

// A view of the old block's text as the same bytes of the new one.
std::string_view rebase(std::string_view v, const char* from, char* to) noexcept {
  return v.empty() ? v : std::string_view{to + (v.data() - from), v.size()};
}

}  // namespace

environment::environment(const environment& other)
    : texts_(other.texts_),
      callingpres_(other.callingpres_),
      callingani2_(other.callingani2_),
      callington_(other.callington_),
      callingtns_(other.callingtns_),
      args_count_(other.args_count_),
      query_count_(other.query_count_),
      unknown_count_(other.unknown_count_),
      text_size_(other.text_size_),
      network_(other.network_) {
  const std::size_t size = other.block_size();
  if (size == 0) return;
  storage_.reset(new char[size]);
  char* to = storage_.get() + text_offset();
  const char* from = other.block() + other.text_offset();
  if (text_size_ != 0) std::memcpy(to, from, text_size_);
  // The arrays: the same views, into our text.
  char* at = storage_.get();
  for (std::string_view a : other.args()) {
    ::new (at) std::string_view(rebase(a, from, to));
    at += sizeof(std::string_view);
  }
  for (const query_param& p : other.query()) {
    ::new (at) query_param{rebase(p.key, from, to), rebase(p.value, from, to)};
    at += sizeof(query_param);
  }
  for (const auto& [k, v] : other.unknown()) {
    ::new (at) unknown_pair(rebase(k, from, to), rebase(v, from, to));
    at += sizeof(unknown_pair);
  }
  assert(at == to);
}

environment::environment(environment&& other) noexcept { swap_with(other); }

environment& environment::operator=(const environment& other) {
  if (this != &other) {
    environment copy(other);
    swap_with(copy);
  }
  return *this;
}

environment& environment::operator=(environment&& other) noexcept {
  if (this != &other) {
    environment taken(std::move(other));
    swap_with(taken);
  }
  return *this;
}

void environment::swap_with(environment& other) noexcept {
  using std::swap;
  swap(storage_, other.storage_);
  swap(texts_, other.texts_);
  swap(callingpres_, other.callingpres_);
  swap(callingani2_, other.callingani2_);
  swap(callington_, other.callington_);
  swap(callingtns_, other.callingtns_);
  swap(args_count_, other.args_count_);
  swap(query_count_, other.query_count_);
  swap(unknown_count_, other.unknown_count_);
  swap(text_size_, other.text_size_);
  swap(network_, other.network_);
}

std::optional<std::string_view> environment::param(std::string_view key) const {
  for (const auto& p : query())
    if (p.key == key) return p.value;
  return std::nullopt;
}

environment_parser::piece environment_parser::keep(std::string_view s) {
  constexpr std::size_t usual = 512;  // a usual block's values: one allocation
  if (text_.capacity() < usual) text_.reserve(usual);
  piece p{text_.size(), s.size()};
  text_.append(s);
  return p;
}

// The closing empty line: the arrays and every text go into one block of the exact size.
result<void> environment_parser::build() {
  static_assert(text_keys.size() == text_field_count);
  static_assert(text_keys[environment::i_network_script] == "network_script");
  environment& e = env_;
  const std::string_view text = text_;
  auto in_text = [&](piece p) { return text.substr(p.offset, p.size); };
  const std::string_view network_script = in_text(fields_[environment::i_network_script]);
  const script_size script = measure_script(network_script);

  std::size_t text_size = script.bytes;
  for (piece p : fields_) text_size += p.size;
  for (piece p : args_) text_size += p.size;
  for (const auto& [k, v] : unknown_) text_size += k.size + v.size;
  // Never with the byte limit capped at max_block_bytes; kept as the guard of the 16-bit offsets.
  constexpr std::size_t max_count = std::numeric_limits<std::uint16_t>::max();
  if (text_size > max_count || args_.size() > max_count || unknown_.size() > max_count || script.params > max_count)
    return fail(errc::limit_exceeded, "AGI environment: more than " + std::to_string(max_count) +
                                          " bytes of text, or items of a kind, for one environment");
  e.args_count_ = static_cast<std::uint16_t>(args_.size());
  e.query_count_ = static_cast<std::uint16_t>(script.params);
  e.unknown_count_ = static_cast<std::uint16_t>(unknown_.size());
  e.text_size_ = static_cast<std::uint16_t>(text_size);

  const std::size_t total = e.block_size();
  if (total != 0) e.storage_.reset(new char[total]);
  char* const base = e.storage_.get() + e.text_offset();  // the text part
  char* at = base;
  auto place = [&](piece p) {
    if (p.size == 0) return std::string_view{};
    std::memcpy(at, text.data() + p.offset, p.size);
    std::string_view v{at, p.size};
    at += p.size;
    return v;
  };
  auto slice_of = [&](std::string_view v) {
    return v.empty() ? environment::slice{}
                     : environment::slice{static_cast<std::uint16_t>(v.data() - base),
                                          static_cast<std::uint16_t>(v.size())};
  };
  for (std::size_t i = 0; i < text_field_count; ++i) e.texts_[i] = slice_of(place(fields_[i]));

  char* array = e.storage_.get();
  for (piece p : args_) {
    ::new (array) std::string_view(place(p));
    array += sizeof(std::string_view);
  }
  char* query = array;
  array += script.params * sizeof(query_param);
  for (const auto& [k, v] : unknown_) {
    std::string_view key = place(k);
    ::new (array) unknown_pair(key, place(v));
    array += sizeof(unknown_pair);
  }
  assert(array == base);
  if (!network_script.empty()) {
    std::string_view path;
    at += split_into(network_script, at, path, [&](std::string_view key, std::string_view value) {
      ::new (query) query_param{key, value};
      query += sizeof(query_param);
    });
    e.texts_[environment::i_script] = slice_of(path);
  }
  assert(query == e.storage_.get() + e.unknown_offset());
  assert(at == base + text_size);

  return ok();
}

void environment_parser::reset(environment_limits limits) {
  env_ = environment{};
  limits_ = limits;
  text_.clear();
  fields_ = {};
  args_.clear();
  unknown_.clear();
  bytes_ = 0;
  lines_ = 0;
  done_ = false;
}

result<bool> environment_parser::feed(std::string_view line) {
  if (done_) return fail(errc::protocol, "AGI environment: a line after the block's closing empty line");
  if (++lines_ > limits_.max_lines)
    return fail(errc::limit_exceeded, "AGI environment: more than " + std::to_string(limits_.max_lines) + " lines");
  bytes_ += line.size() + 1;
  if (bytes_ > std::min(limits_.max_bytes, environment_limits::max_block_bytes)) {
    if (limits_.max_bytes <= environment_limits::max_block_bytes)
      return fail(errc::limit_exceeded, "AGI environment: more than " + std::to_string(limits_.max_bytes) + " bytes");
    return fail(errc::limit_exceeded, "AGI environment: more than " +
                                          std::to_string(environment_limits::max_block_bytes) +
                                          " bytes, the most one environment holds");
  }
  if (line.ends_with('\r')) line.remove_suffix(1);

  if (line.empty()) {
    done_ = true;
    if (auto built = build(); !built) return fail(std::move(built).error());
    return true;
  }
  if (line.find('\0') != std::string_view::npos)
    return fail(errc::protocol, "AGI environment: NUL byte in line \"" + printable(line) + "\"");
  if (!line.starts_with("agi_"))
    return fail(errc::protocol, "AGI environment: line does not start with agi_: \"" + printable(line) + "\"");
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return fail(errc::protocol, "AGI environment: no ':' in line \"" + printable(line) + "\"");
  std::string_view key = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  std::string_view name = key.substr(4);
  if (name.empty())
    return fail(errc::protocol, "AGI environment: empty key in line \"" + printable(line) + "\"");
  for (char c : name)
    if (!is_key_char(c))
      return fail(errc::protocol, "AGI environment: bad character in key of line \"" + printable(line) + "\"");

  for (std::size_t i = 0; i < text_keys.size(); ++i)
    if (text_keys[i] == name) {
      fields_[i] = keep(value);  // a repeated key: the last one counts
      return false;
    }
  static constexpr std::array<int environment::*, int_keys.size()> int_members{
      &environment::callingpres_, &environment::callingani2_, &environment::callington_,
      &environment::callingtns_};
  for (std::size_t i = 0; i < int_keys.size(); ++i)
    if (int_keys[i] == name) {
      env_.*int_members[i] = to_int_or_zero(value);
      return false;
    }
  if (name == "network") {
    env_.network_ = value == "yes";
    return false;
  }
  if (auto n = arg_number(name); n && *n == args_.size() + 1) {
    args_.push_back(keep(value));
    return false;
  }
  piece kept_key = keep(key);
  unknown_.emplace_back(kept_key, keep(value));
  return false;
}

result<environment> parse_environment(std::string_view block, environment_limits limits) {
  environment_parser parser(limits);
  while (!block.empty()) {
    auto nl = block.find('\n');
    if (nl == std::string_view::npos)
      return fail(errc::protocol, "AGI environment: truncated, the last line has no line ending");
    auto done = parser.feed(block.substr(0, nl));
    if (!done) return fail(std::move(done).error());
    block.remove_prefix(nl + 1);
    if (*done) {
      if (!block.empty()) return fail(errc::protocol, "AGI environment: bytes after the block's closing empty line");
      return std::move(parser.get());
    }
  }
  return fail(errc::protocol, "AGI environment: truncated, no closing empty line");
}

std::size_t split_script(std::string_view network_script, std::span<char> out, std::string_view& path,
                         std::vector<query_param>& query) {
  if (out.size() < network_script.size() && out.size() < measure_script(network_script).bytes)
    throw std::length_error("split_script: the output is shorter than the decoded script");
  return split_into(network_script, out.data(), path,
                    [&](std::string_view key, std::string_view value) { query.push_back({key, value}); });
}

std::string url_decode(std::string_view s) {
  std::string out(decoded_size(s), '\0');
  decode(s, true, out.data());
  return out;
}

std::size_t url_decode(std::string_view s, std::span<char> out) {
  if (out.size() < s.size() && out.size() < decoded_size(s))
    throw std::length_error("url_decode: the output is shorter than the decoded bytes");
  return decode(s, true, out.data());
}

}  // namespace costrix::proto::agi
