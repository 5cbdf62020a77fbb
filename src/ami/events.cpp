#include <costrix/ami/events.hpp>

#include <charconv>

namespace costrix::ami::event {
namespace {
std::string str(const proto::ami::message& m, std::string_view key) { return std::string(m.get(key).value_or("")); }
int num(const proto::ami::message& m, std::string_view key) {
  auto v = m.get(key);
  int n = -1;
  if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc{}) return -1;
  return n;
}
/// "1", "true", "yes" or "on" (any case).
bool yes(const proto::ami::message& m, std::string_view key) {
  auto v = m.get(key).value_or("");
  return v == "1" || proto::ami::iequals(v, "true") || proto::ami::iequals(v, "yes") || proto::ami::iequals(v, "on");
}
/// The first header present of two (a name of Asterisk ≥ 12, the older one).
std::string either(const proto::ami::message& m, std::string_view key, std::string_view older) {
  return std::string(m.get(key).value_or(m.get(older).value_or("")));
}
// MeetmeList's `Muted`: "No", "By admin" or "By self".
bool muted_by_anyone(const proto::ami::message& m) {
  auto v = m.get("Muted").value_or("");
  return !v.empty() && !proto::ami::iequals(v, "No");
}
}  // namespace

newchannel newchannel::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .linkedid = str(m, "Linkedid"),
          .context = str(m, "Context"), .exten = str(m, "Exten"), .caller_id_num = str(m, "CallerIDNum"),
          .caller_id_name = str(m, "CallerIDName"), .state = num(m, "ChannelState")};
}
newstate newstate::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .state_desc = str(m, "ChannelStateDesc"),
          .state = num(m, "ChannelState")};
}
hangup hangup::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .linkedid = str(m, "Linkedid"),
          .cause_txt = str(m, "Cause-txt"), .cause = num(m, "Cause")};
}
dial_begin dial_begin::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .dest_channel = str(m, "DestChannel"),
          .dest_uniqueid = str(m, "DestUniqueid"), .dial_string = str(m, "DialString")};
}
dial_end dial_end::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .dest_channel = str(m, "DestChannel"),
          .dest_uniqueid = str(m, "DestUniqueid"), .dial_status = str(m, "DialStatus")};
}
var_set var_set::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .variable = str(m, "Variable"),
          .value = str(m, "Value")};
}
originate_response originate_response::from(const proto::ami::message& m) {
  return {.action_id = std::string(m.action_id()), .response = str(m, "Response"), .channel = str(m, "Channel"),
          .uniqueid = str(m, "Uniqueid"), .reason = num(m, "Reason")};
}
queue_member_status queue_member_status::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .member_name = str(m, "MemberName"), .interface = str(m, "Interface"),
          .status = num(m, "Status"), .paused = yes(m, "Paused")};
}
user_event user_event::from(const proto::ami::message& m) { return {.event_name = str(m, "UserEvent")}; }

// ---- Event-list items.

core_show_channel core_show_channel::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .linkedid = str(m, "Linkedid"),
          .state_desc = str(m, "ChannelStateDesc"), .caller_id_num = str(m, "CallerIDNum"),
          .caller_id_name = str(m, "CallerIDName"), .context = str(m, "Context"), .exten = str(m, "Exten"),
          .application = str(m, "Application"), .application_data = str(m, "ApplicationData"),
          .duration = str(m, "Duration"), .bridge_id = str(m, "BridgeId"), .state = num(m, "ChannelState"),
          .priority = num(m, "Priority")};
}
status status::from(const proto::ami::message& m) {
  status s{.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .linkedid = str(m, "Linkedid"),
           .state_desc = str(m, "ChannelStateDesc"), .caller_id_num = str(m, "CallerIDNum"),
           .caller_id_name = str(m, "CallerIDName"), .context = str(m, "Context"),
           .exten = either(m, "Exten", "Extension"),
           .type = str(m, "Type"), .application = str(m, "Application"), .data = str(m, "Data"),
           .bridge_id = str(m, "BridgeID"), .account_code = either(m, "AccountCode", "Account"),
           .state = num(m, "ChannelState"),
           .priority = num(m, "Priority"), .seconds = num(m, "Seconds")};
  for (auto v : m.all("Variable")) {
    auto eq = v.find('=');
    if (eq == std::string_view::npos) s.variables.emplace_back(v, "");
    else s.variables.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  }
  return s;
}
queue_params queue_params::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .strategy = str(m, "Strategy"), .max = num(m, "Max"), .calls = num(m, "Calls"),
          .holdtime = num(m, "Holdtime"), .talktime = num(m, "TalkTime"), .completed = num(m, "Completed"),
          .abandoned = num(m, "Abandoned"), .service_level = num(m, "ServiceLevel"), .weight = num(m, "Weight")};
}
queue_member queue_member::from(const proto::ami::message& m) {
  // Asterisk ≥ 12 says Name; older ones MemberName. The interface is `Location` in both.
  return {.queue = str(m, "Queue"), .member_name = either(m, "Name", "MemberName"),
          .interface = either(m, "Location", "Interface"),
          .state_interface = str(m, "StateInterface"), .membership = str(m, "Membership"),
          .paused_reason = str(m, "PausedReason"), .penalty = num(m, "Penalty"), .calls_taken = num(m, "CallsTaken"),
          .last_call = num(m, "LastCall"), .status = num(m, "Status"), .paused = yes(m, "Paused"),
          .in_call = yes(m, "InCall")};
}
queue_entry queue_entry::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"),
          .caller_id_num = either(m, "CallerIDNum", "CallerID"), .caller_id_name = str(m, "CallerIDName"),
          .position = num(m, "Position"), .wait = num(m, "Wait")};
}
queue_summary queue_summary::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .logged_in = num(m, "LoggedIn"), .available = num(m, "Available"),
          .callers = num(m, "Callers"), .holdtime = num(m, "HoldTime"), .talktime = num(m, "TalkTime"),
          .longest_hold_time = num(m, "LongestHoldTime")};
}
bridge_list_item bridge_list_item::from(const proto::ami::message& m) {
  return {.bridge_uniqueid = str(m, "BridgeUniqueid"), .bridge_type = str(m, "BridgeType"),
          .technology = str(m, "BridgeTechnology"), .creator = str(m, "BridgeCreator"),
          .bridge_name = str(m, "BridgeName"), .num_channels = num(m, "BridgeNumChannels")};
}
bridge_info_channel bridge_info_channel::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .caller_id_num = str(m, "CallerIDNum"),
          .caller_id_name = str(m, "CallerIDName")};
}
endpoint_list endpoint_list::from(const proto::ami::message& m) {
  return {.object_name = str(m, "ObjectName"), .transport = str(m, "Transport"), .aor = str(m, "Aor"),
          .auths = str(m, "Auths"), .outbound_auths = str(m, "OutboundAuths"), .contacts = str(m, "Contacts"),
          .device_state = str(m, "DeviceState"), .active_channels = num(m, "ActiveChannels")};
}
peer_entry peer_entry::from(const proto::ami::message& m) {
  return {.channel_type = str(m, "Channeltype"), .object_name = str(m, "ObjectName"),
          .ip_address = str(m, "IPaddress"), .ip_port = str(m, "IPport"), .description = str(m, "Description"),
          .status = str(m, "Status"), .dynamic = yes(m, "Dynamic")};
}
registry_entry registry_entry::from(const proto::ami::message& m) {
  return {.host = str(m, "Host"), .username = str(m, "Username"), .domain = str(m, "Domain"),
          .state = str(m, "State"), .port = num(m, "Port"), .refresh = num(m, "Refresh")};
}
dahdi_show_channel dahdi_show_channel::from(const proto::ami::message& m) {
  return {.dahdi_channel = str(m, "DAHDIChannel"), .signalling = str(m, "Signalling"), .context = str(m, "Context"),
          .alarm = str(m, "Alarm"), .description = str(m, "Description"), .channel = str(m, "Channel"),
          .uniqueid = str(m, "Uniqueid"), .dnd = proto::ami::iequals(m.get("DND").value_or(""), "Enabled")};
}
confbridge_list confbridge_list::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .channel = str(m, "Channel"), .caller_id_num = str(m, "CallerIDNum"),
          .caller_id_name = str(m, "CallerIDName"), .admin = yes(m, "Admin"), .marked = yes(m, "MarkedUser"),
          .muted = yes(m, "Muted"), .talking = yes(m, "Talking")};
}
confbridge_list_rooms confbridge_list_rooms::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .parties = num(m, "Parties"), .marked = num(m, "Marked"),
          .locked = yes(m, "Locked"), .muted = yes(m, "Muted")};
}
meetme_list meetme_list::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .user_number = str(m, "UserNumber"), .channel = str(m, "Channel"),
          .caller_id_num = str(m, "CallerIDNum"), .caller_id_name = str(m, "CallerIDName"), .role = str(m, "Role"),
          .admin = yes(m, "Admin"), .marked = yes(m, "MarkedUser"), .muted = muted_by_anyone(m),
          .talking = yes(m, "Talking")};
}
meetme_list_rooms meetme_list_rooms::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .activity = str(m, "Activity"), .creation = str(m, "Creation"),
          .parties = num(m, "Parties"), .marked = yes(m, "Marked"), .locked = yes(m, "Locked")};
}
parked_call parked_call::from(const proto::ami::message& m) {
  // Asterisk < 12: Channel, Exten, From, Timeout.
  auto timeout = num(m, "ParkingTimeout");
  return {.parkee_channel = either(m, "ParkeeChannel", "Channel"), .parkee_uniqueid = str(m, "ParkeeUniqueid"),
          .parking_lot = str(m, "ParkingLot"), .parking_space = either(m, "ParkingSpace", "Exten"),
          .parker_dial_string = either(m, "ParkerDialString", "From"),
          .timeout = timeout != -1 ? timeout : num(m, "Timeout"), .duration = num(m, "ParkingDuration")};
}
voicemail_user_entry voicemail_user_entry::from(const proto::ami::message& m) {
  return {.context = str(m, "VMContext"), .mailbox = str(m, "VoiceMailbox"), .full_name = str(m, "Fullname"),
          .email = str(m, "Email"), .new_messages = num(m, "NewMessageCount"),
          .old_messages = num(m, "OldMessageCount")};
}
list_dialplan list_dialplan::from(const proto::ami::message& m) {
  return {.context = str(m, "Context"), .extension = str(m, "Extension"), .label = str(m, "ExtensionLabel"),
          .application = str(m, "Application"), .app_data = str(m, "AppData"), .registrar = str(m, "Registrar"),
          .include_context = str(m, "IncludeContext"), .priority = num(m, "Priority")};
}
device_state_change device_state_change::from(const proto::ami::message& m) {
  return {.device = str(m, "Device"), .state = str(m, "State")};
}

// ---- More call, queue and system events.

agi_exec agi_exec::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .command = str(m, "Command"), .command_id = str(m, "CommandId"),
          .sub_event = str(m, "SubEvent"), .result = str(m, "Result"), .result_code = num(m, "ResultCode")};
}
newexten newexten::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .context = str(m, "Context"),
          .extension = either(m, "Extension", "Exten"), .application = str(m, "Application"),
          .app_data = str(m, "AppData"), .priority = num(m, "Priority")};
}
hangup_request hangup_request::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .cause = num(m, "Cause")};
}
soft_hangup_request soft_hangup_request::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .cause = num(m, "Cause")};
}
db_get_response db_get_response::from(const proto::ami::message& m) {
  return {.family = str(m, "Family"), .key = str(m, "Key"), .value = str(m, "Val")};
}
queue_member_added queue_member_added::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .member_name = either(m, "MemberName", "Name"),
          .interface = either(m, "Interface", "Location"), .membership = str(m, "Membership"),
          .penalty = num(m, "Penalty"), .status = num(m, "Status"), .paused = yes(m, "Paused")};
}
queue_member_paused queue_member_paused::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .member_name = either(m, "MemberName", "Name"),
          .interface = either(m, "Interface", "Location"), .reason = either(m, "PausedReason", "Reason"),
          .paused = yes(m, "Paused")};
}
queue_member_removed queue_member_removed::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .member_name = either(m, "MemberName", "Name"),
          .interface = either(m, "Interface", "Location")};
}
fully_booted fully_booted::from(const proto::ami::message& m) { return {.status = str(m, "Status")}; }
reload reload::from(const proto::ami::message& m) {
  return {.module = str(m, "Module"), .status = str(m, "Status"), .message = str(m, "Message")};
}
shutdown shutdown::from(const proto::ami::message& m) {
  return {.shutdown_kind = str(m, "Shutdown"), .restart = yes(m, "Restart")};
}
rtcp_received rtcp_received::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .source = str(m, "From"), .fraction_lost = str(m, "FractionLost"),
          .ia_jitter = str(m, "IAJitter"), .dlsr = str(m, "DLSR"), .packets_lost = num(m, "PacketsLost")};
}
rtcp_sent rtcp_sent::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .to = str(m, "To"), .fraction_lost = str(m, "FractionLost"),
          .ia_jitter = str(m, "IAJitter"), .dlsr = str(m, "DLSR"), .sent_packets = num(m, "SentPackets"),
          .cumulative_loss = num(m, "CumulativeLoss")};
}

// ---- ConfBridge and MeetMe events.

confbridge_start confbridge_start::from(const proto::ami::message& m) { return {.conference = str(m, "Conference")}; }
confbridge_end confbridge_end::from(const proto::ami::message& m) { return {.conference = str(m, "Conference")}; }
confbridge_join confbridge_join::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"),
          .caller_id_num = str(m, "CallerIDNum"), .caller_id_name = str(m, "CallerIDName")};
}
confbridge_leave confbridge_leave::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"),
          .caller_id_num = str(m, "CallerIDNum"), .caller_id_name = str(m, "CallerIDName")};
}
confbridge_talking confbridge_talking::from(const proto::ami::message& m) {
  return {.conference = str(m, "Conference"), .channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"),
          .talking = yes(m, "TalkingStatus")};
}
meetme_join meetme_join::from(const proto::ami::message& m) {
  return {.meetme = str(m, "Meetme"), .usernum = str(m, "Usernum"), .channel = str(m, "Channel"),
          .uniqueid = str(m, "Uniqueid")};
}
meetme_mute meetme_mute::from(const proto::ami::message& m) {
  return {.meetme = str(m, "Meetme"), .usernum = str(m, "Usernum"), .channel = str(m, "Channel"),
          .uniqueid = str(m, "Uniqueid"), .muted = yes(m, "Status")};
}

}  // namespace costrix::ami::event
