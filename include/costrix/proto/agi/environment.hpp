// proto::agi::environment: the `agi_*` block Asterisk sends before the first command.
#pragma once

#include <costrix/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
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

/// What Asterisk tells the script about the call. Texts are empty (and numbers
/// 0) when Asterisk did not send them.
///
/// Every text is a view into one heap block that the environment owns, laid out
/// as [args][query][unknown][text bytes]: the views stay valid while the
/// environment lives, and moving it keeps them (the block does not move). A copy
/// has its own block (one allocation), and its views point into it. A moved-from
/// or default environment is empty and holds no block.
///
/// Inline the environment holds only 16-bit offsets into the block's text, the
/// counts, the numbers and the block's pointer, so the text of one environment
/// is at most 65535 bytes (see environment_limits).
class environment {
 public:
  /// agi_request: the script or URL as given to AGI()
  std::string_view request() const noexcept { return text(i_request); }
  /// agi_channel: "PJSIP/100-00000001"
  std::string_view channel() const noexcept { return text(i_channel); }
  /// agi_language
  std::string_view language() const noexcept { return text(i_language); }
  /// agi_type: channel technology
  std::string_view type() const noexcept { return text(i_type); }
  /// agi_uniqueid
  std::string_view uniqueid() const noexcept { return text(i_uniqueid); }
  /// agi_version: Asterisk's version
  std::string_view version() const noexcept { return text(i_version); }
  /// agi_callerid: number, "unknown" when absent
  std::string_view callerid() const noexcept { return text(i_callerid); }
  /// agi_calleridname
  std::string_view calleridname() const noexcept { return text(i_calleridname); }
  /// agi_callingpres
  int callingpres() const noexcept { return callingpres_; }
  /// agi_callingani2
  int callingani2() const noexcept { return callingani2_; }
  /// agi_callington
  int callington() const noexcept { return callington_; }
  /// agi_callingtns
  int callingtns() const noexcept { return callingtns_; }
  /// agi_dnid
  std::string_view dnid() const noexcept { return text(i_dnid); }
  /// agi_rdnis
  std::string_view rdnis() const noexcept { return text(i_rdnis); }
  /// agi_context
  std::string_view context() const noexcept { return text(i_context); }
  /// agi_extension
  std::string_view extension() const noexcept { return text(i_extension); }
  /// agi_priority (a number, kept as Asterisk sent it)
  std::string_view priority() const noexcept { return text(i_priority); }
  /// agi_enhanced: "0.0", or "1.0" for EAGI
  std::string_view enhanced() const noexcept { return text(i_enhanced); }
  /// agi_accountcode
  std::string_view accountcode() const noexcept { return text(i_accountcode); }
  /// agi_threadid
  std::string_view threadid() const noexcept { return text(i_threadid); }
  /// agi_network: "yes" for FastAGI
  bool network() const noexcept { return network_; }
  /// agi_network_script: "path?query" after the host in agi://host/path?query
  std::string_view network_script() const noexcept { return text(i_network_script); }

  /// network_script's path, URL-decoded ("basic").
  std::string_view script() const noexcept { return text(i_script); }
  /// network_script's query, URL-decoded, in order.
  std::span<const query_param> query() const noexcept { return array<query_param>(query_offset(), query_count_); }
  /// agi_arg_1 ... agi_arg_N, in order.
  std::span<const std::string_view> args() const noexcept { return array<std::string_view>(0, args_count_); }
  /// Any other agi_* line (key with its "agi_" prefix, value), in order.
  std::span<const std::pair<std::string_view, std::string_view>> unknown() const noexcept {
    return array<unknown_pair>(unknown_offset(), unknown_count_);
  }

  /// The first value of a query key, if present.
  std::optional<std::string_view> param(std::string_view key) const;

  /// Empty: every text empty, nothing allocated.
  environment() noexcept = default;
  environment(const environment& other);
  environment(environment&& other) noexcept;
  environment& operator=(const environment& other);
  environment& operator=(environment&& other) noexcept;
  ~environment() = default;

 private:
  friend class environment_parser;

  /// Bytes [offset, offset + size) of the block's text part.
  struct slice {
    std::uint16_t offset = 0;
    std::uint16_t size = 0;
  };
  enum text_index : std::uint8_t {
    i_request,
    i_channel,
    i_language,
    i_type,
    i_uniqueid,
    i_version,
    i_callerid,
    i_calleridname,
    i_dnid,
    i_rdnis,
    i_context,
    i_extension,
    i_priority,
    i_enhanced,
    i_accountcode,
    i_threadid,
    i_network_script,
    i_script,  // decoded from network_script, not a line of its own
    text_count
  };
  using unknown_pair = std::pair<std::string_view, std::string_view>;

  std::size_t query_offset() const noexcept { return args_count_ * sizeof(std::string_view); }
  std::size_t unknown_offset() const noexcept { return query_offset() + query_count_ * sizeof(query_param); }
  std::size_t text_offset() const noexcept { return unknown_offset() + unknown_count_ * sizeof(unknown_pair); }
  std::size_t block_size() const noexcept { return text_offset() + text_size_; }
  const char* block() const noexcept { return storage_.get(); }
  template <class T>
  std::span<const T> array(std::size_t offset, std::size_t count) const noexcept {
    if (count == 0) return {};
    return {std::launder(reinterpret_cast<const T*>(block() + offset)), count};
  }
  std::string_view text(text_index i) const noexcept {
    slice s = texts_[i];
    return s.size == 0 ? std::string_view{} : std::string_view{block() + text_offset() + s.offset, s.size};
  }
  void swap_with(environment& other) noexcept;

  std::unique_ptr<char[]> storage_;  ///< the block: arrays, then every text byte
  std::array<slice, text_count> texts_{};
  int callingpres_ = 0;
  int callingani2_ = 0;
  int callington_ = 0;
  int callingtns_ = 0;
  std::uint16_t args_count_ = 0;
  std::uint16_t query_count_ = 0;
  std::uint16_t unknown_count_ = 0;
  std::uint16_t text_size_ = 0;  ///< bytes of the text part
  bool network_ = false;
};

/// Limits of one `agi_*` block. Whatever max_bytes says, a block is refused
/// (errc::limit_exceeded) beyond environment_limits::max_block_bytes (32 KiB):
/// an environment addresses its text with 16-bit offsets, and its text is the
/// block's values plus the decoded network script (at most the size of
/// network_script again), so 32 KiB of lines always fit in 65535 bytes.
struct environment_limits {
  static constexpr std::size_t max_block_bytes = 32 * 1024;  ///< the cap on max_bytes
  std::size_t max_bytes = 16 * 1024;  ///< all lines of the block together (capped at max_block_bytes)
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
///     '\n'; max_bytes capped at environment_limits::max_block_bytes) is
///     `errc::limit_exceeded`; feeding after the end is `errc::protocol`.
class environment_parser {
 public:
  explicit environment_parser(environment_limits limits = {}) : limits_(limits) {}

  /// true when the block is complete; an error for a line that is not
  /// `agi_key: value`, or for a block over the limits. The lines need not
  /// outlive the call: their values are copied.
  result<bool> feed(std::string_view line);

  /// The environment, complete once feed() has returned true. Its block is
  /// put in place (one allocation for its arrays and texts) when the closing
  /// empty line arrives.
  environment& get() noexcept { return env_; }

  /// Ready for a new block, keeping the buffers' capacity: a parser reused
  /// this way allocates nothing but each environment's block.
  void reset(environment_limits limits);

 private:
  struct piece {  // bytes of text_
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  static constexpr std::size_t text_field_count = environment::i_script;  // every text but the decoded script

  piece keep(std::string_view s);
  result<void> build();

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

/// url_decode() into `out` without allocating: decoding never lengthens, so
/// s.size() bytes are always enough; an `out` too short for the decoded bytes
/// is std::length_error. Returns the number of bytes written.
std::size_t url_decode(std::string_view s, std::span<char> out);

}  // namespace costrix::proto::agi
