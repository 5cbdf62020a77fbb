#include <costrix/ami/actions.hpp>

#include <fmt/format.h>

#include <charconv>

namespace costrix::ami {
namespace {
void opt(writer& w, std::string_view key, std::string_view value) {
  if (!value.empty()) w.header(key, value);
}
std::string_view yes_no(bool b) { return b ? "true" : "false"; }
std::string str(const message& m, std::string_view key) { return std::string(m.get(key).value_or("")); }
}  // namespace

void raw::write(writer& w) const {
  for (const auto& [k, v] : headers) w.header(k, v);
}

void events::write(writer& w) const { w.header("EventMask", mask); }

void status::write(writer& w) const {
  opt(w, "Channel", channel);
  opt(w, "Variables", variables);
}

void bridge_list::write(writer& w) const { opt(w, "BridgeType", bridge_type); }

void hangup::write(writer& w) const {
  w.header("Channel", channel);
  if (cause) w.header("Cause", std::to_string(*cause));
}

void redirect::write(writer& w) const {
  w.header("Channel", channel);
  opt(w, "ExtraChannel", extra_channel);
  w.header("Exten", exten);
  opt(w, "ExtraExten", extra_exten);
  w.header("Context", context);
  opt(w, "ExtraContext", extra_context);
  w.header("Priority", priority);
  opt(w, "ExtraPriority", extra_priority);
}

void setvar::write(writer& w) const {
  opt(w, "Channel", channel);
  w.header("Variable", variable);
  w.header("Value", value);
}

void getvar::write(writer& w) const {
  opt(w, "Channel", channel);
  w.header("Variable", variable);
}

result<std::string> getvar::decode(response&& r) {
  if (!r.ok()) return fail(error_of(r));
  return str(r.fields, "Value");
}

void command::write(writer& w) const { w.header("Command", line); }

result<std::vector<std::string>> command::decode(response&& r) {
  std::vector<std::string> lines;
  for (auto l : r.fields.output()) lines.emplace_back(l);
  if (r.ok()) return lines;
  // "No such command ..." comes as output under `Message: Command output follows`.
  if (lines.empty()) return fail(error_of(r));
  std::string text;
  for (const auto& l : lines) {
    if (!text.empty()) text += '\n';
    text += l;
  }
  return fail(errc::failed, std::move(text));
}

void queue_status::write(writer& w) const {
  opt(w, "Queue", queue);
  opt(w, "Member", member);
}

void queue_summary::write(writer& w) const { opt(w, "Queue", queue); }

void queue_add::write(writer& w) const {
  w.header("Queue", queue);
  w.header("Interface", interface);
  opt(w, "MemberName", member_name);
  opt(w, "StateInterface", state_interface);
  if (penalty) w.header("Penalty", std::to_string(*penalty));
  if (paused) w.header("Paused", "true");
}

void queue_remove::write(writer& w) const {
  w.header("Queue", queue);
  w.header("Interface", interface);
}

void queue_pause::write(writer& w) const {
  w.header("Interface", interface);
  w.header("Paused", yes_no(paused));
  opt(w, "Queue", queue);
  opt(w, "Reason", reason);
}

void mix_monitor::write(writer& w) const {
  w.header("Channel", channel);
  w.header("File", file);
  opt(w, "Options", options);
  opt(w, "Command", command);
}

void stop_mix_monitor::write(writer& w) const {
  w.header("Channel", channel);
  opt(w, "MixMonitorID", mixmonitor_id);
}

void db_get::write(writer& w) const {
  w.header("Family", family);
  w.header("Key", key);
}

result<std::string> db_get::decode(response&& r) {
  if (!r.ok()) return fail(error_of(r));
  for (const auto& e : r.events)
    if (auto v = e.get("Val")) return std::string(*v);
  return fail(errc::not_found, "DBGet: no DBGetResponse");
}

void db_put::write(writer& w) const {
  w.header("Family", family);
  w.header("Key", key);
  w.header("Val", value);
}

void db_del::write(writer& w) const {
  w.header("Family", family);
  w.header("Key", key);
}

void reload::write(writer& w) const { opt(w, "Module", module); }

void user_event::write(writer& w) const {
  w.header("UserEvent", event);
  for (const auto& [k, v] : headers) w.header(k, v);
}

void agi_command::write(writer& w) const {
  w.header("Channel", channel);
  w.header("Command", command);
  w.header("CommandID", command_id);
}

void atxfer::write(writer& w) const {
  w.header("Channel", channel);
  w.header("Exten", exten);
  opt(w, "Context", context);
}

void blind_transfer::write(writer& w) const {
  w.header("Channel", channel);
  w.header("Exten", exten);
  opt(w, "Context", context);
}

void play_dtmf::write(writer& w) const {
  w.header("Channel", channel);
  w.header("Digit", std::string_view(&digit, 1));
  if (duration) w.header("Duration", std::to_string(duration->count()));
  if (receive) w.header("Receive", "true");
}

void park::write(writer& w) const {
  w.header("Channel", channel);
  opt(w, "TimeoutChannel", timeout_channel);
  opt(w, "AnnounceChannel", announce_channel);
  if (timeout) w.header("Timeout", std::to_string(timeout->count()));
  opt(w, "Parkinglot", parkinglot);
}

void originate::write(writer& w) const {
  w.header("Channel", channel);
  opt(w, "Context", context);
  opt(w, "Exten", exten);
  opt(w, "Priority", priority);
  opt(w, "Application", application);
  opt(w, "Data", data);
  w.header("Timeout", std::to_string(timeout.count()));
  opt(w, "CallerID", caller_id);
  for (const auto& [k, v] : variables) w.header("Variable", fmt::format("{}={}", k, v));
  opt(w, "Account", account);
  if (early_media) w.header("EarlyMedia", "true");
  opt(w, "Codecs", codecs);
  opt(w, "ChannelId", channel_id);
  opt(w, "OtherChannelId", other_channel_id);
  if (async) w.header("Async", "true");
}

result<originate_result> originate::decode(response&& r) {
  if (!r.ok()) return fail(error_of(r));
  originate_result out;
  // Without Async the response itself is the outcome (Success means answered).
  if (!r.last) {
    out.answered = true;
    out.reason = 4;
    return out;
  }
  const message& e = *r.last;
  out.answered = proto::ami::iequals(e.get("Response").value_or(""), "Success");
  auto reason = e.get("Reason").value_or("");
  if (std::from_chars(reason.data(), reason.data() + reason.size(), out.reason).ec != std::errc{}) out.reason = -1;
  out.channel = str(e, "Channel");
  out.uniqueid = str(e, "Uniqueid");
  return out;
}

}  // namespace costrix::ami
