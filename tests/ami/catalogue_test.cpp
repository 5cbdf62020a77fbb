// The AMI catalogue: every descriptor's bytes (one row per descriptor), and
// one event-list action per module answered by the simulator and read with
// ami::items<E>().
#include <costrix/ami/actions.hpp>
#include <costrix/ami/events.hpp>

#include "fixture.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ami = costrix::ami;
using namespace std::chrono_literals;

namespace {

struct row {
  std::string name;
  std::string got;
  std::string want;
};

// "Name|Key: Value|..." as Asterisk reads it, with ActionID `t`.
std::string frame(std::string_view compact) {
  std::string out = "Action: ";
  for (;;) {
    auto bar = compact.find('|');
    out.append(compact.substr(0, bar)).append("\r\n");
    if (bar == std::string_view::npos) break;
    compact.remove_prefix(bar + 1);
  }
  return out + "ActionID: t\r\n\r\n";
}

template <ami::action_descriptor A>
row bytes(const A& a, std::string_view want) {
  std::string out;
  ami::writer w(out, std::string_view(a.name));
  a.write(w);
  auto done = w.finish("t");
  if (!done) out = "refused: " + done.error().message;
  return {std::string(a.name), std::move(out), frame(want)};
}

}  // namespace

TEST_CASE("ami catalogue: each descriptor writes its action's headers", "[ami][actions][catalogue]") {
  using std::chrono::milliseconds;
  const std::vector<row> table = {
      // Core: the connection and the system.
      bytes(ami::ping{}, "Ping"),
      bytes(ami::logoff{}, "Logoff"),
      bytes(ami::login{.username = "admin", .secret = "s", .events = "off"}, "Login|Username: admin|Secret: s|Events: off"),
      bytes(ami::challenge{}, "Challenge|AuthType: MD5"),
      bytes(ami::events{.mask = "call,agent"}, "Events|EventMask: call,agent"),
      bytes(ami::filter{.expression = "Event: Newchannel"}, "Filter|Operation: Add|Filter: Event: Newchannel"),
      bytes(ami::core_status{}, "CoreStatus"),
      bytes(ami::core_settings{}, "CoreSettings"),
      bytes(ami::list_commands{}, "ListCommands"),
      bytes(ami::command{.line = "sip show peers"}, "Command|Command: sip show peers"),
      bytes(ami::reload{}, "Reload"),
      bytes(ami::reload{.module = "chan_pjsip.so"}, "Reload|Module: chan_pjsip.so"),
      bytes(ami::module_check{.module = "app_queue"}, "ModuleCheck|Module: app_queue"),
      bytes(ami::module_load{.module = "app_queue.so"}, "ModuleLoad|Module: app_queue.so|LoadType: load"),
      bytes(ami::module_reload{}, "ModuleLoad|LoadType: reload"),
      bytes(ami::module_unload{.module = "app_queue.so"}, "ModuleLoad|Module: app_queue.so|LoadType: unload"),
      bytes(ami::user_event{.event = "Tick", .headers = {{"N", "1"}}}, "UserEvent|UserEvent: Tick|N: 1"),
      // Core: configuration.
      bytes(ami::list_categories{.filename = "sip.conf"}, "ListCategories|Filename: sip.conf"),
      bytes(ami::get_config{.filename = "queues.conf", .category = "sales"},
            "GetConfig|Filename: queues.conf|Category: sales"),
      bytes(ami::update_config{.src_filename = "a.conf", .dst_filename = "b.conf",
                               .changes = {{.action = "NewCat", .category = "x"},
                                           {.action = "Append", .category = "x", .variable = "k", .value = "v"}},
                               .reload = "yes"},
            "UpdateConfig|SrcFilename: a.conf|DstFilename: b.conf|Reload: yes|Action-000000: NewCat|Cat-000000: x"
            "|Action-000001: Append|Cat-000001: x|Var-000001: k|Value-000001: v"),
      bytes(ami::create_config{.filename = "new.conf"}, "CreateConfig|Filename: new.conf"),
      // Core: variables and AstDB.
      bytes(ami::setvar{.channel = "PJSIP/1-01", .variable = "X", .value = "1"},
            "Setvar|Channel: PJSIP/1-01|Variable: X|Value: 1"),
      bytes(ami::getvar{.variable = "X"}, "Getvar|Variable: X"),
      bytes(ami::db_get{.family = "f", .key = "k"}, "DBGet|Family: f|Key: k"),
      bytes(ami::db_put{.family = "f", .key = "k", .value = "v"}, "DBPut|Family: f|Key: k|Val: v"),
      bytes(ami::db_del{.family = "f", .key = "k"}, "DBDel|Family: f|Key: k"),
      bytes(ami::db_del_tree{.family = "f"}, "DBDelTree|Family: f"),
      bytes(ami::db_del_tree{.family = "f", .key = "sub"}, "DBDelTree|Family: f|Key: sub"),
      // Core: channels and calls.
      bytes(ami::status{.channel = "PJSIP/1-01", .variables = "A,B"}, "Status|Channel: PJSIP/1-01|Variables: A,B"),
      bytes(ami::core_show_channels{}, "CoreShowChannels"),
      bytes(ami::hangup{.channel = "PJSIP/1-01", .cause = 16}, "Hangup|Channel: PJSIP/1-01|Cause: 16"),
      bytes(ami::absolute_timeout{.channel = "PJSIP/1-01", .timeout = 60},
            "AbsoluteTimeout|Channel: PJSIP/1-01|Timeout: 60"),
      bytes(ami::redirect{.channel = "PJSIP/1-01", .context = "c", .exten = "200"},
            "Redirect|Channel: PJSIP/1-01|Exten: 200|Context: c|Priority: 1"),
      bytes(ami::atxfer{.channel = "PJSIP/1-01", .exten = "300", .context = "c"},
            "Atxfer|Channel: PJSIP/1-01|Exten: 300|Context: c"),
      bytes(ami::blind_transfer{.channel = "PJSIP/1-01", .exten = "300"}, "BlindTransfer|Channel: PJSIP/1-01|Exten: 300"),
      bytes(ami::bridge{.channel1 = "A", .channel2 = "B", .tone = true}, "Bridge|Channel1: A|Channel2: B|Tone: yes"),
      bytes(ami::park{.channel = "A", .timeout = milliseconds(45000)}, "Park|Channel: A|Timeout: 45000"),
      bytes(ami::parked_calls{.parkinglot = "default"}, "ParkedCalls|ParkingLot: default"),
      bytes(ami::play_dtmf{.channel = "A", .digit = '5', .duration = milliseconds(200)},
            "PlayDTMF|Channel: A|Digit: 5|Duration: 200"),
      bytes(ami::send_text{.channel = "A", .message = "hi there"}, "SendText|Channel: A|Message: hi there"),
      bytes(ami::mute_audio{.channel = "A", .direction = "in"}, "MuteAudio|Channel: A|Direction: in|State: on"),
      bytes(ami::set_cdr_user_field{.channel = "A", .user_field = "u", .append = true},
            "SetCDRUserField|Channel: A|UserField: u|Append: true"),
      bytes(ami::local_optimize_away{.channel = "Local/1@c-01;1"}, "LocalOptimizeAway|Channel: Local/1@c-01;1"),
      bytes(ami::agi_command{.channel = "A", .command = "ANSWER", .command_id = "c1"},
            "AGI|Channel: A|Command: ANSWER|CommandID: c1"),
      // Core: recording.
      bytes(ami::monitor{.channel = "A", .file = "call", .format = "wav", .mix = true},
            "Monitor|Channel: A|File: call|Format: wav|Mix: true"),
      bytes(ami::change_monitor{.channel = "A", .file = "other"}, "ChangeMonitor|Channel: A|File: other"),
      bytes(ami::pause_monitor{.channel = "A"}, "PauseMonitor|Channel: A"),
      bytes(ami::unpause_monitor{.channel = "A"}, "UnpauseMonitor|Channel: A"),
      bytes(ami::stop_monitor{.channel = "A"}, "StopMonitor|Channel: A"),
      bytes(ami::mix_monitor{.channel = "A", .file = "a.wav", .options = "b"},
            "MixMonitor|Channel: A|File: a.wav|Options: b"),
      bytes(ami::mix_monitor_mute{.channel = "A", .direction = "read"},
            "MixMonitorMute|Channel: A|Direction: read|State: 1"),
      bytes(ami::stop_mix_monitor{.channel = "A"}, "StopMixMonitor|Channel: A"),
      // Core: dialplan, hints, device states.
      bytes(ami::show_dialplan{.context = "default"}, "ShowDialPlan|Context: default"),
      bytes(ami::extension_state{.exten = "100", .context = "hints"}, "ExtensionState|Exten: 100|Context: hints"),
      bytes(ami::presence_state{.provider = "CustomPresence:bob"}, "PresenceState|Provider: CustomPresence:bob"),
      bytes(ami::device_state_list{}, "DeviceStateList"),
      bytes(ami::mailbox_count{.mailbox = "100@default"}, "MailboxCount|Mailbox: 100@default"),
      bytes(ami::mailbox_status{.mailbox = "100@default"}, "MailboxStatus|Mailbox: 100@default"),
      bytes(ami::voicemail_users_list{}, "VoicemailUsersList"),
      // Queues.
      bytes(ami::queue_status{.queue = "sales"}, "QueueStatus|Queue: sales"),
      bytes(ami::queue_summary{}, "QueueSummary"),
      bytes(ami::queue_add{.queue = "sales", .interface = "PJSIP/100", .member_name = "Ann", .penalty = 2, .paused = true},
            "QueueAdd|Queue: sales|Interface: PJSIP/100|MemberName: Ann|Penalty: 2|Paused: true"),
      bytes(ami::queue_remove{.queue = "sales", .interface = "PJSIP/100"},
            "QueueRemove|Queue: sales|Interface: PJSIP/100"),
      bytes(ami::queue_pause{.interface = "PJSIP/100", .paused = false},
            "QueuePause|Interface: PJSIP/100|Paused: false"),
      bytes(ami::queue_penalty{.interface = "PJSIP/100", .penalty = 3, .queue = "sales"},
            "QueuePenalty|Interface: PJSIP/100|Penalty: 3|Queue: sales"),
      bytes(ami::queue_log{.queue = "sales", .event = "CUSTOM", .uniqueid = "1.2", .message = "m"},
            "QueueLog|Queue: sales|Event: CUSTOM|UniqueId: 1.2|Message: m"),
      bytes(ami::queue_reload{.queue = "sales", .members = true}, "QueueReload|Queue: sales|Members: yes"),
      bytes(ami::queue_reset{.queue = "sales"}, "QueueReset|Queue: sales"),
      bytes(ami::queue_rule{}, "QueueRule"),
      // Bridges.
      bytes(ami::bridge_list{.bridge_type = "basic"}, "BridgeList|BridgeType: basic"),
      bytes(ami::bridge_info{.bridge_uniqueid = "b1"}, "BridgeInfo|BridgeUniqueid: b1"),
      bytes(ami::bridge_kick{.channel = "A", .bridge_uniqueid = "b1"}, "BridgeKick|BridgeUniqueid: b1|Channel: A"),
      bytes(ami::bridge_destroy{.bridge_uniqueid = "b1"}, "BridgeDestroy|BridgeUniqueid: b1"),
      // PJSIP and SIP.
      bytes(ami::pjsip_show_endpoints{}, "PJSIPShowEndpoints"),
      bytes(ami::pjsip_show_endpoint{.endpoint = "100"}, "PJSIPShowEndpoint|Endpoint: 100"),
      bytes(ami::pjsip_qualify{.endpoint = "100"}, "PJSIPQualify|Endpoint: 100"),
      bytes(ami::sip_peers{}, "SIPpeers"),
      bytes(ami::sip_show_peer{.peer = "100"}, "SIPshowpeer|Peer: 100"),
      bytes(ami::sip_qualify{.peer = "100"}, "SIPqualify|Peer: 100"),
      bytes(ami::sip_show_registry{}, "SIPshowregistry"),
      bytes(ami::sip_notify{.channel = "SIP/100", .variables = {{"Event", "check-sync"}}},
            "SIPnotify|Channel: SIP/100|Variable: Event=check-sync"),
      // DAHDI.
      bytes(ami::dahdi_show_channels{}, "DAHDIShowChannels"),
      bytes(ami::dahdi_show_channels{.channel = "3"}, "DAHDIShowChannels|DAHDIChannel: 3"),
      bytes(ami::dahdi_dnd_on{.channel = "3"}, "DAHDIDNDon|DAHDIChannel: 3"),
      bytes(ami::dahdi_dnd_off{.channel = "3"}, "DAHDIDNDoff|DAHDIChannel: 3"),
      bytes(ami::dahdi_dial_offhook{.channel = "3", .number = "555"}, "DAHDIDialOffhook|DAHDIChannel: 3|Number: 555"),
      bytes(ami::dahdi_hangup{.channel = "3"}, "DAHDIHangup|DAHDIChannel: 3"),
      bytes(ami::dahdi_transfer{.channel = "3"}, "DAHDITransfer|DAHDIChannel: 3"),
      bytes(ami::dahdi_restart{}, "DAHDIRestart"),
      // ConfBridge.
      bytes(ami::confbridge_list{.conference = "1000"}, "ConfbridgeList|Conference: 1000"),
      bytes(ami::confbridge_list_rooms{}, "ConfbridgeListRooms"),
      bytes(ami::confbridge_kick{.conference = "1000", .channel = "all"}, "ConfbridgeKick|Conference: 1000|Channel: all"),
      bytes(ami::confbridge_mute{.conference = "1000", .channel = "A"}, "ConfbridgeMute|Conference: 1000|Channel: A"),
      bytes(ami::confbridge_unmute{.conference = "1000", .channel = "A"},
            "ConfbridgeUnmute|Conference: 1000|Channel: A"),
      bytes(ami::confbridge_lock{.conference = "1000"}, "ConfbridgeLock|Conference: 1000"),
      bytes(ami::confbridge_unlock{.conference = "1000"}, "ConfbridgeUnlock|Conference: 1000"),
      bytes(ami::confbridge_start_record{.conference = "1000", .record_file = "/tmp/c.wav"},
            "ConfbridgeStartRecord|Conference: 1000|RecordFile: /tmp/c.wav"),
      bytes(ami::confbridge_stop_record{.conference = "1000"}, "ConfbridgeStopRecord|Conference: 1000"),
      bytes(ami::confbridge_set_single_video_src{.conference = "1000", .channel = "A"},
            "ConfbridgeSetSingleVideoSrc|Conference: 1000|Channel: A"),
      // MeetMe.
      bytes(ami::meetme_list{}, "MeetmeList"),
      bytes(ami::meetme_list{.conference = "600"}, "MeetmeList|Conference: 600"),
      bytes(ami::meetme_list_rooms{}, "MeetmeListRooms"),
      bytes(ami::meetme_mute{.meetme = "600", .usernum = "2"}, "MeetmeMute|Meetme: 600|Usernum: 2"),
      bytes(ami::meetme_unmute{.meetme = "600", .usernum = "2"}, "MeetmeUnmute|Meetme: 600|Usernum: 2"),
      // Originate.
      bytes(ami::originate{.channel = "PJSIP/100", .context = "c", .exten = "200", .priority = "1"},
            "Originate|Channel: PJSIP/100|Context: c|Exten: 200|Priority: 1|Timeout: 30000|Async: true"),
  };
  for (const auto& r : table) {
    INFO(r.name);
    CHECK(r.got == r.want);
  }
}

TEST_CASE("ami catalogue: ExtensionState and MailboxCount replies are typed", "[ami][catalogue]") {
  using ami_test::awaitable;
  ami_test::fixture f;
  f.server.srv.rule("ExtensionState", {.response = costrix::sim::ami_fields{
                                           {"Response", "Success"}, {"Message", "Extension Status"}, {"Exten", "100"},
                                           {"Context", "hints"}, {"Hint", "PJSIP/100"}, {"Status", "1"},
                                           {"StatusText", "InUse"}}});
  f.server.srv.rule("MailboxCount", {.response = costrix::sim::ami_fields{
                                         {"Response", "Success"}, {"Message", "Mailbox Message Count"},
                                         {"Mailbox", "100@default"}, {"UrgMessages", "0"}, {"NewMessages", "3"},
                                         {"OldMessages", "7"}}});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    ami::extension_state es{.exten = "100", .context = "hints"};
    auto state = co_await f.client.send(std::move(es));
    REQUIRE(state);
    CHECK(state->status == 1);
    CHECK(state->status_text == "InUse");
    CHECK(state->hint == "PJSIP/100");
    ami::mailbox_count mc{.mailbox = "100@default"};
    auto counts = co_await f.client.send(std::move(mc));
    REQUIRE(counts);
    CHECK(counts->urgent == 0);
    CHECK(counts->new_messages == 3);
    CHECK(counts->old_messages == 7);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami catalogue: an event-list action per module - answered by the simulator - read with items<E>()",
          "[ami][catalogue]") {
  using ami_test::awaitable;
  ami_test::fixture f;
  auto& srv = f.server.srv;
  srv.rule("CoreShowChannels",
           {.events = {{{"Event", "CoreShowChannel"}, {"Channel", "PJSIP/100-01"}, {"ChannelState", "6"},
                        {"ChannelStateDesc", "Up"}, {"Priority", "3"}, {"Duration", "00:01:02"}}},
            .list_complete = "CoreShowChannelsComplete"});
  srv.rule("QueueStatus", {.events = {{{"Event", "QueueParams"}, {"Queue", "sales"}, {"Calls", "1"},
                                       {"Strategy", "ringall"}},
                                      {{"Event", "QueueMember"}, {"Queue", "sales"}, {"Name", "Ann"},
                                       {"Location", "PJSIP/100"}, {"Penalty", "2"}, {"Paused", "1"}, {"Status", "1"}},
                                      {{"Event", "QueueMember"}, {"Queue", "sales"}, {"Name", "Bob"},
                                       {"Location", "PJSIP/101"}, {"Paused", "0"}},
                                      {{"Event", "QueueEntry"}, {"Queue", "sales"}, {"Position", "1"},
                                       {"Channel", "PJSIP/200-02"}, {"Wait", "12"}}},
                           .list_complete = "QueueStatusComplete"});
  srv.rule("BridgeList", {.events = {{{"Event", "BridgeListItem"}, {"BridgeUniqueid", "b-1"},
                                      {"BridgeType", "basic"}, {"BridgeNumChannels", "2"}}},
                          .list_complete = "BridgeListComplete"});
  srv.rule("PJSIPShowEndpoints", {.events = {{{"Event", "EndpointList"}, {"ObjectName", "100"},
                                              {"DeviceState", "Not in use"}, {"ActiveChannels", "0"}},
                                             {{"Event", "EndpointList"}, {"ObjectName", "101"},
                                              {"DeviceState", "Unavailable"}, {"ActiveChannels", ""}}},
                                  .list_complete = "EndpointListComplete"});
  srv.rule("SIPpeers", {.events = {{{"Event", "PeerEntry"}, {"Channeltype", "SIP"}, {"ObjectName", "300"},
                                    {"IPaddress", "10.0.0.3"}, {"Dynamic", "yes"}, {"Status", "OK (5 ms)"}}},
                        .list_complete = "PeerlistComplete"});
  srv.rule("DAHDIShowChannels", {.events = {{{"Event", "DAHDIShowChannels"}, {"DAHDIChannel", "1"},
                                             {"Signalling", "FXS Kewlstart"}, {"DND", "Enabled"}, {"Alarm", "No Alarm"}}},
                                 .list_complete = "DAHDIShowChannelsComplete"});
  srv.rule("ConfbridgeList", {.events = {{{"Event", "ConfbridgeList"}, {"Conference", "1000"},
                                          {"Channel", "PJSIP/100-01"}, {"Admin", "Yes"}, {"Muted", "No"}}},
                              .list_complete = "ConfbridgeListComplete"});
  srv.rule("MeetmeList", {.events = {{{"Event", "MeetmeList"}, {"Conference", "600"}, {"UserNumber", "2"},
                                      {"Channel", "DAHDI/1-1"}, {"Muted", "By admin"}, {"Talking", "Yes"}}},
                          .list_complete = "MeetmeListComplete"});

  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);

    ami::core_show_channels csc;
    auto channels = co_await f.client.send(std::move(csc));
    REQUIRE(channels);
    auto ch = ami::items<ami::event::core_show_channel>(*channels);
    REQUIRE(ch.size() == 1);
    CHECK(ch[0].channel == "PJSIP/100-01");
    CHECK(ch[0].state == 6);
    CHECK(ch[0].priority == 3);
    CHECK(ch[0].duration == "00:01:02");

    ami::queue_status qs{.queue = "sales"};
    auto queue = co_await f.client.send(std::move(qs));
    REQUIRE(queue);
    auto params = ami::items<ami::event::queue_params>(*queue);
    auto members = ami::items<ami::event::queue_member>(*queue);
    auto entries = ami::items<ami::event::queue_entry>(*queue);
    REQUIRE(params.size() == 1);
    CHECK(params[0].calls == 1);
    CHECK(params[0].strategy == "ringall");
    REQUIRE(members.size() == 2);
    CHECK(members[0].member_name == "Ann");
    CHECK(members[0].interface == "PJSIP/100");
    CHECK(members[0].penalty == 2);
    CHECK(members[0].paused);
    CHECK(!members[1].paused);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].channel == "PJSIP/200-02");
    CHECK(entries[0].wait == 12);

    ami::bridge_list bl;
    auto bridges = co_await f.client.send(std::move(bl));
    REQUIRE(bridges);
    auto b = ami::items<ami::event::bridge_list_item>(*bridges);
    REQUIRE(b.size() == 1);
    CHECK(b[0].bridge_uniqueid == "b-1");
    CHECK(b[0].num_channels == 2);

    ami::pjsip_show_endpoints pe;
    auto endpoints = co_await f.client.send(std::move(pe));
    REQUIRE(endpoints);
    auto e = ami::items<ami::event::endpoint_list>(*endpoints);
    REQUIRE(e.size() == 2);
    CHECK(e[0].object_name == "100");
    CHECK(e[0].active_channels == 0);
    CHECK(e[1].device_state == "Unavailable");
    CHECK(e[1].active_channels == -1);

    ami::sip_peers sp;
    auto peers = co_await f.client.send(std::move(sp));
    REQUIRE(peers);
    auto p = ami::items<ami::event::peer_entry>(*peers);
    REQUIRE(p.size() == 1);
    CHECK(p[0].object_name == "300");
    CHECK(p[0].dynamic);
    CHECK(p[0].status == "OK (5 ms)");

    ami::dahdi_show_channels ds;
    auto dahdi = co_await f.client.send(std::move(ds));
    REQUIRE(dahdi);
    auto d = ami::items<ami::event::dahdi_show_channel>(*dahdi);
    REQUIRE(d.size() == 1);
    CHECK(d[0].dahdi_channel == "1");
    CHECK(d[0].signalling == "FXS Kewlstart");

    ami::confbridge_list cl{.conference = "1000"};
    auto conf = co_await f.client.send(std::move(cl));
    REQUIRE(conf);
    auto c = ami::items<ami::event::confbridge_list>(*conf);
    REQUIRE(c.size() == 1);
    CHECK(c[0].conference == "1000");
    CHECK(c[0].admin);
    CHECK(!c[0].muted);

    ami::meetme_list ml;
    auto meetme = co_await f.client.send(std::move(ml));
    REQUIRE(meetme);
    auto m = ami::items<ami::event::meetme_list>(*meetme);
    REQUIRE(m.size() == 1);
    CHECK(m[0].user_number == "2");
    CHECK(m[0].talking);

    // Items of another type are not among them.
    CHECK(ami::items<ami::event::queue_member>(*meetme).empty());
    co_await f.shutdown();
  }());
}
