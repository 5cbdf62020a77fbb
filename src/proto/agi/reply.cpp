#include <costrix/proto/agi/reply.hpp>

#include "../printable.hpp"

#include <charconv>

namespace costrix::proto::agi {

namespace {

constexpr std::string_view result_key = "result=";
constexpr std::string_view endpos_key = "endpos=";

std::optional<std::int64_t> to_int64(std::string_view s) noexcept {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Where the data's closing ')' is in `rest` (which starts with '('), or npos.
std::size_t data_end(std::string_view rest) noexcept {
  if (rest.size() >= 2 && rest.back() == ')') return rest.size() - 1;
  // "(timeout) endpos=0": the ')' right before a final " endpos=N"
  if (auto k = rest.rfind(") endpos="); k != std::string_view::npos && k > 0 &&
      to_int64(rest.substr(k + 2 + endpos_key.size())))
    return k;
  int depth = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '(') ++depth;
    if (rest[i] == ')' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// Takes an "endpos=N" word off the front or the back of `rest`.
void take_endpos(std::string_view& rest, reply& r) noexcept {
  if (rest.starts_with(endpos_key)) {
    auto sp = rest.find(' ');
    if (auto n = to_int64(rest.substr(endpos_key.size(), sp == std::string_view::npos ? sp : sp - endpos_key.size()))) {
      r.endpos = n;
      rest = sp == std::string_view::npos ? std::string_view{} : trim(rest.substr(sp));
      return;
    }
  }
  auto sp = rest.rfind(' ');
  std::string_view last = sp == std::string_view::npos ? rest : rest.substr(sp + 1);
  if (last.starts_with(endpos_key)) {
    if (auto n = to_int64(last.substr(endpos_key.size()))) {
      r.endpos = n;
      rest = sp == std::string_view::npos ? std::string_view{} : trim(rest.substr(0, sp));
    }
  }
}

// `text` is what follows "NNN " and starts with "result=".
result<void> parse_result(std::string_view text, reply& r) {
  text.remove_prefix(result_key.size());
  auto sp = text.find(' ');
  r.result = text.substr(0, sp);
  if (sp == std::string_view::npos) return ok();
  std::string_view rest = trim(text.substr(sp));
  if (rest.starts_with('(')) {
    auto close = data_end(rest);
    if (close == std::string_view::npos)
      return fail(errc::protocol, "AGI reply: unterminated '(' in \"" + printable(text) + "\"");
    r.data = rest.substr(1, close - 1);
    rest = trim(rest.substr(close + 1));
  }
  take_endpos(rest, r);
  r.extra = rest;
  return ok();
}

}  // namespace

std::optional<std::int64_t> reply::number() const noexcept { return to_int64(result); }

void reply_parser::reset() noexcept {
  reply_ = reply{};  // usage text is rare (520): its memory is not kept
  in_usage_ = false;
  done_ = false;
}

result<bool> reply_parser::feed(std::string_view line) {
  if (done_) reset();
  if (line.ends_with('\r')) line.remove_suffix(1);

  if (in_usage_) {
    if (line == "520" || line.starts_with("520 ")) {
      reply_.extra = line.substr(line.size() > 4 ? 4 : line.size());
      in_usage_ = false;
      done_ = true;
      return true;
    }
    std::size_t grown = reply_.usage.size() + (reply_.usage.empty() ? 0 : 1) + line.size();
    if (grown > max_usage_)
      return fail(errc::limit_exceeded,
                  "AGI reply: 520 usage text over " + std::to_string(max_usage_) + " bytes");
    if (!reply_.usage.empty()) reply_.usage += '\n';
    reply_.usage += line;
    return false;
  }

  if (line.empty()) return fail(errc::protocol, "AGI reply: empty line where a reply was expected");
  if (line.find('\0') != std::string_view::npos)
    return fail(errc::protocol, "AGI reply: NUL byte in \"" + printable(line) + "\"");
  if (line == "HANGUP") {
    reply_.hangup = true;
    return false;
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) ||
      (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
    return fail(errc::protocol, "AGI reply: not a reply line: \"" + printable(line) + "\"");
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  char sep = line.size() > 3 ? line[3] : ' ';
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};

  if (sep == '-') {
    if (code != 520) return fail(errc::protocol, "AGI reply: continuation line for code " + std::to_string(code));
    reply_.code = 520;
    in_usage_ = true;
    return false;
  }
  if (code == 100) return false;  // GOSUB's "100 result=0 Trying...": the 200 follows

  reply_.code = code;
  if (text.starts_with(result_key)) {
    if (auto r = parse_result(text, reply_); !r) return fail(std::move(r).error());
  } else if (code == 200) {
    return fail(errc::protocol, "AGI reply: 200 without result=: \"" + printable(line) + "\"");
  } else {
    reply_.extra = text;
  }
  done_ = true;
  return true;
}

result<reply> parse_reply_line(std::string_view line) {
  reply_parser p;
  auto done = p.feed(line);
  if (!done) return fail(std::move(done).error());
  if (!*done) return fail(errc::protocol, "AGI reply: \"" + printable(line) + "\" is not a complete reply on its own");
  return p.get();
}

result<void> check(const reply& r) {
  if (r.hangup) return fail(errc::hangup, "Asterisk sent HANGUP: the channel has hung up");
  switch (r.code) {
    case 200: return ok();
    case 510: return fail(errc::invalid_command, std::string{r.extra});
    case 511: return fail(errc::dead_channel, std::string{r.extra});
    case 520: return fail(errc::usage, r.usage.empty() ? std::string{r.extra} : r.usage);
    case 503: return fail(errc::failed, std::string{r.extra});
    default: return fail(errc::protocol, "AGI reply: unexpected code " + std::to_string(r.code));
  }
}

}  // namespace costrix::proto::agi
