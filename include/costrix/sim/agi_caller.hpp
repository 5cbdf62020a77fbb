// Asterisk's side of AGI, simulated: for tests and load tests without a PBX.
#pragma once

#include <costrix/io/stream.hpp>
#include <costrix/result.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::sim {

/// One simulated call: what Asterisk tells the script, and how the caller behaves.
struct agi_call {
  std::string script = "demo";  ///< agi_network_script: "path?query" as in agi://host/path?query
  std::vector<std::string> args;  ///< agi_arg_1 ... agi_arg_N
  std::string channel = "PJSIP/sim-00000001";
  std::string uniqueid = "1700000000.1";
  std::string callerid = "5551234";
  std::string calleridname = "Sim Caller";
  std::string context = "default";
  std::string extension = "s";
  std::string host = "127.0.0.1:4573";  ///< for agi_request
  /// Channel variables GET VARIABLE answers (SET VARIABLE adds to them).
  std::map<std::string, std::string, std::less<>> variables;
  /// Keys the caller presses, in order; commands that wait for input take them.
  std::string dtmf;
  /// The caller hangs up during this command (0 = the first): its reply is the
  /// hangup form, then `HANGUP` comes before the next reply, as Asterisk does.
  std::optional<std::size_t> hangup_during;
  /// Replies given instead of the simulated ones: command name ("STREAM FILE",
  /// case-insensitive) to the reply text without the final newline.
  std::map<std::string, std::string, std::less<>> replies;
  std::int64_t file_samples = 44160;  ///< endpos of a sound file played to its end
};

/// What was said, one command and its reply at a time.
struct exchange {
  std::string command;
  std::string reply;  ///< as sent, with its line ends
};

struct call_report {
  std::vector<exchange> exchanges;
  bool hung_up = false;  ///< the caller hung up (hangup_during, or the script's HANGUP)
  std::map<std::string, std::string, std::less<>> variables;  ///< channel variables at the end
};

/// Asterisk's side of one conversation without I/O: the environment block, then
/// the reply Asterisk 20/22 would write to each command line (forms recorded
/// from a real Asterisk 22: see shared transcripts).
class agi_channel {
 public:
  explicit agi_channel(agi_call call);

  /// The `agi_*` block, ending with the empty line.
  std::string environment() const;
  /// The reply to one command line (without its '\n'), newline-terminated; may
  /// start with "HANGUP\n" once the caller has gone.
  std::string reply(std::string_view command_line);

  bool hung_up() const noexcept { return hung_up_; }
  std::size_t commands() const noexcept { return commands_; }
  const std::map<std::string, std::string, std::less<>>& variables() const noexcept { return call_.variables; }

 private:
  std::string respond(std::string_view name, const std::vector<std::string>& args);
  std::optional<char> take_key(std::string_view escape);
  std::string variable(std::string_view name) const;

  agi_call call_;
  std::map<std::string, std::string, std::less<>> database_;
  std::size_t commands_ = 0;
  bool answered_ = false;
  bool hung_up_ = false;
  bool hangup_announced_ = false;
  bool speech_ = false;
};

/// Plays `call` over a connected stream until the script closes it: writes
/// the environment, answers every command line.
awaitable<result<call_report>> play(io::stream& s, agi_call call);

/// Connects to a FastAGI server as Asterisk's AGI(agi://...) does and plays `call`.
awaitable<result<call_report>> call_fastagi(boost::asio::ip::tcp::endpoint server, agi_call call);

}  // namespace costrix::sim
