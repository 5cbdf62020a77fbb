#include <costrix/ami/actions.hpp>

#include <fmt/format.h>

#include <charconv>

namespace costrix::ami {
namespace {
void opt(writer& w, std::string_view key, std::string_view value) {
  if (!value.empty()) w.header(key, value);
}
void opt(writer& w, std::string_view key, std::optional<int> value) {
  if (value) w.header(key, std::to_string(*value));
}
/// `Key: true` when set, nothing otherwise.
void flag(writer& w, std::string_view key, bool set) {
  if (set) w.header(key, "true");
}
std::string_view yes_no(bool b) { return b ? "true" : "false"; }
std::string str(const message& m, std::string_view key) { return std::string(m.get(key).value_or("")); }
int num(const message& m, std::string_view key) {
  auto v = m.get(key).value_or("");
  int n = -1;
  if (std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc{}) return -1;
  return n;
}
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
  opt(w, "Cause", cause);
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
  opt(w, "Penalty", penalty);
  flag(w, "Paused", paused);
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

// ---- Core: the connection and the system.

void login::write(writer& w) const {
  w.header("Username", username).header("Secret", secret);
  opt(w, "Events", events);
}
void challenge::write(writer& w) const { w.header("AuthType", auth_type); }
result<std::string> challenge::decode(response&& r) {
  if (!r.ok()) return fail(error_of(r));
  return str(r.fields, "Challenge");
}
void filter::write(writer& w) const { w.header("Operation", operation).header("Filter", expression); }
void module_check::write(writer& w) const { w.header("Module", module); }
void module_load::write(writer& w) const { opt(w, "Module", module); w.header("LoadType", load_type); }
void module_reload::write(writer& w) const { opt(w, "Module", module); w.header("LoadType", "reload"); }
void module_unload::write(writer& w) const { w.header("Module", module).header("LoadType", "unload"); }
void list_categories::write(writer& w) const { w.header("Filename", filename); }
void get_config::write(writer& w) const {
  w.header("Filename", filename);
  opt(w, "Category", category);
  opt(w, "Filter", filter);
}
void update_config::write(writer& w) const {
  w.header("SrcFilename", src_filename).header("DstFilename", dst_filename);
  opt(w, "Reload", reload);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    w.header(fmt::format("Action-{:06}", i), c.action).header(fmt::format("Cat-{:06}", i), c.category);
    opt(w, fmt::format("Var-{:06}", i), c.variable);
    opt(w, fmt::format("Value-{:06}", i), c.value);
    opt(w, fmt::format("Match-{:06}", i), c.match);
  }
}
void create_config::write(writer& w) const { w.header("Filename", filename); }
void db_del_tree::write(writer& w) const { w.header("Family", family); opt(w, "Key", key); }

// ---- Core: channels, recording, dialplan.

void absolute_timeout::write(writer& w) const {
  w.header("Channel", channel).header("Timeout", std::to_string(timeout));
}
void bridge::write(writer& w) const {
  w.header("Channel1", channel1).header("Channel2", channel2);
  if (tone) w.header("Tone", "yes");
}
void parked_calls::write(writer& w) const { opt(w, "ParkingLot", parkinglot); }
void send_text::write(writer& w) const { w.header("Channel", channel).header("Message", message); }
void mute_audio::write(writer& w) const {
  w.header("Channel", channel).header("Direction", direction).header("State", mute ? "on" : "off");
}
void set_cdr_user_field::write(writer& w) const {
  w.header("Channel", channel).header("UserField", user_field);
  flag(w, "Append", append);
}
void local_optimize_away::write(writer& w) const { w.header("Channel", channel); }
void monitor::write(writer& w) const {
  w.header("Channel", channel);
  opt(w, "File", file);
  opt(w, "Format", format);
  flag(w, "Mix", mix);
}
void change_monitor::write(writer& w) const { w.header("Channel", channel).header("File", file); }
void pause_monitor::write(writer& w) const { w.header("Channel", channel); }
void unpause_monitor::write(writer& w) const { w.header("Channel", channel); }
void mix_monitor_mute::write(writer& w) const {
  w.header("Channel", channel).header("Direction", direction).header("State", mute ? "1" : "0");
}
void stop_monitor::write(writer& w) const { w.header("Channel", channel); }
void show_dialplan::write(writer& w) const { opt(w, "Extension", extension); opt(w, "Context", context); }
void mailbox_count::write(writer& w) const { w.header("Mailbox", mailbox); }
result<mailbox_counts> mailbox_count::decode(response&& r) {
  if (!r.ok()) return fail(error_of(r));
  return mailbox_counts{.urgent = num(r.fields, "UrgMessages"), .new_messages = num(r.fields, "NewMessages"),
                        .old_messages = num(r.fields, "OldMessages")};
}
void mailbox_status::write(writer& w) const { w.header("Mailbox", mailbox); }
void extension_state::write(writer& w) const { w.header("Exten", exten).header("Context", context); }
result<extension_status> extension_state::decode(response&& r) {
  if (!r.ok()) return fail(error_of(r));
  return extension_status{.status = num(r.fields, "Status"), .status_text = str(r.fields, "StatusText"),
                          .hint = str(r.fields, "Hint")};
}
void presence_state::write(writer& w) const { w.header("Provider", provider); }

// ---- Queues.

void queue_penalty::write(writer& w) const {
  w.header("Interface", interface).header("Penalty", std::to_string(penalty));
  opt(w, "Queue", queue);
}
void queue_log::write(writer& w) const {
  w.header("Queue", queue).header("Event", event);
  opt(w, "UniqueId", uniqueid); opt(w, "Interface", interface); opt(w, "Message", message);
}
void queue_reload::write(writer& w) const {
  opt(w, "Queue", queue);
  if (members) w.header("Members", "yes");
  if (rules) w.header("Rules", "yes");
  if (parameters) w.header("Parameters", "yes");
}
void queue_reset::write(writer& w) const { opt(w, "Queue", queue); }
void queue_rule::write(writer& w) const { opt(w, "Rule", rule); }

// ---- Bridges, PJSIP, SIP.

void bridge_info::write(writer& w) const { w.header("BridgeUniqueid", bridge_uniqueid); }
void bridge_kick::write(writer& w) const { opt(w, "BridgeUniqueid", bridge_uniqueid); w.header("Channel", channel); }
void bridge_destroy::write(writer& w) const { w.header("BridgeUniqueid", bridge_uniqueid); }
void pjsip_show_endpoint::write(writer& w) const { w.header("Endpoint", endpoint); }
void pjsip_qualify::write(writer& w) const { w.header("Endpoint", endpoint); }
void sip_show_peer::write(writer& w) const { w.header("Peer", peer); }
void sip_qualify::write(writer& w) const { w.header("Peer", peer); }
void sip_notify::write(writer& w) const {
  w.header("Channel", channel);
  for (const auto& [k, v] : variables) w.header("Variable", fmt::format("{}={}", k, v));
}

// ---- DAHDI.

void dahdi_show_channels::write(writer& w) const { opt(w, "DAHDIChannel", channel); }
void dahdi_dnd_on::write(writer& w) const { w.header("DAHDIChannel", channel); }
void dahdi_dnd_off::write(writer& w) const { w.header("DAHDIChannel", channel); }
void dahdi_dial_offhook::write(writer& w) const { w.header("DAHDIChannel", channel).header("Number", number); }
void dahdi_hangup::write(writer& w) const { w.header("DAHDIChannel", channel); }
void dahdi_transfer::write(writer& w) const { w.header("DAHDIChannel", channel); }

// ---- ConfBridge and MeetMe.

void confbridge_list::write(writer& w) const { w.header("Conference", conference); }
void confbridge_kick::write(writer& w) const { w.header("Conference", conference).header("Channel", channel); }
void confbridge_mute::write(writer& w) const { w.header("Conference", conference).header("Channel", channel); }
void confbridge_unmute::write(writer& w) const { w.header("Conference", conference).header("Channel", channel); }
void confbridge_lock::write(writer& w) const { w.header("Conference", conference); }
void confbridge_unlock::write(writer& w) const { w.header("Conference", conference); }
void confbridge_start_record::write(writer& w) const {
  w.header("Conference", conference);
  opt(w, "RecordFile", record_file);
}
void confbridge_stop_record::write(writer& w) const { w.header("Conference", conference); }
void confbridge_set_single_video_src::write(writer& w) const {
  w.header("Conference", conference).header("Channel", channel);
}
void meetme_list::write(writer& w) const { opt(w, "Conference", conference); }
void meetme_mute::write(writer& w) const { w.header("Meetme", meetme).header("Usernum", usernum); }
void meetme_unmute::write(writer& w) const { w.header("Meetme", meetme).header("Usernum", usernum); }

}  // namespace costrix::ami
