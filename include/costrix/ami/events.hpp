// ami::event: call events and event-list items as small structs, decoded from a message.
#pragma once

#include <costrix/ami/response.hpp>
#include <costrix/proto/ami/message.hpp>

#include <concepts>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::ami::event {

/// What client::on<E>() and typed streams take: the event's `name` and
/// `static E from(const proto::ami::message&)`. Missing headers are empty
/// strings (and -1 for numbers); ami::typed<E> keeps the headers besides.
template <class E>
concept typed_event = requires(const proto::ami::message& m) {
  std::string_view(E::name);
  { E::from(m) } -> std::same_as<E>;
};

struct newchannel {
  static constexpr std::string_view name = "Newchannel";
  std::string channel, uniqueid, linkedid, context, exten, caller_id_num, caller_id_name;
  int state = -1;  ///< ChannelState: 0 down, 4 ring, 5 ringing, 6 up ...
  static newchannel from(const proto::ami::message& m);
};
struct newstate {
  static constexpr std::string_view name = "Newstate";
  std::string channel, uniqueid, state_desc;
  int state = -1;
  static newstate from(const proto::ami::message& m);
};
struct hangup {
  static constexpr std::string_view name = "Hangup";
  std::string channel, uniqueid, linkedid, cause_txt;
  int cause = -1;  ///< Q.850 cause: 16 normal clearing, 17 busy ...
  static hangup from(const proto::ami::message& m);
};
struct dial_begin {
  static constexpr std::string_view name = "DialBegin";
  std::string channel, uniqueid, dest_channel, dest_uniqueid, dial_string;
  static dial_begin from(const proto::ami::message& m);
};
struct dial_end {
  static constexpr std::string_view name = "DialEnd";
  std::string channel, uniqueid, dest_channel, dest_uniqueid, dial_status;  ///< ANSWER, BUSY, NOANSWER...
  static dial_end from(const proto::ami::message& m);
};
struct var_set {
  static constexpr std::string_view name = "VarSet";
  std::string channel, uniqueid, variable, value;  ///< channel "none" for a global variable
  static var_set from(const proto::ami::message& m);
};
struct originate_response {
  static constexpr std::string_view name = "OriginateResponse";
  std::string action_id, response, channel, uniqueid;
  int reason = -1;
  static originate_response from(const proto::ami::message& m);
};
struct queue_member_status {
  static constexpr std::string_view name = "QueueMemberStatus";
  std::string queue, member_name, interface;
  int status = -1;  ///< device state: 1 not in use, 2 in use, 5 unavailable ...
  bool paused = false;
  static queue_member_status from(const proto::ami::message& m);
};
struct user_event {
  static constexpr std::string_view name = "UserEvent";
  std::string event_name;  ///< the `UserEvent:` header: the name the sender gave
  static user_event from(const proto::ami::message& m);
};

// ---- Event-list items: what the list actions of ami/actions.hpp answer with.

/// CoreShowChannels: one active channel.
struct core_show_channel {
  static constexpr std::string_view name = "CoreShowChannel";
  std::string channel, uniqueid, linkedid, state_desc, caller_id_num, caller_id_name, context, exten,
      application, application_data, duration, bridge_id;  ///< duration "HH:MM:SS"
  int state = -1, priority = -1;
  static core_show_channel from(const proto::ami::message& m);
};
/// Status: one channel's status (its `Variable: name=value` headers as pairs).
struct status {
  static constexpr std::string_view name = "Status";
  std::string channel, uniqueid, linkedid, state_desc, caller_id_num, caller_id_name, context, exten, type,
      application, data, bridge_id, account_code;
  int state = -1, priority = -1, seconds = -1;
  std::vector<std::pair<std::string, std::string>> variables;
  static status from(const proto::ami::message& m);
};
/// QueueStatus: one queue's parameters.
struct queue_params {
  static constexpr std::string_view name = "QueueParams";
  std::string queue, strategy;
  int max = -1, calls = -1, holdtime = -1, talktime = -1, completed = -1, abandoned = -1, service_level = -1,
      weight = -1;
  static queue_params from(const proto::ami::message& m);
};
/// QueueStatus: one member of a queue.
struct queue_member {
  static constexpr std::string_view name = "QueueMember";
  std::string queue, member_name, interface, state_interface, membership, paused_reason;
  int penalty = -1, calls_taken = -1, last_call = -1, status = -1;  ///< status: device state, as QueueMemberStatus
  bool paused = false, in_call = false;
  static queue_member from(const proto::ami::message& m);
};
/// QueueStatus: one caller waiting in a queue.
struct queue_entry {
  static constexpr std::string_view name = "QueueEntry";
  std::string queue, channel, uniqueid, caller_id_num, caller_id_name;
  int position = -1, wait = -1;
  static queue_entry from(const proto::ami::message& m);
};
/// QueueSummary: one queue's counts.
struct queue_summary {
  static constexpr std::string_view name = "QueueSummary";
  std::string queue;
  int logged_in = -1, available = -1, callers = -1, holdtime = -1, talktime = -1, longest_hold_time = -1;
  static queue_summary from(const proto::ami::message& m);
};
/// BridgeList: one bridge.
struct bridge_list_item {
  static constexpr std::string_view name = "BridgeListItem";
  std::string bridge_uniqueid, bridge_type, technology, creator, bridge_name;
  int num_channels = -1;
  static bridge_list_item from(const proto::ami::message& m);
};
/// BridgeInfo: one channel in the bridge.
struct bridge_info_channel {
  static constexpr std::string_view name = "BridgeInfoChannel";
  std::string channel, uniqueid, caller_id_num, caller_id_name;
  static bridge_info_channel from(const proto::ami::message& m);
};
/// PJSIPShowEndpoints: one endpoint.
struct endpoint_list {
  static constexpr std::string_view name = "EndpointList";
  std::string object_name, transport, aor, auths, outbound_auths, contacts;
  std::string device_state;  ///< "Not in use", "Unavailable"...
  int active_channels = -1;
  static endpoint_list from(const proto::ami::message& m);
};
/// SIPpeers: one chan_sip peer.
struct peer_entry {
  static constexpr std::string_view name = "PeerEntry";
  std::string channel_type, object_name, ip_address, ip_port, description;
  std::string status;  ///< "OK (12 ms)", "UNREACHABLE", "Unmonitored"...
  bool dynamic = false;
  static peer_entry from(const proto::ami::message& m);
};
/// SIPshowregistry: one outbound registration.
struct registry_entry {
  static constexpr std::string_view name = "RegistryEntry";
  std::string host, username, domain, state;
  int port = -1, refresh = -1;
  static registry_entry from(const proto::ami::message& m);
};
/// DAHDIShowChannels: one DAHDI channel.
struct dahdi_show_channel {
  static constexpr std::string_view name = "DAHDIShowChannels";
  std::string dahdi_channel, signalling, context, alarm, description, channel, uniqueid;  ///< channel: when in use
  bool dnd = false;
  static dahdi_show_channel from(const proto::ami::message& m);
};
/// ConfbridgeList: one user of a conference.
struct confbridge_list {
  static constexpr std::string_view name = "ConfbridgeList";
  std::string conference, channel, caller_id_num, caller_id_name;
  bool admin = false, marked = false, muted = false, talking = false;
  static confbridge_list from(const proto::ami::message& m);
};
/// ConfbridgeListRooms: one conference.
struct confbridge_list_rooms {
  static constexpr std::string_view name = "ConfbridgeListRooms";
  std::string conference;
  int parties = -1, marked = -1;
  bool locked = false, muted = false;
  static confbridge_list_rooms from(const proto::ami::message& m);
};
/// MeetmeList: one user of a conference.
struct meetme_list {
  static constexpr std::string_view name = "MeetmeList";
  std::string conference, user_number, channel, caller_id_num, caller_id_name, role;
  bool admin = false, marked = false, muted = false, talking = false;
  static meetme_list from(const proto::ami::message& m);
};
/// MeetmeListRooms: one conference.
struct meetme_list_rooms {
  static constexpr std::string_view name = "MeetmeListRooms";
  std::string conference, activity, creation;
  int parties = -1;
  bool marked = false, locked = false;
  static meetme_list_rooms from(const proto::ami::message& m);
};
/// ParkedCalls: one parked call (Asterisk ≥ 12's headers).
struct parked_call {
  static constexpr std::string_view name = "ParkedCall";
  std::string parkee_channel, parkee_uniqueid, parking_lot, parking_space, parker_dial_string;
  int timeout = -1, duration = -1;
  static parked_call from(const proto::ami::message& m);
};
/// VoicemailUsersList: one mailbox.
struct voicemail_user_entry {
  static constexpr std::string_view name = "VoicemailUserEntry";
  std::string context, mailbox, full_name, email;
  int new_messages = -1, old_messages = -1;
  static voicemail_user_entry from(const proto::ami::message& m);
};
/// ShowDialPlan: one priority of the dialplan.
struct list_dialplan {
  static constexpr std::string_view name = "ListDialplan";
  std::string context, extension, label, application, app_data, registrar, include_context;
  int priority = -1;
  static list_dialplan from(const proto::ami::message& m);
};
/// DeviceStateList (and state changes as they happen): one device's state.
struct device_state_change {
  static constexpr std::string_view name = "DeviceStateChange";
  std::string device, state;  ///< "PJSIP/100", "NOT_INUSE"
  static device_state_change from(const proto::ami::message& m);
};

// ---- More call, queue and system events.

/// An AGI command's start and end (`sub_event` "Start" or "End"; the result at the end).
struct agi_exec {
  static constexpr std::string_view name = "AGIExec";
  std::string channel, command, command_id, sub_event, result;
  int result_code = -1;
  static agi_exec from(const proto::ami::message& m);
};
/// A channel going to another extension or priority.
struct newexten {
  static constexpr std::string_view name = "Newexten";
  std::string channel, uniqueid, context, extension, application, app_data;
  int priority = -1;
  static newexten from(const proto::ami::message& m);
};
/// A hangup asked for (by the Hangup action, by an application).
struct hangup_request {
  static constexpr std::string_view name = "HangupRequest";
  std::string channel, uniqueid;
  int cause = -1;
  static hangup_request from(const proto::ami::message& m);
};
/// A soft hangup asked for (AMI, CLI, a timeout).
struct soft_hangup_request {
  static constexpr std::string_view name = "SoftHangupRequest";
  std::string channel, uniqueid;
  int cause = -1;
  static soft_hangup_request from(const proto::ami::message& m);
};
/// DBGet's answer, an item of its list.
struct db_get_response {
  static constexpr std::string_view name = "DBGetResponse";
  std::string family, key, value;
  static db_get_response from(const proto::ami::message& m);
};
/// A member added to a queue.
struct queue_member_added {
  static constexpr std::string_view name = "QueueMemberAdded";
  std::string queue, member_name, interface, membership;
  int penalty = -1, status = -1;
  bool paused = false;
  static queue_member_added from(const proto::ami::message& m);
};
/// A member paused or unpaused (Asterisk ≥ 12's name; older ones said QueueMemberPaused).
struct queue_member_paused {
  static constexpr std::string_view name = "QueueMemberPause";
  std::string queue, member_name, interface, reason;
  bool paused = false;
  static queue_member_paused from(const proto::ami::message& m);
};
/// A member removed from a queue.
struct queue_member_removed {
  static constexpr std::string_view name = "QueueMemberRemoved";
  std::string queue, member_name, interface;
  static queue_member_removed from(const proto::ami::message& m);
};
/// Asterisk is up and has loaded everything.
struct fully_booted {
  static constexpr std::string_view name = "FullyBooted";
  std::string status;
  static fully_booted from(const proto::ami::message& m);
};
/// A module (or everything) was reloaded.
struct reload {
  static constexpr std::string_view name = "Reload";
  std::string module, status, message;
  static reload from(const proto::ami::message& m);
};
/// Asterisk is shutting down ("Cleanly", "Uncleanly"); `restart` when it comes back.
struct shutdown {
  static constexpr std::string_view name = "Shutdown";
  std::string shutdown_kind;
  bool restart = false;
  static shutdown from(const proto::ami::message& m);
};
/// An RTCP report received on a channel's RTP (call quality).
struct rtcp_received {
  static constexpr std::string_view name = "RTCPReceived";
  std::string channel, source, fraction_lost, ia_jitter, dlsr;  ///< source: the `From` address
  int packets_lost = -1;
  static rtcp_received from(const proto::ami::message& m);
};
/// An RTCP report sent on a channel's RTP.
struct rtcp_sent {
  static constexpr std::string_view name = "RTCPSent";
  std::string channel, to, fraction_lost, ia_jitter, dlsr;
  int sent_packets = -1, cumulative_loss = -1;
  static rtcp_sent from(const proto::ami::message& m);
};

// ---- ConfBridge and MeetMe events.

struct confbridge_start {
  static constexpr std::string_view name = "ConfbridgeStart";
  std::string conference;
  static confbridge_start from(const proto::ami::message& m);
};
struct confbridge_end {
  static constexpr std::string_view name = "ConfbridgeEnd";
  std::string conference;
  static confbridge_end from(const proto::ami::message& m);
};
/// A participant joined a conference.
struct confbridge_join {
  static constexpr std::string_view name = "ConfbridgeJoin";
  std::string conference, channel, uniqueid, caller_id_num, caller_id_name;
  static confbridge_join from(const proto::ami::message& m);
};
/// A participant left a conference.
struct confbridge_leave {
  static constexpr std::string_view name = "ConfbridgeLeave";
  std::string conference, channel, uniqueid, caller_id_num, caller_id_name;
  static confbridge_leave from(const proto::ami::message& m);
};
/// A participant started (`talking`) or stopped talking.
struct confbridge_talking {
  static constexpr std::string_view name = "ConfbridgeTalking";
  std::string conference, channel, uniqueid;
  bool talking = false;
  static confbridge_talking from(const proto::ami::message& m);
};
/// A user joined a MeetMe conference.
struct meetme_join {
  static constexpr std::string_view name = "MeetmeJoin";
  std::string meetme, usernum, channel, uniqueid;
  static meetme_join from(const proto::ami::message& m);
};
/// A MeetMe user muted (`muted`) or unmuted.
struct meetme_mute {
  static constexpr std::string_view name = "MeetmeMute";
  std::string meetme, usernum, channel, uniqueid;
  bool muted = false;
  static meetme_mute from(const proto::ami::message& m);
};

}  // namespace costrix::ami::event

namespace costrix::ami {

/// The events of an event-list response that are `E`s (by name, as Asterisk
/// spells them case-insensitively), decoded, in order; others are skipped
/// (QueueStatus mixes QueueParams, QueueMember and QueueEntry).
///
///   auto r = co_await c.send(ami::core_show_channels{});
///   if (r) for (auto& ch : ami::items<ami::event::core_show_channel>(*r)) ...
template <event::typed_event E>
struct typed;

template <event::typed_event E>
std::vector<typed<E>> items(const response& r) {
  std::vector<typed<E>> out;
  for (const auto& m : r.events)
    if (proto::ami::iequals(m.name(), E::name)) out.emplace_back(m);
  return out;
}

/// A typed event with every header it came with: the struct's fields, and in
/// `headers` the whole message, so that nothing the struct does not model (a
/// newer Asterisk's header, a channel variable) is dropped. What items<E>()
/// and client::on<E>() give.
template <event::typed_event E>
struct typed : E {
  explicit typed(const proto::ami::message& m) : E(E::from(m)), headers(m) {}
  owned_message headers;
};

}  // namespace costrix::ami
