// Asterisk's side of AGI, simulated: for tests and load tests without a PBX.
#pragma once

#include <costrix/io/stream.hpp>
#include <costrix/result.hpp>

#include <functional>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::sim {

/// How the simulated Asterisk treats one command (by name, e.g. "STREAM FILE").
struct command_rule {
  std::optional<std::string> reply;   ///< reply text (no final newline) instead of the simulated one
  std::chrono::milliseconds delay{0};  ///< wait before replying (a prompt playing, a slow PBX)
  bool hangup = false;                 ///< the caller hangs up during this command
  bool hold = false;                   ///< never reply: the call stays parked until the server closes
};

/// One simulated call: what Asterisk tells the script, and how the caller behaves.
/// Build it as a named variable, not as a temporary inside `co_await` (GCC 12: docs/errors.md).
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
  /// Per-command behaviour, by Asterisk's command name ("STREAM FILE"); the
  /// rule "*" applies to every command without a rule of its own.
  std::map<std::string, command_rule, std::less<>> rules;
  std::chrono::milliseconds think_time{0};  ///< wait before every reply
  std::int64_t file_samples = 44160;        ///< endpos of a sound file played to its end
};

/// How long the server took to send one command, counted from the moment the
/// previous reply (or the environment) was written.
struct command_timing {
  std::string_view name;  ///< Asterisk's name for the command ("STREAM FILE"; "unknown" for a 510)
  std::chrono::nanoseconds latency{0};
};

/// What was said, one command and its reply at a time.
struct exchange {
  std::string command;
  std::string reply;  ///< as sent, with its line ends
};

struct call_report {
  std::vector<exchange> exchanges;  ///< empty unless play_options::keep_exchanges
  std::vector<command_timing> timings;
  std::size_t rejected = 0;  ///< commands Asterisk would answer with 510 or 520
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
  /// The name of the last command replied to ("unknown" if Asterisk would not know it).
  std::string_view last_command() const noexcept { return last_; }
  /// What the rules say about the last command (a default rule when none).
  const command_rule& last_rule() const noexcept { return *last_rule_; }
  std::chrono::milliseconds think_time() const noexcept { return call_.think_time; }
  std::size_t commands() const noexcept { return commands_; }
  const std::map<std::string, std::string, std::less<>>& variables() const noexcept { return call_.variables; }

 private:
  std::string respond(std::string_view name, const std::vector<std::string>& args);
  std::optional<char> take_key(std::string_view escape);
  std::string variable(std::string_view name) const;

  agi_call call_;
  std::string_view last_ = "unknown";
  const command_rule* last_rule_;
  std::map<std::string, std::string, std::less<>> database_;
  std::size_t commands_ = 0;
  bool answered_ = false;
  bool hung_up_ = false;
  bool hangup_announced_ = false;
  bool speech_ = false;
};

struct play_options {
  bool keep_exchanges = true;                ///< record every command and reply text
  std::chrono::milliseconds stall_timeout{0};  ///< a server silent this long: errc::timeout; 0 = wait
  std::function<void()> on_hold;             ///< called when a `hold` rule parks the call
  std::size_t* commands_read = nullptr;      ///< if set, counts the command lines read, even when play fails
};

/// Plays `call` over a connected stream until the script closes it: writes
/// the environment, answers every command line.
awaitable<result<call_report>> play(io::stream& s, agi_call call, play_options options = {});

/// Connects to a FastAGI server as Asterisk's AGI(agi://...) does and plays `call`.
awaitable<result<call_report>> call_fastagi(boost::asio::ip::tcp::endpoint server, agi_call call,
                                            play_options options = {});

/// As Asterisk's AGI(hagi://...) does with the hosts of a DNS SRV record:
/// tries `servers` in order and plays `call` on the first that takes it. A
/// server that refuses the connection, or closes it before sending its first
/// command (stopping, or at its session limit), is skipped. `taken_by` (if
/// set) receives the index of the server that took the call. When none takes
/// it, the last server's outcome is returned.
awaitable<result<call_report>> call_fastagi(std::vector<boost::asio::ip::tcp::endpoint> servers, agi_call call,
                                            play_options options = {}, std::size_t* taken_by = nullptr);

}  // namespace costrix::sim
