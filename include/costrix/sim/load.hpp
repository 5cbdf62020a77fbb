// sim::run_load: many simulated calls against a FastAGI server (Asterisk's
// side) or an ESL outbound server (FreeSWITCH's side), measured.
#pragma once

#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/esl_caller.hpp>
#include <costrix/sim/histogram.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace costrix::sim {

/// What the simulated calls speak.
enum class load_protocol {
  fastagi,  ///< Asterisk's FastAGI: `call` against a FastAGI server
  esl,      ///< FreeSWITCH's outbound Event Socket (the `socket` application): `esl_call` against an ESL outbound server
};

struct load_options {
  /// The FastAGI server, or several separated by commas: each call tries
  /// them in order and goes to the first that takes it, as Asterisk does with
  /// the hosts of a hagi:// SRV record (sim::call_fastagi with a list).
  /// The ESL outbound protocol takes one target.
  std::string target = "127.0.0.1:4573";
  std::size_t concurrency = 100;            ///< calls in progress at most (lowered to fit the open-file limit)
  std::size_t calls = 1000;                 ///< stop after this many calls (0: no limit)
  std::chrono::milliseconds duration{0};    ///< stop starting calls after this long (0: no limit)
  double rate = 0;                          ///< calls started per second (open loop); 0: closed loop
  unsigned threads = 1;                     ///< runtime threads of the generator
  std::chrono::milliseconds stall_timeout{10'000};  ///< a server silent this long: the call fails as stalled
  /// Each call starts from this; channel, uniqueid and callerid vary per call.
  agi_call call;
  load_protocol protocol = load_protocol::fastagi;
  /// ESL: each call starts from this; uuid and caller_id_number vary per call.
  /// A call still going after stall_timeout fails as stalled. No park mode.
  esl_call esl = {};
  /// Park mode: every call stops answering at its first command, and once
  /// each of the `concurrency` calls is parked or has failed, `on_parked` runs
  /// (on a generator thread) with the number parked; when it returns the calls
  /// are closed and the run ends.
  bool park = false;
  std::function<void(std::size_t parked)> on_parked;
};

/// Counters a progress display can read while the load runs (any thread).
struct load_progress {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> parked{0};
  std::atomic<std::uint64_t> skipped{0};  ///< open loop: a call was due while `concurrency` were in progress
  std::atomic<bool> stop{false};           ///< set it to start no more calls: the run ends when those in progress have
};

struct load_report {
  std::chrono::duration<double> elapsed{0};
  std::size_t concurrency = 0;
  std::uint64_t ok = 0;        ///< calls that ran to the server's close with no rejected command
  std::uint64_t failed = 0;    ///< calls with an error (see errors)
  std::uint64_t commands = 0;
  std::uint64_t skipped = 0;
  histogram call_latency;      ///< connect to close, per successful call
  std::map<std::string, histogram, std::less<>> command_latency;  ///< server time per command, by name
  std::map<std::string, std::uint64_t, std::less<>> errors;       ///< by kind
  std::map<std::string, std::uint64_t, std::less<>> by_target;    ///< successful calls by the target that took them

  double calls_per_second() const noexcept;
  double commands_per_second() const noexcept;
  std::string text() const;  ///< the summary costrix-load prints
  std::string json() const;  ///< the same as one JSON object
};

/// Runs the load on a runtime of its own and blocks until it is done. Bad
/// server behaviour (connect failures, resets, a stalled server, commands
/// Asterisk would reject) is counted by kind, never fatal.
load_report run_load(load_options options, load_progress* progress = nullptr);

}  // namespace costrix::sim
