// Routes costrix's log lines into a spdlog logger, in one call:
//   costrix::log_to_spdlog(spdlog::default_logger());
// Header-only: libcostrix does not depend on spdlog; the program that
// includes this links spdlog (find_package(spdlog), target spdlog::spdlog).
#pragma once

#include <costrix/log.hpp>

#include <spdlog/logger.h>

#include <memory>
#include <string_view>

namespace costrix {

inline spdlog::level::level_enum to_spdlog(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warning: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

/// Every costrix line goes to `logger` at the matching level; costrix's own
/// threshold follows the logger's level at this call (set_log_level changes it later).
/// A null logger restores the default (stderr).
inline void log_to_spdlog(std::shared_ptr<spdlog::logger> logger) {
  if (!logger) return set_log_sink(nullptr);
  switch (logger->level()) {
    case spdlog::level::trace:
    case spdlog::level::debug: set_log_level(log_level::debug); break;
    case spdlog::level::info: set_log_level(log_level::info); break;
    case spdlog::level::warn: set_log_level(log_level::warning); break;
    default: set_log_level(log_level::error); break;
  }
  set_log_sink([logger = std::move(logger)](log_level level, std::string_view line) {
    logger->log(to_spdlog(level), "{}", line);
  });
}

}  // namespace costrix
