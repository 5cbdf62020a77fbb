// proto::agi::environment: the `agi_*` block Asterisk sends before the first command.
#pragma once

#include <costrix/result.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::proto::agi {

/// One `key=value` of a FastAGI script URL's query, URL-decoded. Repeated keys are kept in order.
/// The views point into the storage of the environment (or buffer) that holds them.
struct query_param {
  std::string_view key;
  std::string_view value;
  friend bool operator==(const query_param&, const query_param&) = default;
};

/// What Asterisk tells the script about the call. Fields are empty (or 0) when
/// Asterisk did not send them.
///
/// Every text is a view into one heap block that the environment owns: the
/// views stay valid while the environment lives, and moving it keeps them (the
/// block does not move). A copy has its own block, and its views point into it.
/// A moved-from environment is empty. Views assigned by hand from elsewhere are
/// copied as they are.
struct environment {
  std::string_view request;       ///< agi_request: the script or URL as given to AGI()
  std::string_view channel;       ///< agi_channel: "PJSIP/100-00000001"
  std::string_view language;      ///< agi_language
  std::string_view type;          ///< agi_type: channel technology
  std::string_view uniqueid;      ///< agi_uniqueid
  std::string_view version;       ///< agi_version: Asterisk's version
  std::string_view callerid;      ///< agi_callerid: number, "unknown" when absent
  std::string_view calleridname;  ///< agi_calleridname
  int callingpres = 0;            ///< agi_callingpres
  int callingani2 = 0;            ///< agi_callingani2
  int callington = 0;             ///< agi_callington
  int callingtns = 0;             ///< agi_callingtns
  std::string_view dnid;          ///< agi_dnid
  std::string_view rdnis;         ///< agi_rdnis
  std::string_view context;       ///< agi_context
  std::string_view extension;     ///< agi_extension
  std::string_view priority;      ///< agi_priority (a number, kept as Asterisk sent it)
  std::string_view enhanced;      ///< agi_enhanced: "0.0", or "1.0" for EAGI
  std::string_view accountcode;   ///< agi_accountcode
  std::string_view threadid;      ///< agi_threadid
  bool network = false;           ///< agi_network: "yes" for FastAGI
  std::string_view network_script;  ///< agi_network_script: "path?query" after the host in agi://host/path?query

  std::string_view script;                ///< network_script's path, URL-decoded ("basic")
  std::vector<query_param> query;         ///< network_script's query, URL-decoded, in order
  std::vector<std::string_view> args;     ///< agi_arg_1 ... agi_arg_N, in order
  std::vector<std::pair<std::string_view, std::string_view>> unknown;  ///< any other agi_* line, in order

  /// Empty: every view empty, nothing allocated.
  environment() noexcept = default;
  environment(const environment& other);
  environment(environment&& other) noexcept;
  environment& operator=(const environment& other);
  environment& operator=(environment&& other) noexcept;
  ~environment() = default;

  /// The first value of a query key, if present.
  std::optional<std::string_view> param(std::string_view key) const;

 private:
  friend class environment_parser;
  void swap_with(environment& other) noexcept;

  std::unique_ptr<char[]> storage_;  ///< every byte the views point to
  std::size_t storage_size_ = 0;
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
  /// `agi_key: value`, or for a block over the limits. The lines need not
  /// outlive the call: their values are copied.
  result<bool> feed(std::string_view line);

  /// The environment, complete once feed() has returned true. Its texts are
  /// put in place (one allocation for all of them, one per non-empty vector)
  /// when the closing empty line arrives.
  environment& get() noexcept { return env_; }

 private:
  struct piece {  // bytes of text_
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  static constexpr std::size_t text_field_count = 17;

  piece keep(std::string_view s);
  void build();

  environment env_;
  environment_limits limits_;
  std::string text_;  ///< values and unknown keys, as the lines arrived
  std::array<piece, text_field_count> fields_{};
  std::vector<piece> args_;
  std::vector<std::pair<piece, piece>> unknown_;
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
/// The decoded bytes are written to `out`; `path` and the keys and values appended
/// to `query` are views into it. Decoding never lengthens, so network_script.size()
/// bytes are always enough; an `out` too short for the decoded bytes is
/// std::length_error. Returns the number of bytes written.
std::size_t split_script(std::string_view network_script, std::span<char> out, std::string_view& path,
                         std::vector<query_param>& query);

/// Decodes %XX and '+' (as space). Malformed escapes are kept as they are.
/// "%00" decodes to a NUL byte, kept in the string.
std::string url_decode(std::string_view s);

}  // namespace costrix::proto::agi
