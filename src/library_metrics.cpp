#include "library_metrics.hpp"

#include <costrix/proto/agi/commands.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace costrix::metrics::lib {
namespace {

constexpr std::string_view error_names[error_kinds] = {
    "other",        "hangup",   "dead_channel", "invalid_command", "usage",          "failed",
    "not_found",    "timeout",  "cancelled",    "disconnected",    "auth_failed",    "protocol",
    "limit_exceeded", "refused", "invalid_argument", "other"};

constexpr std::string_view cause_names[] = {"handler_returned", "caller_hung_up", "handler_threw",
                                            "timeout",          "no_environment", "no_route",
                                            "server_stop",      "disconnected",   "command_timeout",
                                            "protocol_error"};
static_assert(std::size(cause_names) == static_cast<std::size_t>(end_cause::count));

// Latency buckets, in seconds: 100 µs to 10 s.
const std::vector<double> latency_bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                            0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 10};

// The event queue's drops and depth of one protocol's clients.
void register_event_queue(counter& drops, gauge& depth, std::string_view protocol) {
  labels l{{"protocol", std::string(protocol)}};
  drops = library().add_counter("costrix_event_queue_drops_total", "Events dropped by a full consumer queue", l);
  depth = library().add_gauge("costrix_event_queue_depth", "Events queued for consumers", l);
}

void register_errors(counter (&out)[error_kinds], std::string_view protocol) {
  for (std::size_t i = 1; i + 1 < error_kinds; ++i)
    out[i] = library().add_counter("costrix_errors_total", "Failed operations, by protocol and error kind",
                                   {{"protocol", std::string(protocol)}, {"kind", std::string(error_names[i])}});
  out[0] = out[error_kinds - 1] =
      library().add_counter("costrix_errors_total", "Failed operations, by protocol and error kind",
                            {{"protocol", std::string(protocol)}, {"kind", "other"}});
}

server_metrics make_server(std::string_view protocol) {
  registry& r = library();
  labels p{{"protocol", std::string(protocol)}};
  server_metrics m;
  m.sessions = r.add_counter("costrix_sessions_total", "Sessions accepted and started", p);
  m.refused = r.add_counter("costrix_sessions_refused_total", "Connections closed at once: max_sessions reached, or a peer not allowed", p);
  m.active = r.add_gauge("costrix_sessions_active", "Sessions in progress", p);
  for (std::size_t i = 0; i < std::size(cause_names); ++i) {
    labels l = p;
    l.emplace_back("cause", std::string(cause_names[i]));
    m.ended[i] = r.add_counter("costrix_sessions_ended_total", "Sessions ended, by cause", l);
  }
  return m;
}

// Series named at run time (AMI actions, ESL applications), by family.
enum named_family : std::size_t { ami_actions, esl_executes, esl_api_commands, named_families };

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using named_map = std::unordered_map<std::string, counter, string_hash, std::equal_to<>>;

// The first 256 distinct values of each family get a series of their
// own, later ones count as "other". `registered` holds each value given a
// series, once, whichever thread saw it first; each thread keeps the handles
// it has used, so the lock is taken once per name and thread, and a look-up
// by string_view allocates nothing.
void count_named(named_family f, std::string_view family, std::string_view help, const char* label,
                 std::string_view value) {
  constexpr std::size_t max_values = 256;
  struct shared {
    std::mutex mutex;
    named_map registered[named_families];  // under `mutex`
    std::size_t values[named_families] = {};  // registered's sizes, "other" aside; under `mutex`
  };
  static shared& all_threads = *new shared;  // never destroyed, as library(): threads may count during exit
  thread_local named_map seen[named_families];
  if (!library().enabled()) return;
  named_map& mine = seen[f];
  if (auto it = mine.find(value); it != mine.end()) return it->second.inc();
  counter c;
  bool own = false;  // `value` has a series of its own (not the "other" one)
  {
    std::lock_guard lock(all_threads.mutex);
    named_map& all = all_threads.registered[f];
    if (auto it = all.find(value); it != all.end()) {
      c = it->second;
      own = true;
    } else if (value == "other" || all_threads.values[f] < max_values) {
      c = library().add_counter(family, help, {{label, std::string(value)}});
      all.emplace(std::string(value), c);
      if (value != "other") ++all_threads.values[f];
      own = true;
    } else {
      c = library().add_counter(family, help, {{label, "other"}});
    }
  }
  // A name past the cap is remembered too, up to a bound: a flood of distinct
  // names costs the lock per use, not a thread-local map without end.
  if (own || mine.size() < 2 * max_values) mine.emplace(std::string(value), c);
  c.inc();
}

}  // namespace

std::size_t error_kind(const error& e) noexcept {
  if (e.code.category() != category()) return 0;
  auto v = static_cast<std::size_t>(e.code.value());
  return v < error_kinds ? v : 0;
}

const server_metrics& fastagi() {
  static const server_metrics m = make_server("fastagi");
  return m;
}

const server_metrics& esl_outbound() {
  static const server_metrics m = make_server("esl_outbound");
  return m;
}

const agi_metrics& agi() {
  static const agi_metrics m = [] {
    registry& r = library();
    agi_metrics a;
    constexpr std::size_t n = std::size(proto::agi::command_names);
    static_assert(n + 1 <= agi_metrics::max_commands);
    for (std::size_t i = 0; i <= n; ++i) {
      labels l{{"command", i < n ? std::string(proto::agi::command_names[i]) : std::string("raw")}};
      a.commands[i] = r.add_counter("costrix_commands_total", "AGI commands completed, by Asterisk's name", l);
      a.duration[i] = r.add_histogram("costrix_command_duration_seconds",
                                      "AGI commands: from writing the command to its reply", latency_bounds, l);
    }
    register_errors(a.errors, "agi");
    a.bytes_out = r.add_counter("costrix_agi_bytes_out_total", "AGI command bytes written");
    a.bytes_in = r.add_counter("costrix_agi_bytes_in_total", "AGI bytes read (environments and replies)");
    return a;
  }();
  return m;
}

const ami_metrics& ami() {
  static const ami_metrics m = [] {
    registry& r = library();
    ami_metrics a;
    a.in_flight = r.add_gauge("costrix_ami_actions_in_flight", "AMI actions sent and not yet answered");
    a.timed_out = r.add_counter("costrix_ami_actions_timed_out_total", "AMI actions that got no answer in time");
    a.reconnects = r.add_counter("costrix_ami_reconnects_total", "AMI connections made again after a loss");
    register_event_queue(a.event_drops, a.event_depth, "ami");
    register_errors(a.errors, "ami");
    a.bytes_out = r.add_counter("costrix_ami_bytes_out_total", "AMI bytes written (actions)");
    a.bytes_in = r.add_counter("costrix_ami_bytes_in_total", "AMI bytes read (responses and events)");
    return a;
  }();
  return m;
}

void count_ami_action(std::string_view name) {
  count_named(ami_actions, "costrix_ami_actions_total", "AMI actions sent, by name", "action", name);
}

void count_ami_action_text(std::string_view encoded) {
  if (!library().enabled()) return;
  constexpr std::string_view prefix = "Action: ";
  std::string_view name = encoded.starts_with(prefix) ? encoded.substr(prefix.size()) : std::string_view{};
  name = name.substr(0, name.find_first_of("\r\n"));
  count_ami_action(name.empty() ? std::string_view("other") : name);
}

const esl_metrics& esl() {
  static const esl_metrics m = [] {
    registry& r = library();
    esl_metrics e;
    const char* help = "ESL commands sent, by kind";
    e.commands_api = r.add_counter("costrix_esl_commands_total", help, {{"command", "api"}});
    e.commands_bgapi = r.add_counter("costrix_esl_commands_total", help, {{"command", "bgapi"}});
    e.commands_other = r.add_counter("costrix_esl_commands_total", help, {{"command", "other"}});
    e.reconnects = r.add_counter("costrix_esl_reconnects_total", "ESL inbound connections made again after a loss");
    register_event_queue(e.event_drops, e.event_depth, "esl");
    register_errors(e.errors, "esl");
    e.bytes_out = r.add_counter("costrix_esl_bytes_out_total", "ESL bytes written (inbound clients and outbound sessions)");
    e.bytes_in = r.add_counter("costrix_esl_bytes_in_total", "ESL bytes read (inbound clients and outbound sessions)");
    return e;
  }();
  return m;
}

void count_esl_api_text(std::string_view encoded) {
  if (!library().enabled()) return;
  std::string_view rest = encoded;
  if (rest.starts_with("api ")) rest.remove_prefix(4);
  else if (rest.starts_with("bgapi ")) rest.remove_prefix(6);
  else return;  // not an API command
  std::string_view name = rest.substr(0, rest.find_first_of(" \r\n"));
  count_named(esl_api_commands, "costrix_esl_api_commands_total", "ESL api and bgapi commands sent, by command",
              "command", name.empty() ? std::string_view("other") : name);
}

void count_esl_execute(std::string_view app) {
  count_named(esl_executes, "costrix_esl_executes_total", "ESL applications executed, by name", "app", app);
}

}  // namespace costrix::metrics::lib
