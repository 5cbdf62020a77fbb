// The typed values AGI commands return.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace costrix::proto::agi {

/// STREAM FILE, CONTROL STREAM FILE, GET OPTION: the key that stopped playback
/// (none if it played to the end) and the sample offset where it stopped.
struct playback {
  std::optional<char> digit;
  std::int64_t endpos = 0;
  friend bool operator==(const playback&, const playback&) = default;
};

/// GET DATA: the digits entered, and whether input ended by timeout.
struct digits {
  std::string value;
  bool timed_out = false;
  friend bool operator==(const digits&, const digits&) = default;
};

/// RECORD FILE: how the recording ended and where.
struct recording {
  /// Asterisk 22 reports a recording ended by silence as "(timeout)", so
  /// `silence` is never produced by the codec; it is kept for other transports.
  enum class ended_by { dtmf, timeout, hangup, silence };
  ended_by reason = ended_by::timeout;
  std::optional<char> digit;   ///< the key that ended it, for ended_by::dtmf
  std::int64_t endpos = 0;
  friend bool operator==(const recording&, const recording&) = default;
};

/// CHANNEL STATUS. Values Asterisk may add later are kept as their number.
enum class channel_state : int {
  down = 0,            ///< channel is down and available
  reserved = 1,        ///< down, but reserved
  off_hook = 2,        ///< off hook
  dialing = 3,         ///< digits (or equivalent) have been dialed
  ringing = 4,         ///< line is ringing
  remote_ringing = 5,  ///< remote end is ringing
  up = 6,              ///< line is up
  busy = 7,            ///< line is busy
};

/// One recognition hypothesis of SPEECH RECOGNIZE.
struct speech_result {
  int score = 0;
  std::string text;
  std::string grammar;
  friend bool operator==(const speech_result&, const speech_result&) = default;
};

/// SPEECH RECOGNIZE: what ended it and, for speech, the hypotheses.
struct speech {
  enum class ended_by { speech, dtmf, timeout, hangup };
  ended_by reason = ended_by::timeout;
  std::optional<char> digit;
  std::int64_t endpos = 0;
  std::vector<speech_result> results;
  friend bool operator==(const speech&, const speech&) = default;
};

/// The text of a raw command's reply, for commands costrix does not model.
struct raw_reply {
  int code = 0;
  std::string result;
  std::optional<std::string> data;
  std::optional<std::int64_t> endpos;
  std::string extra;
  friend bool operator==(const raw_reply&, const raw_reply&) = default;
};

}  // namespace costrix::proto::agi
