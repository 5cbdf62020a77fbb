#include <costrix/log.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

namespace costrix {
namespace {
std::atomic<log_level> min_level{log_level::warning};
std::mutex sink_mutex;  // guards `sink` only; logging is off the per-command path
log_sink sink;

const char* name(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_log_sink(log_sink s) {
  std::lock_guard lock(sink_mutex);
  sink = std::move(s);
}

void set_log_level(log_level level) { min_level = level; }

void log(log_level level, std::string_view line) {
  if (level < min_level.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(sink_mutex);
  if (sink) {
    sink(level, line);
  } else {
    std::fprintf(stderr, "costrix %s: %.*s\n", name(level), static_cast<int>(line.size()), line.data());
  }
}

}  // namespace costrix
