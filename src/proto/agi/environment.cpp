#include <costrix/proto/agi/environment.hpp>

#include "../printable.hpp"

#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace costrix::proto::agi {

namespace {

struct text_field {
  std::string_view key;
  std::string_view environment::*member;
};
struct int_field {
  std::string_view key;
  int environment::*member;
};

constexpr std::array text_fields{
    text_field{"request", &environment::request},
    text_field{"channel", &environment::channel},
    text_field{"language", &environment::language},
    text_field{"type", &environment::type},
    text_field{"uniqueid", &environment::uniqueid},
    text_field{"version", &environment::version},
    text_field{"callerid", &environment::callerid},
    text_field{"calleridname", &environment::calleridname},
    text_field{"dnid", &environment::dnid},
    text_field{"rdnis", &environment::rdnis},
    text_field{"context", &environment::context},
    text_field{"extension", &environment::extension},
    text_field{"priority", &environment::priority},
    text_field{"enhanced", &environment::enhanced},
    text_field{"accountcode", &environment::accountcode},
    text_field{"threadid", &environment::threadid},
    text_field{"network_script", &environment::network_script},
};
constexpr std::size_t network_script_field = text_fields.size() - 1;
static_assert(text_fields[network_script_field].key == "network_script");

// Every view member: what a copy rebases and a move hands over.
constexpr auto view_members = [] {
  std::array<std::string_view environment::*, text_fields.size() + 1> all{};
  for (std::size_t i = 0; i < text_fields.size(); ++i) all[i] = text_fields[i].member;
  all.back() = &environment::script;
  return all;
}();

constexpr std::array int_fields{
    int_field{"callingpres", &environment::callingpres},
    int_field{"callingani2", &environment::callingani2},
    int_field{"callington", &environment::callington},
    int_field{"callingtns", &environment::callingtns},
};

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

// split_script() without the size check: `out` holds measure_script().bytes.
std::size_t split_into(std::string_view network_script, char* out, std::string_view& path,
                       std::vector<query_param>& query) {
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
        query.push_back({key, take(raw_value, true)});
      });
  return static_cast<std::size_t>(at - out);
}

}  // namespace

environment::environment(const environment& other)
    : callingpres(other.callingpres),
      callingani2(other.callingani2),
      callington(other.callington),
      callingtns(other.callingtns),
      network(other.network),
      query(other.query),  // a vector's copy allocates exactly its size
      args(other.args),
      unknown(other.unknown) {
  for (auto m : view_members) this->*m = other.*m;
  if (other.storage_size_ == 0) return;
  storage_.reset(new char[other.storage_size_]);
  storage_size_ = other.storage_size_;
  std::memcpy(storage_.get(), other.storage_.get(), storage_size_);
  // Every view into the other's block now points to the same bytes of ours.
  const char* from = other.storage_.get();
  const char* from_end = from + storage_size_;
  auto rebase = [&](std::string_view& v) {
    std::less<const char*> before;
    if (before(v.data(), from) || before(from_end, v.data() + v.size())) return;  // not ours: kept as is
    v = std::string_view{storage_.get() + (v.data() - from), v.size()};
  };
  for (auto m : view_members) rebase(this->*m);
  for (auto& p : query) {
    rebase(p.key);
    rebase(p.value);
  }
  for (auto& a : args) rebase(a);
  for (auto& [k, v] : unknown) {
    rebase(k);
    rebase(v);
  }
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
  for (auto m : view_members) swap(this->*m, other.*m);
  for (const auto& f : int_fields) swap(this->*f.member, other.*f.member);
  swap(network, other.network);
  query.swap(other.query);
  args.swap(other.args);
  unknown.swap(other.unknown);
  storage_.swap(other.storage_);
  swap(storage_size_, other.storage_size_);
}

std::optional<std::string_view> environment::param(std::string_view key) const {
  for (const auto& p : query)
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

// The closing empty line: every text goes into one block of the exact size.
void environment_parser::build() {
  static_assert(text_fields.size() == text_field_count);
  environment& e = env_;
  const std::string_view text = text_;
  auto in_text = [&](piece p) { return text.substr(p.offset, p.size); };
  const std::string_view network_script = in_text(fields_[network_script_field]);
  const script_size script = measure_script(network_script);

  std::size_t total = script.bytes;
  for (piece p : fields_) total += p.size;
  for (piece p : args_) total += p.size;
  for (const auto& [k, v] : unknown_) total += k.size + v.size;
  if (total != 0) {
    e.storage_.reset(new char[total]);
    e.storage_size_ = total;
  }
  char* at = e.storage_.get();
  auto place = [&](piece p) {
    if (p.size == 0) return std::string_view{};
    std::memcpy(at, text.data() + p.offset, p.size);
    std::string_view v{at, p.size};
    at += p.size;
    return v;
  };
  for (std::size_t i = 0; i < text_fields.size(); ++i) e.*text_fields[i].member = place(fields_[i]);
  if (!args_.empty()) {
    e.args.reserve(args_.size());
    for (piece p : args_) e.args.push_back(place(p));
  }
  if (!unknown_.empty()) {
    e.unknown.reserve(unknown_.size());
    for (const auto& [k, v] : unknown_) {
      std::string_view key = place(k);
      e.unknown.emplace_back(key, place(v));
    }
  }
  if (script.params != 0) e.query.reserve(script.params);
  if (!network_script.empty()) at += split_into(network_script, at, e.script, e.query);
  assert(at == e.storage_.get() + total);

  // The parser is done: its own buffers go.
  text_ = std::string{};
  args_ = std::vector<piece>{};
  unknown_ = std::vector<std::pair<piece, piece>>{};
}

result<bool> environment_parser::feed(std::string_view line) {
  if (done_) return fail(errc::protocol, "AGI environment: a line after the block's closing empty line");
  if (++lines_ > limits_.max_lines)
    return fail(errc::limit_exceeded, "AGI environment: more than " + std::to_string(limits_.max_lines) + " lines");
  bytes_ += line.size() + 1;
  if (bytes_ > limits_.max_bytes)
    return fail(errc::limit_exceeded, "AGI environment: more than " + std::to_string(limits_.max_bytes) + " bytes");
  if (line.ends_with('\r')) line.remove_suffix(1);

  if (line.empty()) {
    done_ = true;
    build();
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

  for (std::size_t i = 0; i < text_fields.size(); ++i)
    if (text_fields[i].key == name) {
      fields_[i] = keep(value);  // a repeated key: the last one counts
      return false;
    }
  for (const auto& f : int_fields)
    if (f.key == name) {
      env_.*f.member = to_int_or_zero(value);
      return false;
    }
  if (name == "network") {
    env_.network = value == "yes";
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
  return split_into(network_script, out.data(), path, query);
}

std::string url_decode(std::string_view s) {
  std::string out(decoded_size(s), '\0');
  decode(s, true, out.data());
  return out;
}

}  // namespace costrix::proto::agi
