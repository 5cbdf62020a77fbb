// FreeSWITCH's side of an outbound Event Socket, simulated: a channel whose
// dialplan ran `socket host:port async full`, for tests and load tests.
#pragma once

#include <costrix/io/stream.hpp>
#include <costrix/result.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::sim {

/// How the simulated channel runs one application (by name: "playback").
struct app_rule {
  std::optional<std::string> response;  ///< Application-Response instead of the simulated one
  std::chrono::milliseconds delay{0};   ///< how long it runs (a prompt playing)
  bool hold = false;                    ///< runs until `uuid_break` or the hangup
  std::string press;                    ///< keys the caller presses as it starts (DTMF events)
  std::map<std::string, std::string, std::less<>> set;  ///< channel variables it leaves ("record_ms")
};

/// One simulated channel and how its caller behaves. Build it as a named
/// variable, not as a temporary inside `co_await` (GCC 12: docs/errors.md).
struct esl_call {
  std::string uuid = "a77236ce-9171-4453-b2ab-b17c86c9c143";
  std::string caller_id_number = "5550199";
  std::string destination_number = "9000";
  std::string context = "default";
  bool async = true;  ///< `socket ... async full`; false: `full` (replies after the application ran)
  std::map<std::string, std::string, std::less<>> variables;  ///< channel variables (uuid_getvar, the channel data)
  /// Keys the caller presses, in order, when an application reads digits
  /// (play_and_get_digits, read): each becomes a DTMF event.
  std::string dtmf;
  /// The caller hangs up while this execute runs (0 = the first).
  std::optional<std::size_t> hangup_during;
  std::string hangup_cause = "NORMAL_CLEARING";
  /// Per-application behaviour; "*" applies to every application without a rule.
  std::map<std::string, app_rule, std::less<>> rules;
  std::uint64_t file_samples = 3200;  ///< playback_samples of a prompt played to its end
};

/// One application the server ran.
struct executed_app {
  std::string app;
  std::string arg;
  std::string uuid;      ///< its Application-UUID
  std::string response;  ///< the Application-Response sent
};

struct esl_report {
  std::vector<std::string> commands;  ///< every command as received (without its final empty line)
  std::vector<executed_app> executed;
  bool hung_up = false;
  std::string hangup_cause;
  bool resumed = false;  ///< the server sent `resume`: the dialplan goes on
  bool lingered = false;
  std::map<std::string, std::string, std::less<>> variables;  ///< at the end
};

/// Plays the channel over a connected stream until the server closes it or
/// says `exit`; answers as FreeSWITCH 1.11's mod_event_socket does (shared transcripts).
awaitable<result<esl_report>> play_esl(io::stream& s, esl_call call);

/// Connects to an outbound server as the `socket` application does, and plays
/// `call`. A call still going after `limit` (0: no limit) is cut off and fails
/// with errc::timeout (a load test's stalled server).
awaitable<result<esl_report>> call_esl_outbound(boost::asio::ip::tcp::endpoint server, esl_call call,
                                                std::chrono::milliseconds limit = {});

}  // namespace costrix::sim
