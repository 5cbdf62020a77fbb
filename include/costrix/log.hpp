// Where costrix's log lines go. Default: warnings and errors to stderr.
#pragma once

#include <functional>
#include <string_view>

namespace costrix {

enum class log_level { debug, info, warning, error };

using log_sink = std::function<void(log_level, std::string_view line)>;

/// Routes every log line to `sink` (called from any runtime thread; make it
/// thread-safe). An empty sink restores the default.
/// (costrix/log/spdlog.hpp routes them to a spdlog logger in one call.)
void set_log_sink(log_sink sink);
/// The lowest level passed to the sink (default: warning).
void set_log_level(log_level level);
/// Whether a line at `level` would reach the sink (to skip formatting one that would not).
bool log_enabled(log_level level) noexcept;

void log(log_level level, std::string_view line);

/// Which call a line is about. Empty fields are left out; the others follow the
/// text as ` route=... channel=... uniqueid=... peer=...` (a value with a space
/// or a quote is quoted). ESL's Unique-ID goes in `uniqueid`. Only identifiers:
/// never a password, a secret or a channel variable's value.
struct log_context {
  std::string_view route;     ///< the FastAGI script path, or what an ESL server routed by
  std::string_view channel;   ///< Asterisk's agi_channel, FreeSWITCH's Channel-Name
  std::string_view uniqueid;  ///< agi_uniqueid, or ESL Unique-ID
  std::string_view peer;      ///< the remote address, "127.0.0.1:40312"
};

void log(log_level level, const log_context& context, std::string_view line);

}  // namespace costrix
