// ami actions as data: one small descriptor per action, sent by client::send().
#pragma once

#include <costrix/ami/response.hpp>
#include <costrix/proto/ami/action.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace costrix::ami {

using writer = proto::ami::action_writer;
using headers = std::vector<std::pair<std::string, std::string>>;

/// What client::send() takes: a `name`, and `write()`, which writes the
/// action's headers (the ActionID is the client's). Optionally:
///   - `using reply_type = T;` and `static result<T> decode(response&&)`:
///     the typed reply (default: the `response`, an unsuccessful one as its error);
///   - `std::string_view completion_event() const`: the action completes on
///     that event (carrying its ActionID) after a successful response.
/// A descriptor owns its values: it is moved to the client's thread.
template <class A>
concept action_descriptor = std::movable<A> && requires(const A& a, writer& w) {
  std::string_view(a.name);
  a.write(w);
};

namespace detail {
template <class A>
struct reply_of {
  using type = response;
};
template <class A>
  requires requires { typename A::reply_type; }
struct reply_of<A> {
  using type = typename A::reply_type;
};
}  // namespace detail

template <class A>
using reply_t = typename detail::reply_of<A>::type;

/// An action the catalogue does not model: sent as given, answered with the
/// response as it came (an `Error` response is a value, not an error).
struct raw {
  std::string name;
  ami::headers headers = {};
  std::string completion_event_name = {};  ///< wait for this event after the response (optional)

  raw& add(std::string_view key, std::string_view value) {
    headers.emplace_back(key, value);
    return *this;
  }
  void write(writer& w) const;
  std::string_view completion_event() const noexcept { return completion_event_name; }
  static result<response> decode(response&& r) { return std::move(r); }
};

// ---- the catalogue, by module. Empty strings and unset optionals are not
// sent. "Reply" is what send() gives: `response` unless a type is named; an
// event list's items are in `response::events` (ami::items<E>() types them).

// Core: the connection.

/// Ping; reply: `Response: Success` with `Ping: Pong`.
struct ping {
  static constexpr std::string_view name = "Ping";
  void write(writer&) const {}
};
/// Ends the session; reply: `Response: Goodbye`.
struct logoff {
  static constexpr std::string_view name = "Logoff";
  void write(writer&) const {}
};
/// Logs in with a plain secret (the client logs itself in; this is for raw use).
struct login {
  static constexpr std::string_view name = "Login";
  std::string username, secret;
  std::string events = {};  ///< the initial event mask ("off", "call,agent")
  void write(writer& w) const;
};
/// Asks for an MD5 challenge; reply: the challenge string.
struct challenge {
  static constexpr std::string_view name = "Challenge";
  std::string auth_type = "MD5";
  void write(writer& w) const;
  using reply_type = std::string;
  static result<std::string> decode(response&& r);
};
/// The event mask of this connection: "on", "off", or classes ("call,agent").
struct events {
  static constexpr std::string_view name = "Events";
  std::string mask = "on";
  void write(writer& w) const;
};
/// Adds an event filter to this connection ("Event: Newchannel", "!Channel: Local/.*").
struct filter {
  static constexpr std::string_view name = "Filter";
  std::string expression;
  std::string operation = "Add";
  void write(writer& w) const;
};

// Core: the system.

/// Uptime, reload time, call count; reply: headers (CoreStartupTime, CoreCurrentCalls...).
struct core_status {
  static constexpr std::string_view name = "CoreStatus";
  void write(writer&) const {}
};
/// Versions and limits; reply: headers (AsteriskVersion, CoreMaxCalls...).
struct core_settings {
  static constexpr std::string_view name = "CoreSettings";
  void write(writer&) const {}
};
/// The actions this connection may use; reply: one header per action.
struct list_commands {
  static constexpr std::string_view name = "ListCommands";
  void write(writer&) const {}
};
/// A CLI command; its output lines, in either framing (Asterisk ≥ 14's
/// `Output:` headers, older `Response: Follows` bodies). An unknown command is
/// `errc::failed` with the CLI's words.
struct command {
  static constexpr std::string_view name = "Command";
  std::string line;  ///< "core show channels"
  void write(writer& w) const;
  using reply_type = std::vector<std::string>;
  static result<std::vector<std::string>> decode(response&& r);
};
/// Reloads one module, or all; reply: response.
struct reload {
  static constexpr std::string_view name = "Reload";
  std::string module = {};
  void write(writer& w) const;
};
/// Whether a module is loaded; reply: response (`Version`), an error when not loaded.
struct module_check {
  static constexpr std::string_view name = "ModuleCheck";
  std::string module;
  void write(writer& w) const;
};
/// Loads, unloads or reloads a module (`load_type`: "load", "unload", "reload"); reply: response.
struct module_load {
  static constexpr std::string_view name = "ModuleLoad";
  std::string module = {};  ///< empty with "reload": every module
  std::string load_type = "load";
  void write(writer& w) const;
};
/// ModuleLoad with `LoadType: reload`; reply: response.
struct module_reload {
  static constexpr std::string_view name = "ModuleLoad";
  std::string module = {};
  void write(writer& w) const;
};
/// ModuleLoad with `LoadType: unload`; reply: response.
struct module_unload {
  static constexpr std::string_view name = "ModuleLoad";
  std::string module;
  void write(writer& w) const;
};
/// Raises `Event: UserEvent` with `UserEvent: <event>` and the headers given; reply: response.
struct user_event {
  static constexpr std::string_view name = "UserEvent";
  std::string event;
  ami::headers headers = {};
  void write(writer& w) const;
};

// Core: configuration files.

/// The categories of a configuration file; reply: headers `Category-000000: general`...
struct list_categories {
  static constexpr std::string_view name = "ListCategories";
  std::string filename;
  void write(writer& w) const;
};
/// A configuration file's lines; reply: headers `Category-000000`, `Line-000000-000000`...
struct get_config {
  static constexpr std::string_view name = "GetConfig";
  std::string filename;
  std::string category = {}, filter = {};
  void write(writer& w) const;
};
/// One change of an UpdateConfig: `action` is NewCat, RenameCat, DelCat, EmptyCat, Update, Delete, Append or Insert.
struct config_change {
  std::string action, category;
  std::string variable = {}, value = {}, match = {};
};
/// Edits a configuration file (read from `src`, written to `dst`); reply: response.
struct update_config {
  static constexpr std::string_view name = "UpdateConfig";
  std::string src_filename, dst_filename;
  std::vector<config_change> changes;
  std::string reload = {};  ///< "yes", or a module to reload afterwards
  void write(writer& w) const;
};
/// Creates an empty configuration file; reply: response.
struct create_config {
  static constexpr std::string_view name = "CreateConfig";
  std::string filename;
  void write(writer& w) const;
};

// Core: variables and AstDB.

/// Sets a channel variable, or a global one when `channel` is empty; reply: response.
struct setvar {
  static constexpr std::string_view name = "Setvar";
  std::string channel = {};
  std::string variable, value;
  void write(writer& w) const;
};
/// The value of a variable or function (empty when unset, as Asterisk answers).
struct getvar {
  static constexpr std::string_view name = "Getvar";
  std::string channel = {};
  std::string variable;
  void write(writer& w) const;
  using reply_type = std::string;
  static result<std::string> decode(response&& r);
};
/// The value stored under family/key; `errc::not_found` when there is none.
struct db_get {
  static constexpr std::string_view name = "DBGet";
  std::string family, key;
  void write(writer& w) const;
  using reply_type = std::string;
  static result<std::string> decode(response&& r);
};
/// Stores a value under family/key; reply: response.
struct db_put {
  static constexpr std::string_view name = "DBPut";
  std::string family, key, value;
  void write(writer& w) const;
};
/// Deletes family/key; reply: response (`errc::not_found`-like error when absent).
struct db_del {
  static constexpr std::string_view name = "DBDel";
  std::string family, key;
  void write(writer& w) const;
};
/// Deletes a family, or the keys under family/key; reply: response.
struct db_del_tree {
  static constexpr std::string_view name = "DBDelTree";
  std::string family;
  std::string key = {};
  void write(writer& w) const;
};

// Core: channels and calls.

/// Event list of `Status` events (event::status): every channel, or the one named.
struct status {
  static constexpr std::string_view name = "Status";
  std::string channel = {};
  std::string variables = {};  ///< comma-separated variables to include
  void write(writer& w) const;
};
/// Event list of `CoreShowChannel` events (event::core_show_channel).
struct core_show_channels {
  static constexpr std::string_view name = "CoreShowChannels";
  void write(writer&) const {}
};
/// Hangs up a channel; reply: response ("No such channel" is `errc::not_found`).
struct hangup {
  static constexpr std::string_view name = "Hangup";
  std::string channel;  ///< a name, or a regular expression between slashes
  std::optional<int> cause = {};
  void write(writer& w) const;
};
/// Hangs a channel up after `timeout` seconds (0 cancels); reply: response.
struct absolute_timeout {
  static constexpr std::string_view name = "AbsoluteTimeout";
  std::string channel;
  int timeout = 0;
  void write(writer& w) const;
};
/// Sends a channel (and optionally a second one) to a dialplan location; reply: response.
struct redirect {
  static constexpr std::string_view name = "Redirect";
  std::string channel, context, exten;
  std::string priority = "1";
  std::string extra_channel = {}, extra_context = {}, extra_exten = {}, extra_priority = {};
  void write(writer& w) const;
};
/// Attended transfer of `channel`'s peer to exten@context; reply: response.
struct atxfer {
  static constexpr std::string_view name = "Atxfer";
  std::string channel, exten;
  std::string context = {};
  void write(writer& w) const;
};
/// Blind transfer of `channel`'s peer to exten@context; reply: response.
struct blind_transfer {
  static constexpr std::string_view name = "BlindTransfer";
  std::string channel, exten;
  std::string context = {};
  void write(writer& w) const;
};
/// Bridges two channels; reply: response.
struct bridge {
  static constexpr std::string_view name = "Bridge";
  std::string channel1, channel2;
  bool tone = false;  ///< play a courtesy tone to channel2
  void write(writer& w) const;
};
/// Parks a channel; reply: response.
struct park {
  static constexpr std::string_view name = "Park";
  std::string channel;
  std::string timeout_channel = {}, announce_channel = {}, parkinglot = {};
  std::optional<std::chrono::milliseconds> timeout = {};
  void write(writer& w) const;
};
/// Event list of `ParkedCall` events (event::parked_call).
struct parked_calls {
  static constexpr std::string_view name = "ParkedCalls";
  std::string parkinglot = {};
  void write(writer& w) const;
};
/// Sends a DTMF digit to a channel; reply: response.
struct play_dtmf {
  static constexpr std::string_view name = "PlayDTMF";
  std::string channel;
  char digit = '0';
  std::optional<std::chrono::milliseconds> duration = {};
  bool receive = false;
  void write(writer& w) const;
};
/// Sends text to a channel (SIP MESSAGE and the like); reply: response.
struct send_text {
  static constexpr std::string_view name = "SendText";
  std::string channel, message;
  void write(writer& w) const;
};
/// Mutes a channel's audio: `direction` "in", "out" or "all"; reply: response.
struct mute_audio {
  static constexpr std::string_view name = "MuteAudio";
  std::string channel;
  std::string direction = "all";
  bool mute = true;
  void write(writer& w) const;
};
/// Sets (or appends to) the CDR's userfield (removed in Asterisk 12; use Setvar CDR(userfield)); reply: response.
struct set_cdr_user_field {
  static constexpr std::string_view name = "SetCDRUserField";
  std::string channel, user_field;
  bool append = false;
  void write(writer& w) const;
};
/// Optimizes away a Local channel pair; reply: response.
struct local_optimize_away {
  static constexpr std::string_view name = "LocalOptimizeAway";
  std::string channel;
  void write(writer& w) const;
};
/// One AGI command for a channel in `AGI(agi:async)`: Asterisk queues it and
/// answers in the channel's `AsyncAGIExec` event with the same `CommandID`.
/// ami::async_agi sends these for an agi::session.
struct agi_command {
  static constexpr std::string_view name = "AGI";
  std::string channel, command, command_id;
  void write(writer& w) const;
};

// Core: recording.

/// Records a channel (legacy Monitor); reply: response.
struct monitor {
  static constexpr std::string_view name = "Monitor";
  std::string channel;
  std::string file = {}, format = {};
  bool mix = false;
  void write(writer& w) const;
};
/// Changes a Monitor's file name; reply: response.
struct change_monitor {
  static constexpr std::string_view name = "ChangeMonitor";
  std::string channel, file;
  void write(writer& w) const;
};
/// Pauses a Monitor recording; reply: response.
struct pause_monitor {
  static constexpr std::string_view name = "PauseMonitor";
  std::string channel;
  void write(writer& w) const;
};
/// Resumes a paused Monitor recording; reply: response.
struct unpause_monitor {
  static constexpr std::string_view name = "UnpauseMonitor";
  std::string channel;
  void write(writer& w) const;
};
/// Stops a Monitor recording; reply: response.
struct stop_monitor {
  static constexpr std::string_view name = "StopMonitor";
  std::string channel;
  void write(writer& w) const;
};
/// Records a channel, mixed (MixMonitor); reply: response (`MixMonitorID`).
struct mix_monitor {
  static constexpr std::string_view name = "MixMonitor";
  std::string channel, file;
  std::string options = {}, command = {};
  void write(writer& w) const;
};
/// Mutes (or unmutes) what a MixMonitor records: `direction` "read", "write" or "both"; reply: response.
struct mix_monitor_mute {
  static constexpr std::string_view name = "MixMonitorMute";
  std::string channel;
  std::string direction = "both";
  bool mute = true;
  void write(writer& w) const;
};
/// Stops a MixMonitor; reply: response.
struct stop_mix_monitor {
  static constexpr std::string_view name = "StopMixMonitor";
  std::string channel;
  std::string mixmonitor_id = {};
  void write(writer& w) const;
};

// Core: dialplan, hints and device states.

/// Event list of `ListDialplan` events (event::list_dialplan).
struct show_dialplan {
  static constexpr std::string_view name = "ShowDialPlan";
  std::string extension = {}, context = {};
  void write(writer& w) const;
};
/// A hint's state, as ExtensionState answers it.
struct extension_status {
  /// -1 no such hint, 0 idle, 1 in use, 2 busy, 4 unavailable, 8 ringing, 16 on hold (bits combine).
  int status = -1;
  std::string status_text;  ///< "Idle", "InUse"...
  std::string hint;         ///< "PJSIP/100"
};
/// A hint's state; reply: extension_status.
struct extension_state {
  static constexpr std::string_view name = "ExtensionState";
  std::string exten, context;
  void write(writer& w) const;
  using reply_type = extension_status;
  static result<extension_status> decode(response&& r);
};
/// A presence provider's state; reply: response (`State`, `Subtype`, `Message`).
struct presence_state {
  static constexpr std::string_view name = "PresenceState";
  std::string provider;  ///< "CustomPresence:bob"
  void write(writer& w) const;
};
/// Event list of `DeviceStateChange` events (event::device_state_change).
struct device_state_list {
  static constexpr std::string_view name = "DeviceStateList";
  void write(writer&) const {}
};
/// A mailbox's message counts (-1 when Asterisk leaves one out).
struct mailbox_counts {
  int urgent = -1, new_messages = -1, old_messages = -1;
};
/// A mailbox's message counts; reply: mailbox_counts.
struct mailbox_count {
  static constexpr std::string_view name = "MailboxCount";
  std::string mailbox;  ///< "100@default"
  void write(writer& w) const;
  using reply_type = mailbox_counts;
  static result<mailbox_counts> decode(response&& r);
};
/// Whether a mailbox has messages waiting; reply: response (`Waiting`).
struct mailbox_status {
  static constexpr std::string_view name = "MailboxStatus";
  std::string mailbox;
  void write(writer& w) const;
};
/// Event list of `VoicemailUserEntry` events (event::voicemail_user_entry).
struct voicemail_users_list {
  static constexpr std::string_view name = "VoicemailUsersList";
  void write(writer&) const {}
};

// Queues (app_queue).

/// Event list of `QueueParams`, `QueueMember` and `QueueEntry` events
/// (event::queue_params, queue_member, queue_entry), for one queue or all.
struct queue_status {
  static constexpr std::string_view name = "QueueStatus";
  std::string queue = {}, member = {};
  void write(writer& w) const;
};
/// Event list of `QueueSummary` events (event::queue_summary).
struct queue_summary {
  static constexpr std::string_view name = "QueueSummary";
  std::string queue = {};
  void write(writer& w) const;
};
/// Adds a member to a queue; reply: response.
struct queue_add {
  static constexpr std::string_view name = "QueueAdd";
  std::string queue, interface;
  std::string member_name = {}, state_interface = {};
  std::optional<int> penalty = {};
  bool paused = false;
  void write(writer& w) const;
};
/// Removes a member from a queue; reply: response.
struct queue_remove {
  static constexpr std::string_view name = "QueueRemove";
  std::string queue, interface;
  void write(writer& w) const;
};
/// Pauses (or unpauses) a member, in one queue or all; reply: response.
struct queue_pause {
  static constexpr std::string_view name = "QueuePause";
  std::string interface;
  bool paused = true;
  std::string queue = {}, reason = {};
  void write(writer& w) const;
};
/// Sets a member's penalty, in one queue or all; reply: response.
struct queue_penalty {
  static constexpr std::string_view name = "QueuePenalty";
  std::string interface;
  int penalty = 0;
  std::string queue = {};
  void write(writer& w) const;
};
/// Writes a line to queue_log; reply: response.
struct queue_log {
  static constexpr std::string_view name = "QueueLog";
  std::string queue, event;
  std::string uniqueid = {}, interface = {}, message = {};
  void write(writer& w) const;
};
/// Reloads queues.conf parts (members, rules, parameters; all when none is set); reply: response.
struct queue_reload {
  static constexpr std::string_view name = "QueueReload";
  std::string queue = {};
  bool members = false, rules = false, parameters = false;
  void write(writer& w) const;
};
/// Resets a queue's statistics (all queues when empty); reply: response.
struct queue_reset {
  static constexpr std::string_view name = "QueueReset";
  std::string queue = {};
  void write(writer& w) const;
};
/// The penalty rules (one, or all); reply: response with `RuleList` and `Rule` headers.
struct queue_rule {
  static constexpr std::string_view name = "QueueRule";
  std::string rule = {};
  void write(writer& w) const;
};

// Bridges (Asterisk ≥ 12).

/// Event list of `BridgeListItem` events (event::bridge_list_item).
struct bridge_list {
  static constexpr std::string_view name = "BridgeList";
  std::string bridge_type = {};
  void write(writer& w) const;
};
/// Event list of `BridgeInfoChannel` events; the bridge itself is in `last` (BridgeInfoComplete).
struct bridge_info {
  static constexpr std::string_view name = "BridgeInfo";
  std::string bridge_uniqueid;
  void write(writer& w) const;
};
/// Removes a channel from its bridge (or the one named); reply: response.
struct bridge_kick {
  static constexpr std::string_view name = "BridgeKick";
  std::string channel;
  std::string bridge_uniqueid = {};
  void write(writer& w) const;
};
/// Destroys a bridge, removing its channels; reply: response.
struct bridge_destroy {
  static constexpr std::string_view name = "BridgeDestroy";
  std::string bridge_uniqueid;
  void write(writer& w) const;
};

// PJSIP (chan_pjsip).

/// Event list of `EndpointList` events (event::endpoint_list).
struct pjsip_show_endpoints {
  static constexpr std::string_view name = "PJSIPShowEndpoints";
  void write(writer&) const {}
};
/// Event list of one endpoint's `EndpointDetail`, `AorDetail`, `AuthDetail`,
/// `ContactStatusDetail`... events (read them by name from `events`).
struct pjsip_show_endpoint {
  static constexpr std::string_view name = "PJSIPShowEndpoint";
  std::string endpoint;
  void write(writer& w) const;
};
/// Qualifies an endpoint's contacts; reply: response.
struct pjsip_qualify {
  static constexpr std::string_view name = "PJSIPQualify";
  std::string endpoint;
  void write(writer& w) const;
};

// SIP (chan_sip, removed in Asterisk 21).

/// Event list of `PeerEntry` events (event::peer_entry).
struct sip_peers {
  static constexpr std::string_view name = "SIPpeers";
  void write(writer&) const {}
};
/// One peer's settings; reply: response (headers `ObjectName`, `Status`, `Address-IP`...).
struct sip_show_peer {
  static constexpr std::string_view name = "SIPshowpeer";
  std::string peer;
  void write(writer& w) const;
};
/// Qualifies a peer; reply: response.
struct sip_qualify {
  static constexpr std::string_view name = "SIPqualify";
  std::string peer;
  void write(writer& w) const;
};
/// Event list of `RegistryEntry` events (event::registry_entry).
struct sip_show_registry {
  static constexpr std::string_view name = "SIPshowregistry";
  void write(writer&) const {}
};
/// Sends a SIP NOTIFY to a peer's channel, with `variables` as its headers; reply: response.
struct sip_notify {
  static constexpr std::string_view name = "SIPnotify";
  std::string channel;
  ami::headers variables = {};  ///< {header, value}: `Variable: Event=check-sync`
  void write(writer& w) const;
};

// DAHDI (chan_dahdi). `channel` is the DAHDI channel number.

/// Event list of `DAHDIShowChannels` events (event::dahdi_show_channel).
struct dahdi_show_channels {
  static constexpr std::string_view name = "DAHDIShowChannels";
  std::string channel = {};
  void write(writer& w) const;
};
/// Sets Do Not Disturb on a channel; reply: response.
struct dahdi_dnd_on {
  static constexpr std::string_view name = "DAHDIDNDon";
  std::string channel;
  void write(writer& w) const;
};
/// Clears Do Not Disturb on a channel; reply: response.
struct dahdi_dnd_off {
  static constexpr std::string_view name = "DAHDIDNDoff";
  std::string channel;
  void write(writer& w) const;
};
/// Dials a number on an off-hook channel; reply: response.
struct dahdi_dial_offhook {
  static constexpr std::string_view name = "DAHDIDialOffhook";
  std::string channel, number;
  void write(writer& w) const;
};
/// Hangs up a channel; reply: response.
struct dahdi_hangup {
  static constexpr std::string_view name = "DAHDIHangup";
  std::string channel;
  void write(writer& w) const;
};
/// Transfers a channel (hook flash); reply: response.
struct dahdi_transfer {
  static constexpr std::string_view name = "DAHDITransfer";
  std::string channel;
  void write(writer& w) const;
};
/// Restarts DAHDI, dropping every call; reply: response.
struct dahdi_restart {
  static constexpr std::string_view name = "DAHDIRestart";
  void write(writer&) const {}
};

// ConfBridge (app_confbridge).

/// Event list of `ConfbridgeList` events (event::confbridge_list): a conference's users.
struct confbridge_list {
  static constexpr std::string_view name = "ConfbridgeList";
  std::string conference;
  void write(writer& w) const;
};
/// Event list of `ConfbridgeListRooms` events (event::confbridge_list_rooms).
struct confbridge_list_rooms {
  static constexpr std::string_view name = "ConfbridgeListRooms";
  void write(writer&) const {}
};
/// Kicks a channel ("all", "participants") from a conference; reply: response.
struct confbridge_kick {
  static constexpr std::string_view name = "ConfbridgeKick";
  std::string conference, channel;
  void write(writer& w) const;
};
/// Mutes a channel ("all", "participants") in a conference; reply: response.
struct confbridge_mute {
  static constexpr std::string_view name = "ConfbridgeMute";
  std::string conference, channel;
  void write(writer& w) const;
};
/// Unmutes a channel in a conference; reply: response.
struct confbridge_unmute {
  static constexpr std::string_view name = "ConfbridgeUnmute";
  std::string conference, channel;
  void write(writer& w) const;
};
/// Locks a conference (no one joins); reply: response.
struct confbridge_lock {
  static constexpr std::string_view name = "ConfbridgeLock";
  std::string conference;
  void write(writer& w) const;
};
/// Unlocks a conference; reply: response.
struct confbridge_unlock {
  static constexpr std::string_view name = "ConfbridgeUnlock";
  std::string conference;
  void write(writer& w) const;
};
/// Starts recording a conference (to `record_file`, or the bridge profile's); reply: response.
struct confbridge_start_record {
  static constexpr std::string_view name = "ConfbridgeStartRecord";
  std::string conference;
  std::string record_file = {};
  void write(writer& w) const;
};
/// Stops recording a conference; reply: response.
struct confbridge_stop_record {
  static constexpr std::string_view name = "ConfbridgeStopRecord";
  std::string conference;
  void write(writer& w) const;
};
/// Makes a channel the single video source; reply: response.
struct confbridge_set_single_video_src {
  static constexpr std::string_view name = "ConfbridgeSetSingleVideoSrc";
  std::string conference, channel;
  void write(writer& w) const;
};

// MeetMe (app_meetme, removed in Asterisk 21).

/// Event list of `MeetmeList` events (event::meetme_list): the users of one conference or all.
struct meetme_list {
  static constexpr std::string_view name = "MeetmeList";
  std::string conference = {};
  void write(writer& w) const;
};
/// Event list of `MeetmeListRooms` events (event::meetme_list_rooms).
struct meetme_list_rooms {
  static constexpr std::string_view name = "MeetmeListRooms";
  void write(writer&) const {}
};
/// Mutes a user (by number) of a conference; reply: response.
struct meetme_mute {
  static constexpr std::string_view name = "MeetmeMute";
  std::string meetme, usernum;
  void write(writer& w) const;
};
/// Unmutes a user of a conference; reply: response.
struct meetme_unmute {
  static constexpr std::string_view name = "MeetmeUnmute";
  std::string meetme, usernum;
  void write(writer& w) const;
};

// Originate.

/// How an originated call ended up: OriginateResponse's fields.
struct originate_result {
  bool answered = false;  ///< `Response: Success`
  /// 0 failed, 1 hung up, 3 ringing but no answer, 4 answered, 5 busy, 8 congestion.
  int reason = 0;
  std::string channel;
  std::string uniqueid;  ///< "<unknown>" when no channel was created
};

/// Originate. With `async` (the default) it completes on the OriginateResponse
/// event that carries its ActionID (the connection's events must include the
/// `call` class). A refused action (`Response: Error`) is an error carrying
/// Asterisk's Message. Either `application` (+`data`) or `context`/`exten`/`priority`.
struct originate {
  static constexpr std::string_view name = "Originate";
  std::string channel;
  std::string context = {}, exten = {}, priority = {};
  std::string application = {}, data = {};
  std::chrono::milliseconds timeout{30'000};  ///< how long to ring
  std::string caller_id = {};                 ///< `"Name" <number>`
  ami::headers variables = {};                ///< {name, value} pairs
  std::string account = {}, codecs = {}, channel_id = {}, other_channel_id = {};
  bool early_media = false;
  bool async = true;
  void write(writer& w) const;
  std::string_view completion_event() const noexcept { return async ? "OriginateResponse" : ""; }
  using reply_type = originate_result;
  static result<originate_result> decode(response&& r);
};

namespace detail {
template <class A>
result<reply_t<A>> decode(response&& r) {
  if constexpr (requires { A::decode(std::move(r)); }) return A::decode(std::move(r));
  else return expect_ok(std::move(r));
}
template <class A>
std::string_view completion_event(const A& a) {
  if constexpr (requires { a.completion_event(); }) return a.completion_event();
  else return {};
}
}  // namespace detail

}  // namespace costrix::ami
