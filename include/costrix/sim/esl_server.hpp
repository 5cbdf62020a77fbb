// sim::esl_server: FreeSWITCH's inbound Event Socket listener (mod_event_socket,
// port 8021), simulated, for tests and load tests without a switch.
#pragma once

#include <costrix/io/runtime.hpp>
#include <costrix/result.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::sim {

/// An event's headers in order, values as they are (the simulator encodes them per format):
/// {{"Event-Name", "CUSTOM"}, {"Event-Subclass", "my::thing"}, {"X-Key", "a value"}}.
using esl_headers = std::vector<std::pair<std::string, std::string>>;

struct esl_server_options {
  std::string listen = "127.0.0.1:8021";  ///< port 0 picks a free port: see port()
  std::string password = "ClueCon";       ///< for `auth <password>`
  /// Directory users for `userauth <user>@<domain>:<password>`: "user@domain" -> password.
  std::map<std::string, std::string, std::less<>> users = {};
  /// Refuse every connection as an ACL would: `text/rude-rejection`, then close.
  bool deny_all = false;
  std::string hostname = "vm";           ///< FreeSWITCH-Hostname, `global_getvar hostname`
  std::string version = "1.11.3-dev";    ///< `version`, `status`
  /// More API commands: the whole command text ("sofia status") -> the reply body.
  std::map<std::string, std::string, std::less<>> api = {};
  /// Delays by API command name ("status", "originate"; "*" for every one). An
  /// `api` holds the connection meanwhile (FreeSWITCH runs it before reading
  /// the next command); a `bgapi` only delays its BACKGROUND_JOB.
  std::map<std::string, std::chrono::milliseconds, std::less<>> delays = {};
  /// An originate whose endpoint contains this fails with `-ERR NO_ROUTE_DESTINATION`.
  std::string originate_fail = "nonexistent";
  /// Decides every other originate from its endpoint and destination: "" answers
  /// it (a simulated channel), a hangup cause ("USER_BUSY", "NO_ANSWER") fails
  /// it with `-ERR <cause>` as FreeSWITCH does. Called on the server's executor,
  /// one call at a time (it may count tries). Unset: every originate is answered.
  std::function<std::string(std::string_view endpoint, std::string_view destination)> originate_outcome = {};
  /// A client that lets this much output pile up (a flood it does not read) is disconnected.
  std::size_t max_pending_bytes = 64 * 1024 * 1024;
};

/// Unsolicited events (HEARTBEAT-like CUSTOM `costrix::flood` events with a sequence number) at a steady rate.
struct esl_flood {
  double rate = 1000;     ///< events per second; 0 or less: as fast as the server can write them
  std::size_t count = 0;  ///< stop after this many events; 0: until stop_flood()
  std::string name = "CHANNEL_CALLSTATE";  ///< Event-Name of the flood's events
};

struct esl_server_stats {
  std::uint64_t connections = 0;  ///< accepted since start
  std::uint64_t active = 0;       ///< connected now
  std::uint64_t auths = 0;        ///< successful auth/userauth
  std::uint64_t failed_auths = 0;
  std::uint64_t channels = 0;  ///< simulated channels alive now
  /// Commands received, by their first word ("api", "bgapi", "event", "filter"...).
  std::map<std::string, std::uint64_t, std::less<>> commands;
  /// API commands run (api and bgapi), by name ("status", "originate").
  std::map<std::string, std::uint64_t, std::less<>> apis;
};

/// Listens for inbound ESL clients and answers as FreeSWITCH 1.11 does (forms
/// recorded from a real one: tests/data/transcripts/esl-inbound.json):
/// `auth/request`, auth and userauth, api and bgapi with a small command table
/// over simulated channels (originate, uuid_*, show channels/calls, hupall...),
/// event subscriptions in plain and json, nixevent, noevents, filters,
/// sendevent, exit; plus emitted events, floods, delays and disconnections.
/// docs/simulator.md.
///
/// Every client and channel lives on one executor (a runtime's first thread,
/// or the io_context given, run by one thread at a time). The member functions
/// may be called from any thread: those that change the server take effect on
/// that executor, in the order they were called, and `done` (if any) runs there afterwards.
class esl_server {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  explicit esl_server(runtime& rt, esl_server_options options = {});
  explicit esl_server(executor_type ex, esl_server_options options = {});
  /// stop(); destroy the server before its runtime or io_context.
  ~esl_server();
  esl_server(const esl_server&) = delete;
  esl_server& operator=(const esl_server&) = delete;

  /// Binds and starts accepting.
  result<void> start();
  /// The port bound by start() (useful with "127.0.0.1:0").
  std::uint16_t port() const noexcept;

  /// Sets the delay of one API command name ("*": every one without its own); 0 removes it.
  void delay(std::string api_command, std::chrono::milliseconds d);

  /// Fires an event (the common headers Core-UUID, Event-Date-*, Event-Sequence
  /// are added after Event-Name) to every client subscribed to it.
  void emit(esl_headers headers, std::string body = {});
  /// Starts a flood (replacing one in progress); `done` runs when it ends.
  void start_flood(esl_flood flood = {}, std::function<void()> done = {});
  void stop_flood();
  /// The far end hangs up a simulated channel: CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE.
  void hangup(std::string uuid, std::string cause = "NORMAL_CLEARING");

  /// Closes every client connection (a FreeSWITCH restart); listening goes on.
  void disconnect_all(std::function<void()> done = {});
  /// Closes the listening socket: connecting is refused until start_listening().
  void stop_listening(std::function<void()> done = {});
  /// Listens again on the same port.
  result<void> start_listening();
  /// Stops listening, closes every connection, ends every channel and flood.
  void stop(std::function<void()> done = {});

  esl_server_stats stats() const;
  /// How many commands with this first word were received ("event", "api").
  std::uint64_t commands_received(std::string_view first_word) const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace costrix::sim
