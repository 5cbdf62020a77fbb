// proto::agi::environment: the `agi_*` block Asterisk sends before the first command.
#pragma once

#include <costrix/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::proto::agi {

/// One `key=value` of a FastAGI script URL's query, URL-decoded. Repeated keys are kept in order.
struct query_param {
  std::string key;
  std::string value;
  friend bool operator==(const query_param&, const query_param&) = default;
};

/// What Asterisk tells the script about the call. Fields are empty (or 0) when
/// Asterisk did not send them.
struct environment {
  std::string request;       ///< agi_request: the script or URL as given to AGI()
  std::string channel;       ///< agi_channel: "PJSIP/100-00000001"
  std::string language;      ///< agi_language
  std::string type;          ///< agi_type: channel technology
  std::string uniqueid;      ///< agi_uniqueid
  std::string version;       ///< agi_version: Asterisk's version
  std::string callerid;      ///< agi_callerid: number, "unknown" when absent
  std::string calleridname;  ///< agi_calleridname
  int callingpres = 0;       ///< agi_callingpres
  int callingani2 = 0;       ///< agi_callingani2
  int callington = 0;        ///< agi_callington
  int callingtns = 0;        ///< agi_callingtns
  std::string dnid;          ///< agi_dnid
  std::string rdnis;         ///< agi_rdnis
  std::string context;       ///< agi_context
  std::string extension;     ///< agi_extension
  std::string priority;      ///< agi_priority (a number, kept as Asterisk sent it)
  std::string enhanced;      ///< agi_enhanced: "0.0", or "1.0" for EAGI
  std::string accountcode;   ///< agi_accountcode
  std::string threadid;      ///< agi_threadid
  bool network = false;      ///< agi_network: "yes" for FastAGI
  std::string network_script;  ///< agi_network_script: "path?query" after the host in agi://host/path?query

  std::string script;               ///< network_script's path, URL-decoded ("basic")
  std::vector<query_param> query;   ///< network_script's query, URL-decoded, in order
  std::vector<std::string> args;    ///< agi_arg_1 ... agi_arg_N, in order
  std::vector<std::pair<std::string, std::string>> unknown;  ///< any other agi_* line, in order

  /// The first value of a query key, if present.
  std::optional<std::string_view> param(std::string_view key) const;
};

struct environment_limits {
  std::size_t max_bytes = 16 * 1024;  ///< all lines of the block together
  std::size_t max_lines = 256;
};

/// Incremental parser: feed the block one line at a time (without the line
/// ending; a trailing '\r' is ignored) as the lines arrive. The empty line ends
/// the block. Rules:
///   - every other line is `agi_<key>: <value>` or `agi_<key>:` (empty value);
///     the key is letters, digits and '_'; anything else is `errc::protocol`;
///   - a NUL byte anywhere is `errc::protocol`;
///   - `agi_arg_N` joins `args` only when N is the next number (1, 2, ... with
///     no leading zero); any other N is kept, as sent, in `unknown`;
///   - other unknown `agi_*` keys go to `unknown`, in order;
///   - integer fields that are not numbers read as 0;
///   - over `max_lines` lines or `max_bytes` bytes (each line counted with its
///     '\n') is `errc::limit_exceeded`; feeding after the end is `errc::protocol`.
class environment_parser {
 public:
  explicit environment_parser(environment_limits limits = {}) : limits_(limits) {}

  /// true when the block is complete; an error for a line that is not
  /// `agi_key: value`, or for a block over the limits.
  result<bool> feed(std::string_view line);

  environment& get() noexcept { return env_; }

 private:
  environment env_;
  environment_limits limits_;
  std::size_t bytes_ = 0;
  std::size_t lines_ = 0;
  bool done_ = false;
};

/// Parses a whole block ("agi_request: ...\n...\n\n"); `\n` or `\r\n` endings.
/// A block without its closing empty line, or with bytes after it, is `errc::protocol`.
result<environment> parse_environment(std::string_view block, environment_limits limits = {});

/// Splits "path?x=1&y=two%20words&y=3" into a decoded path and query parameters.
/// The path is %-decoded only ('+' stays '+' in a path); keys and values are
/// url_decode()d. "k" without '=' has an empty value; empty pieces ("a=1&&b=2") are skipped.
void split_script(std::string_view network_script, std::string& path, std::vector<query_param>& query);

/// Decodes %XX and '+' (as space). Malformed escapes are kept as they are.
/// "%00" decodes to a NUL byte, kept in the string.
std::string url_decode(std::string_view s);

}  // namespace costrix::proto::agi
