// Where costrix's log lines go. Default: warnings and errors to stderr.
#pragma once

#include <functional>
#include <string_view>

namespace costrix {

enum class log_level { debug, info, warning, error };

using log_sink = std::function<void(log_level, std::string_view line)>;

/// Routes every log line to `sink` (called from any runtime thread; make it
/// thread-safe). An empty sink restores the default.
void set_log_sink(log_sink sink);
/// The lowest level passed to the sink (default: warning).
void set_log_level(log_level level);

void log(log_level level, std::string_view line);

}  // namespace costrix
