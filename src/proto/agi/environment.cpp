#include <costrix/proto/agi/environment.hpp>

#include "../printable.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <string>

namespace costrix::proto::agi {

namespace {

struct text_field {
  std::string_view key;
  std::string environment::*member;
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

std::string decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

}  // namespace

std::optional<std::string_view> environment::param(std::string_view key) const {
  for (const auto& p : query)
    if (p.key == key) return std::string_view{p.value};
  return std::nullopt;
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
    if (!env_.network_script.empty()) split_script(env_.network_script, env_.script, env_.query);
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

  for (const auto& f : text_fields)
    if (f.key == name) {
      env_.*f.member = value;
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
  if (auto n = arg_number(name); n && *n == env_.args.size() + 1) {
    env_.args.emplace_back(value);
    return false;
  }
  env_.unknown.emplace_back(std::string{key}, std::string{value});
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

void split_script(std::string_view network_script, std::string& path, std::vector<query_param>& query) {
  auto q = network_script.find('?');
  path = decode(network_script.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = network_script.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    query.push_back({decode(piece.substr(0, eq), true),
                     eq == std::string_view::npos ? std::string{} : decode(piece.substr(eq + 1), true)});
  }
}

std::string url_decode(std::string_view s) { return decode(s, true); }

}  // namespace costrix::proto::agi
