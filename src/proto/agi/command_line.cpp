#include <costrix/proto/agi/command_line.hpp>

#include <charconv>

namespace costrix::proto::agi {

namespace {
// Characters that make Asterisk's parse_args() read an argument differently
// from its bytes: separators, the quote and the escape character.
bool needs_quotes(std::string_view a) noexcept {
  return a.empty() || a.find_first_of(" \t\"\\") != std::string_view::npos;
}
}  // namespace

void command_writer::separator() {
  if (!first_) out_ += ' ';
  first_ = false;
}

// '\n' or '\r' would end the command early (Asterisk reads up to '\n' and the
// reader of a CRLF peer strips '\r'); NUL ends Asterisk's C string.
bool command_writer::refuse(std::string_view a) {
  if (a.find_first_of(std::string_view{"\n\r\0", 3}) == std::string_view::npos) return false;
  bad_ = true;
  return true;
}

command_writer& command_writer::word(std::string_view w) {
  if (w.empty() || refuse(w)) return *this;
  separator();
  out_ += w;
  return *this;
}

command_writer& command_writer::arg(std::string_view a) {
  if (needs_quotes(a)) return quoted(a);
  if (refuse(a)) return *this;
  separator();
  out_ += a;
  return *this;
}

command_writer& command_writer::quoted(std::string_view a) {
  if (refuse(a)) return *this;
  separator();
  out_ += '"';
  for (char c : a) {
    if (c == '"' || c == '\\') out_ += '\\';
    out_ += c;
  }
  out_ += '"';
  return *this;
}

command_writer& command_writer::number(std::int64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // 24 bytes hold any int64
  separator();
  out_.append(buf, end);
  return *this;
}

result<void> command_writer::finish() {
  if (bad_) {
    out_.resize(start_);
    return fail(errc::invalid_argument,
                "an AGI argument holds a line break or a NUL byte, which would end the command early");
  }
  out_ += '\n';
  return ok();
}

// A reimplementation of parse_args() in Asterisk's res_agi.c, state for state:
//  - outside quotes, unescaped ' ' and '\t' end the current argument;
//  - an unescaped '"' toggles quoting and, coming off whitespace, starts an
//    argument (so `""` is an empty argument and `a"b c"d` is one argument `ab cd`);
//  - '\\' makes the next character literal, inside quotes too; a trailing
//    lone '\\' is dropped;
//  - a word that would be argument 128 or later is dropped (MAX_ARGS is 128,
//    one slot is the terminator). Asterisk's quote branch lacks that check and
//    overruns its array; here a quote there starts nothing and its text is dropped.
std::vector<std::string> split_command_line(std::string_view line) {
  constexpr std::size_t max_args = 127;
  std::vector<std::string> args;
  bool quoted = false, escaped = false, whitespace = true, dropping = false;

  auto normal = [&](char c) {
    if (whitespace) {
      if (args.size() >= max_args) {
        dropping = true;  // as Asterisk: the character is lost, `escaped` is left as it was
        return;
      }
      args.emplace_back();
      whitespace = false;
      dropping = false;
    }
    if (!dropping) args.back() += c;
    escaped = false;
  };

  for (char c : line) {
    if (c == '\0') break;  // Asterisk reads a C string
    switch (c) {
      case '"':
        if (escaped) {
          normal(c);
          break;
        }
        quoted = !quoted;
        if (quoted && whitespace) {
          if (args.size() < max_args) {
            args.emplace_back();
            dropping = false;
          } else {
            dropping = true;
          }
          whitespace = false;
        }
        escaped = false;
        break;
      case ' ':
      case '\t':
        if (!quoted && !escaped)
          whitespace = true;
        else
          normal(c);
        break;
      case '\\':
        if (escaped)
          normal(c);
        else
          escaped = true;
        break;
      default:
        normal(c);
    }
  }
  return args;
}

}  // namespace costrix::proto::agi
