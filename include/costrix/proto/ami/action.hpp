// proto::ami::action: an AMI action as data, and writing it as Asterisk reads it.
#pragma once

#include <costrix/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::proto::ami {

/// An action: its name and its headers in order. A key may repeat
/// (`Variable: a=1`, `Variable: b=2`). The ActionID is not one of the headers:
/// `encode()` adds it, so every action has exactly one.
///
///   action a{"Originate", {{"Channel", "PJSIP/100"}, {"Exten", "200"}}};
///   a.add("Variable", "A=1").add("Variable", "B=2");
struct action {
  std::string name;
  std::vector<std::pair<std::string, std::string>> headers = {};

  action& add(std::string_view key, std::string_view value) {
    headers.emplace_back(key, value);
    return *this;
  }
};

/// Appends one action to `out`: `Action: <name>\r\n`, each header as
/// `Key: Value\r\n`, then `ActionID: <id>\r\n` and the closing `\r\n`.
///
/// Refused with `errc::invalid_argument` (and `out` left as it was):
///   - a name or key that is not a token: empty, or holding a space, tab,
///     ':' or control character;
///   - a value or ActionID holding CR, LF or NUL: it would end the header
///     early and let the rest be read as headers of its own (header injection);
///   - an empty ActionID, or an `Action` or `ActionID` key among the headers
///     (Asterisk reads only the first of each).
class action_writer {
 public:
  action_writer(std::string& out, std::string_view name);

  action_writer& header(std::string_view key, std::string_view value);

  /// Writes the ActionID and the closing empty line; the first error, if any.
  result<void> finish(std::string_view action_id);

 private:
  void refuse(std::string text);
  std::string& out_;
  std::size_t start_;
  std::string error_;  // the first refusal; empty while all is well
};

/// Appends `a` with `action_id` to `out` (see action_writer for what is refused).
result<void> encode(const action& a, std::string_view action_id, std::string& out);

}  // namespace costrix::proto::ami
