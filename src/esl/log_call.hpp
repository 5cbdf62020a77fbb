// A line about one ESL call: its route, Channel-Name, Unique-ID and peer follow the text.
#pragma once

#include <costrix/esl/session.hpp>
#include <costrix/log.hpp>

namespace costrix::esl {

inline void log_call(log_level level, const session& s, std::string_view peer, std::string_view route,
                     std::string_view line) {
  if (!log_enabled(level)) return;
  auto channel = s.channel_data().get("Channel-Name").value_or(std::string_view{});
  log(level, {route, channel, s.uuid(), peer}, line);
}

}  // namespace costrix::esl
