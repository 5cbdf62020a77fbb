// costrix's own metrics in metrics::library(), registered on first use, with
// every fixed label value up front (docs/operations.md lists them).
#pragma once

#include <costrix/error.hpp>
#include <costrix/metrics.hpp>

#include <cstddef>
#include <string_view>

namespace costrix::metrics::lib {

/// Why a server's session ended (the `cause` label).
/// disconnected, command_timeout, protocol_error: the handler returned after a
/// failed command closed the connection (agi::session::broken_by(); ESL: the socket closed).
enum class end_cause { handler_returned, caller_hung_up, handler_threw, timeout, no_environment, no_route,
                       server_stop, disconnected, command_timeout, protocol_error, count };

/// A server's sessions (label protocol="fastagi" or "esl_outbound").
struct server_metrics {
  counter sessions;  ///< admitted
  counter refused;   ///< over max_sessions, or a peer the allow-list refuses
  gauge active;
  counter ended[static_cast<std::size_t>(end_cause::count)];
  void end(end_cause c) const noexcept {
    active.dec();
    ended[static_cast<std::size_t>(c)].inc();
  }
};
const server_metrics& fastagi();
const server_metrics& esl_outbound();

/// The error kinds (errc's names; "other" for errors of other categories).
constexpr std::size_t error_kinds = 16;
std::size_t error_kind(const error& e) noexcept;

/// AGI commands by descriptor index (proto::agi::command_names; the last: raw lines).
struct agi_metrics {
  static constexpr std::size_t max_commands = 64;
  counter commands[max_commands];
  histogram duration[max_commands];
  counter errors[error_kinds];
  counter bytes_out;
  counter bytes_in;
};
const agi_metrics& agi();

struct ami_metrics {
  gauge in_flight;
  counter timed_out;
  counter reconnects;
  counter event_drops;
  gauge event_depth;
  counter errors[error_kinds];
  counter bytes_out;
  counter bytes_in;
};
const ami_metrics& ami();
/// Counts the action whose encoding starts at `encoded` ("Action: Name\r\n...").
void count_ami_action_text(std::string_view encoded);
/// costrix_ami_actions_total{action=...}: names seen first get a series of their own (up to 256, then "other").
void count_ami_action(std::string_view name);

struct esl_metrics {
  counter commands_api, commands_bgapi, commands_other;
  counter reconnects;
  counter event_drops;
  gauge event_depth;
  counter errors[error_kinds];
  counter bytes_out;  ///< inbound clients and outbound sessions
  counter bytes_in;
};
const esl_metrics& esl();
/// 0: api, 1: bgapi, 2: any other command.
inline void count_esl_command(int kind) {
  const auto& m = esl();
  (kind == 0 ? m.commands_api : kind == 1 ? m.commands_bgapi : m.commands_other).inc();
}
/// costrix_esl_api_commands_total{command=...}: the API command of an encoded
/// `api`/`bgapi` ("api originate ..." -> originate), bounded as count_ami_action.
void count_esl_api_text(std::string_view encoded);
/// costrix_esl_executes_total{app=...}, bounded as count_ami_action.
void count_esl_execute(std::string_view app);

}  // namespace costrix::metrics::lib
