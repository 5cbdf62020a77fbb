// sim::ami_server: Asterisk's side of AMI, simulated, for tests and load tests without a PBX.
#pragma once

#include <costrix/io/runtime.hpp>
#include <costrix/proto/ami/message.hpp>
#include <costrix/proto/ami/message_parser.hpp>
#include <costrix/result.hpp>
#include <costrix/sim/agi_caller.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::sim {

/// Headers in order, as the simulator writes them: {{"Response", "Error"}, {"Message", "No"}}.
using ami_fields = std::vector<std::pair<std::string, std::string>>;

/// How the simulated Asterisk treats one action, by name ("Originate"; "*" for
/// every action without a rule of its own). A rule with only a `delay` delays
/// the built-in answer; `response`, `events` or `list_complete` replace it.
struct action_rule {
  /// The response's headers (`Response` first); the action's ActionID is put after the first one.
  std::optional<ami_fields> response;
  /// Events written after the response, each `{{"Event", "Name"}, ...}`; the
  /// ActionID is put after the `Event` header. Without `response`, the
  /// response is `Response: Success`.
  std::vector<ami_fields> events;
  /// An event list: the response gets `EventList: start`, and after the events
  /// comes `Event: <list_complete>`, `ActionID`, `EventList: Complete`, `ListItems: N`.
  std::string list_complete;
  std::chrono::milliseconds delay{0};  ///< wait before answering; later actions are answered meanwhile
  bool never_answer = false;           ///< no answer at all
  bool disconnect = false;             ///< close the client's connection (after `delay`) instead of answering
};

/// What becomes of one Originate.
struct originate_outcome {
  bool answered = true;  ///< Success (a channel exists until hung up) or Failure
  int reason = 4;        ///< OriginateResponse's Reason: 4 answered, 0 failed, 1 hung up, 3 no answer, 5 busy, 8 congestion
  std::chrono::milliseconds delay{0};  ///< from the action to the OriginateResponse event (the answer, if not Async)
};

/// Decides an Originate's outcome from the action (Channel, Exten, Application,
/// Variable...); called on the server's executor.
using originate_policy = std::function<originate_outcome(const proto::ami::message& action)>;

struct ami_server_options {
  std::string listen = "127.0.0.1:5038";   ///< port 0 picks a free port: see port()
  std::string ami_version = "11.0.0";      ///< the banner's `Asterisk Call Manager/<version>`
  std::string asterisk_version = "22.10.1";
  /// Manager accounts, user name -> secret (user names match case-insensitively, as Asterisk's do).
  std::map<std::string, std::string, std::less<>> accounts = {{"admin", "wordpass"}};
  /// Asterisk waits a second before refusing a login; 0 keeps tests fast.
  std::chrono::milliseconds failed_login_delay{0};
  /// `Command` outputs, CLI command -> output (lines split at '\n'), beside the
  /// built-in `core show version`; any other command is "No such command".
  std::map<std::string, std::string, std::less<>> cli;
  originate_policy originate;  ///< empty: every Originate is answered at once (Reason 4)
  /// What one client action may hold (Asterisk reads lines of up to 1 KiB and
  /// 128 headers); over a limit, or a line that is not `Key: Value`, closes that connection.
  proto::ami::limits limits{.max_message_bytes = 64 * 1024, .max_line_bytes = 1024, .max_headers = 128};
  /// A client that lets this much output pile up (a flood it does not read) is disconnected.
  std::size_t max_pending_bytes = 64 * 1024 * 1024;
  /// Speak TLS, as Asterisk does with manager.conf's `tlsenable`: the
  /// certificate chain and its private key (PEM files). Empty: plain TCP.
  std::string tls_certificate_file = {};
  std::string tls_private_key_file = {};
};

/// Unsolicited call events (Newchannel, VarSet, Hangup for made-up channels) at a steady rate.
struct event_flood {
  double rate = 1000;     ///< events per second; 0 or less: as fast as the server can write them
  std::size_t count = 0;  ///< stop after this many events; 0: until stop_flood()
};

struct ami_server_stats {
  std::uint64_t connections = 0;   ///< accepted since start
  std::uint64_t active = 0;        ///< connected now
  std::uint64_t logins = 0;        ///< successful logins
  std::uint64_t failed_logins = 0;
  std::map<std::string, std::uint64_t, std::less<>> actions;  ///< actions received, by name as first spelled
};

/// The `Key` of an MD5 login: md5(challenge + secret) in lowercase hex, as Asterisk checks it.
std::string md5_login_key(std::string_view challenge, std::string_view secret);

/// Listens for AMI clients and answers as Asterisk 22 does (forms recorded from
/// a real one: tests/data/transcripts): login (plain and MD5 challenge), event
/// masks, Ping, Command, Getvar/Setvar, the AstDB actions, Originate, event
/// lists (CoreShowChannels, Status, DBGet), Hangup, UserEvent, AsyncAGI; plus
/// scripted rules, broadcast events, floods and disconnections. docs/simulator.md.
///
/// Every client, channel and variable lives on one executor (a runtime's first
/// thread, or the io_context given, which must be run by one thread at a time).
/// The member functions may be called from any thread: those that change the
/// server take effect on that executor, in the order they were called, and
/// `done` (if any) runs there afterwards.
class ami_server {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  explicit ami_server(runtime& rt, ami_server_options options = {});
  explicit ami_server(executor_type ex, ami_server_options options = {});
  /// stop(); destroy the server before its runtime or io_context.
  ~ami_server();
  ami_server(const ami_server&) = delete;
  ami_server& operator=(const ami_server&) = delete;

  /// Binds and starts accepting.
  result<void> start();
  /// The port bound by start() (useful with "127.0.0.1:0").
  std::uint16_t port() const noexcept;

  /// Sets the rule for an action name (case-insensitive; "*" for every other
  /// action); it applies to actions read from then on.
  void rule(std::string action, action_rule r);
  void clear_rules();

  /// Sends an event to every logged-in client whose event mask takes it. Its
  /// class is the first word of its `Privilege` header ("call,all" -> call);
  /// an event without one goes to every client with events on. It is queued
  /// to the simulator's thread, and not ordered against actions a client sends
  /// after the call returns: a test awaits the event before relying on it.
  void broadcast(ami_fields event);
  /// Starts a flood (replacing one in progress); `done` runs when it ends:
  /// `count` events sent, stop_flood(), another start_flood() or stop().
  void start_flood(event_flood flood = {}, std::function<void()> done = {});
  void stop_flood();

  /// Closes every client connection (an Asterisk restart); listening goes on.
  void disconnect_all(std::function<void()> done = {});
  /// Closes the listening socket: connecting is refused until start_listening().
  void stop_listening(std::function<void()> done = {});
  /// Listens again on the same port.
  result<void> start_listening();
  /// Stops listening, closes every connection, ends every call and flood.
  void stop(std::function<void()> done = {});

  /// Starts a call running `AGI(agi:async,args...)`: AsyncAGIStart with the
  /// call's environment, then `Action: AGI` for its channel (`call.channel`,
  /// which must be unique) is answered with an agi_channel playing `call`:
  /// AGIExecStart, AGIExecEnd and AsyncAGIExec per command, in order, and
  /// AsyncAGIEnd (then Hangup) after HANGUP, ASYNCAGI BREAK or the caller hanging up.
  void start_async_agi(agi_call call);
  /// The far end hangs up a channel (an originated one or an AsyncAGI call): Hangup event.
  void hangup(std::string channel);

  ami_server_stats stats() const;
  /// How many actions of this name were received (case-insensitive).
  std::uint64_t actions_received(std::string_view name) const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace costrix::sim
