#include <costrix/log.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

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

void field(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out += ' ';
  out += key;
  out += '=';
  if (value.find_first_of(" \"\\\n\r\t") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  out += '"';
}
}  // namespace

void set_log_sink(log_sink s) {
  std::lock_guard lock(sink_mutex);
  sink = std::move(s);
}

void set_log_level(log_level level) { min_level = level; }

bool log_enabled(log_level level) noexcept { return level >= min_level.load(std::memory_order_relaxed); }

void log(log_level level, std::string_view line) {
  if (!log_enabled(level)) return;
  std::lock_guard lock(sink_mutex);
  if (sink) {
    sink(level, line);
  } else {
    std::fprintf(stderr, "costrix %s: %.*s\n", name(level), static_cast<int>(line.size()), line.data());
  }
}

void log(log_level level, const log_context& context, std::string_view line) {
  if (!log_enabled(level)) return;
  std::string out(line);
  field(out, "route", context.route);
  field(out, "channel", context.channel);
  field(out, "uniqueid", context.uniqueid);
  field(out, "peer", context.peer);
  log(level, out);
}

}  // namespace costrix
