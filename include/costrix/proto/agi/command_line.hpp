// Writing AGI command lines the way Asterisk's parser reads them, and reading them back.
#pragma once

#include <costrix/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::proto::agi {

/// Appends one command line to `out`: words and arguments separated by single
/// spaces, then '\n'. Arguments are quoted when Asterisk's parser needs it
/// (empty, or holding a space, tab, '"' or '\\'), with '"' and '\\' escaped by a
/// backslash. A line break inside an argument would start a new command, so it
/// is refused, and so is a NUL byte (Asterisk reads the line as a C string):
/// `finish()` then returns `errc::invalid_argument` and `out` is left as it was.
class command_writer {
 public:
  explicit command_writer(std::string& out) : out_(out), start_(out.size()) {}

  command_writer& word(std::string_view w);                 ///< as is: command names, keywords; "" writes nothing
  command_writer& arg(std::string_view a);                  ///< quoted only when needed
  command_writer& quoted(std::string_view a);               ///< always quoted (escape digits)
  command_writer& number(std::int64_t n);
  command_writer& opt(const std::optional<std::int64_t>& n) { return n ? number(*n) : *this; }
  command_writer& opt_arg(std::string_view a) { return a.empty() ? *this : arg(a); }

  /// Marks the line as not encodable (for checks the writer cannot make itself,
  /// such as an empty raw line): `finish()` then fails.
  command_writer& reject() noexcept {
    bad_ = true;
    return *this;
  }

  /// Ends the line; the error of the first argument that could not be written, if any.
  result<void> finish();

 private:
  void separator();
  bool refuse(std::string_view a);
  std::string& out_;
  std::size_t start_;
  bool first_ = true;
  bool bad_ = false;
};

/// Splits a command line into arguments exactly as Asterisk's `parse_args`
/// (res_agi.c) does: whitespace separates, double quotes group, a backslash
/// makes the next character literal. Used by the Asterisk simulator and tests.
/// As in Asterisk: the line ends at a NUL byte, '\r' is an ordinary character,
/// and at most 127 arguments are kept (later words are dropped).
std::vector<std::string> split_command_line(std::string_view line);

}  // namespace costrix::proto::agi
