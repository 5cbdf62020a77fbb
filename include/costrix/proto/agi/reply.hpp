// proto::agi::reply: one reply to one AGI command, parsed line by line.
#pragma once

#include <costrix/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace costrix::proto::agi {

/// A reply as Asterisk wrote it. Views point into the last line fed to the
/// parser and are valid as long as that line is.
///
///   200 result=1 (value) endpos=1234     code=200 result="1" data="value" endpos=1234
///   200 result= (timeout)                result="" data="timeout"
///   200 result=0 Gosub complete          result="0" extra="Gosub complete"
///   510 Invalid or unknown command       code=510 extra="Invalid or unknown command"
///   520-...usage...\n520 End of proper usage.   code=520 usage="...usage..."
///
/// The parenthesised data runs from the '(' right after the result to: the
/// line's last ')' when the line ends with ')' (so a value may hold any
/// parentheses: "200 result=1 (a (b) c)" and "(a)b)" are read whole); else the
/// ')' just before a final " endpos=N"; else the matching ')'. An endpos=N that
/// is the first or last word after the data is taken out of `extra`:
///   200 result=1 (speech) endpos=0 results=1 score0=...   extra="results=1 score0=..."
///   200 result=1 (digit) digit=5 endpos=0                 extra="digit=5"
struct reply {
  int code = 0;                        ///< 200, 510, 511, 520
  std::string_view result;             ///< text after "result=" up to the next space
  std::optional<std::string_view> data;  ///< inside the parentheses, if there were any
  std::optional<std::int64_t> endpos;  ///< "endpos=N", if present
  std::string_view extra;              ///< any other text after the result
  std::string usage;                   ///< 520: the lines between "520-Invalid command syntax.
                                       ///< Proper usage follows:" and "520 End of proper usage.",
                                       ///< joined with '\n' (neither of those two lines is kept)
  bool hangup = false;                 ///< a `HANGUP` line came before this reply

  /// result as a number; std::nullopt when empty or not a number.
  std::optional<std::int64_t> number() const noexcept;
};

/// Parses one reply from the lines that follow a command: skips `100 ...` lines
/// (GOSUB's "100 result=0 Trying..."), notes `HANGUP` lines, gathers `520-`
/// continuation lines until the closing `520 ` line.
class reply_parser {
 public:
  static constexpr std::size_t default_max_usage = 16 * 1024;
  explicit reply_parser(std::size_t max_usage = default_max_usage) : max_usage_(max_usage) {}

  /// true once the reply is complete (then `get()`); an error for a line that is
  /// not a reply (`errc::protocol`) or usage text over the limit
  /// (`errc::limit_exceeded`). A trailing '\r' is ignored. After an error, call
  /// `reset()`; after a complete reply, the next `feed` starts a new one.
  result<bool> feed(std::string_view line);

  const reply& get() const noexcept { return reply_; }
  /// Ready for the next reply; frees a usage text's memory.
  void reset() noexcept;

 private:
  reply reply_;
  std::size_t max_usage_;
  bool in_usage_ = false;
  bool done_ = false;
};

/// Parses a single complete reply line (tests, tools).
result<reply> parse_reply_line(std::string_view line);

/// The common meaning of a reply's code: success for 200, otherwise
/// invalid_command (510), dead_channel (511), usage (520, with the usage text,
/// or the line's own text when Asterisk has no usage), failed (503, GOSUB's
/// "503 result=-2 Memory allocation failure"), protocol (anything else).
/// A reply preceded by `HANGUP` is `errc::hangup`.
result<void> check(const reply& r);

}  // namespace costrix::proto::agi
