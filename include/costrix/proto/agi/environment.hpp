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
/// ending) as the lines arrive. The empty line ends the block.
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
};

/// Parses a whole block ("agi_request: ...\n...\n\n"); `\n` or `\r\n` endings.
result<environment> parse_environment(std::string_view block, environment_limits limits = {});

/// Splits "path?x=1&y=two%20words&y=3" into a decoded path and query parameters.
void split_script(std::string_view network_script, std::string& path, std::vector<query_param>& query);

/// Decodes %XX and '+' (as space). Malformed escapes are kept as they are.
std::string url_decode(std::string_view s);

}  // namespace costrix::proto::agi
