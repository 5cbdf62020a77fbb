// Loads the real wire transcripts (../shared/transcripts, COSTRIX_TRANSCRIPTS_DIR) at run time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace costrix::test {

/// One command sent and the raw reply bytes Asterisk wrote back.
struct agi_exchange {
  std::string command;
  std::string reply;
};

/// A FastAGI transcript: the raw `agi_*` block and the exchanges in order.
struct agi_transcript {
  std::string env;
  std::vector<agi_exchange> exchanges;
};

/// Reads COSTRIX_TRANSCRIPTS_DIR/<file_name> ("fastagi-basic.json"); throws
/// std::runtime_error when the file is missing or not a FastAGI transcript.
agi_transcript load_agi_transcript(std::string_view file_name);

/// One step of an AMI or ESL transcript: what the client sent and the raw bytes
/// read back within a short window after it (unsolicited events included).
struct transcript_step {
  std::string step;  ///< the step's name; empty when the file gives none
  std::string sent;
  std::string received;
};

/// Reads COSTRIX_TRANSCRIPTS_DIR/<file_name> ("ami-session.json"): a JSON list
/// of steps. Throws std::runtime_error when the file is missing or not a list.
std::vector<transcript_step> load_steps(std::string_view file_name);

/// Splits raw reply bytes into lines without their '\n' (or "\r\n").
std::vector<std::string> split_lines(std::string_view bytes);

}  // namespace costrix::test
