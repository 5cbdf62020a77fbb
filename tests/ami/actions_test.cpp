// AMI action descriptors without a connection: the bytes they write, compared
// with what was sent to a real Asterisk 22, and their replies decoded from
// what it answered (tests/data/transcripts/ami-session.json).
#include <costrix/ami/actions.hpp>
#include <costrix/ami/events.hpp>
#include <costrix/proto/ami/message_parser.hpp>

#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

namespace ami = costrix::ami;
namespace proto = costrix::proto::ami;
using costrix::errc;

namespace {

const std::map<std::string, costrix::test::transcript_step>& steps() {
  static const auto all = [] {
    std::map<std::string, costrix::test::transcript_step> m;
    for (auto& s : costrix::test::load_steps("ami-session.json")) m[s.step] = s;
    return m;
  }();
  return all;
}

template <class A>
std::string encoded(const A& a, std::string_view id) {
  std::string out;
  ami::writer w(out, std::string_view(a.name));
  a.write(w);
  auto r = w.finish(id);
  REQUIRE(r);
  return out;
}

// The messages of a step's received bytes.
std::vector<proto::owned_message> messages(std::string_view bytes) {
  proto::message_parser p({}, proto::message_parser::first::message);
  std::vector<proto::owned_message> out;
  std::string buffer(bytes);
  for (;;) {
    auto r = p.parse(buffer);
    REQUIRE(r);
    if (!*r) break;
    out.emplace_back((*r)->msg);
    buffer.erase(0, (*r)->consumed);
  }
  return out;
}

// The response of a step and the events with its ActionID, as the client gathers them.
ami::response response_of(const std::string& step) {
  auto ms = messages(steps().at(step).received);
  REQUIRE(!ms.empty());
  REQUIRE(ms[0].kind() == proto::message_kind::response);
  ami::response r{.status = ami::status_of(ms[0].name()), .fields = ms[0]};
  for (std::size_t i = 1; i < ms.size(); ++i) {
    if (ms[i].action_id() != ms[0].action_id()) continue;
    if (ms[i].get("EventList") == "Complete" || ms[i].name() == "OriginateResponse") r.last = ms[i];
    else r.events.push_back(ms[i]);
  }
  return r;
}

}  // namespace

TEST_CASE("ami actions write what was sent to a real Asterisk", "[ami][actions]") {
  CHECK(encoded(ami::ping{}, "ping-1") == steps().at("ping").sent);
  CHECK(encoded(ami::command{.line = "core show version"}, "cmd-1") == steps().at("command-core-show-version").sent);
  CHECK(encoded(ami::setvar{.variable = "GLOBALX", .value = "a b"}, "sv-1") == steps().at("setvar-global").sent);
  CHECK(encoded(ami::getvar{.variable = "GLOBALX"}, "gv-1") == steps().at("getvar-global").sent);
  CHECK(encoded(ami::db_put{.family = "fam", .key = "k", .value = "v 1"}, "dbp-1") == steps().at("dbput").sent);
  CHECK(encoded(ami::db_get{.family = "fam", .key = "k"}, "dbg-1") == steps().at("dbget").sent);
  CHECK(encoded(ami::core_show_channels{}, "csc-1") == steps().at("coreshowchannels-eventlist").sent);
  CHECK(encoded(ami::status{}, "st-1") == steps().at("status-eventlist").sent);
  CHECK(encoded(ami::core_status{}, "cs-1") == steps().at("corestatus").sent);
  CHECK(encoded(ami::hangup{.channel = "Local/nonexistent-0000;1"}, "h-1") == steps().at("hangup-missing-channel").sent);
  CHECK(encoded(ami::logoff{}, "lo-1") == steps().at("logoff").sent);
  CHECK(encoded(ami::events{.mask = "call"}, "ev-1") == steps().at("events-mask").sent);
  ami::raw login{"Login", {{"Username", "admin"}, {"Secret", "wordpass"}, {"Events", "off"}}};
  CHECK(encoded(login, "pl-1") == steps().at("login-plain-events-off").sent);
}

TEST_CASE("ami originate writes Async - variables and the ring timeout", "[ami][actions]") {
  ami::originate o{.channel = "Local/s@idle", .application = "Wait", .data = "5", .caller_id = "\"Dialer\" <5550100>",
                   .variables = {{"A", "1"}, {"B", "x=y"}}};
  CHECK(encoded(o, "orig-1") ==
        "Action: Originate\r\nChannel: Local/s@idle\r\nApplication: Wait\r\nData: 5\r\nTimeout: 30000\r\n"
        "CallerID: \"Dialer\" <5550100>\r\nVariable: A=1\r\nVariable: B=x=y\r\nAsync: true\r\nActionID: orig-1\r\n\r\n");
  CHECK(ami::detail::completion_event(o) == "OriginateResponse");
  o.async = false;
  CHECK(ami::detail::completion_event(o).empty());
}

TEST_CASE("ami typed replies decoded from a real Asterisk's answers", "[ami][actions]") {
  auto v = ami::getvar::decode(response_of("getvar-global"));
  REQUIRE(v);
  CHECK(*v == "a b");
  auto unset = ami::getvar::decode(response_of("getvar-unset"));
  REQUIRE(unset);
  CHECK(unset->empty());

  auto version = ami::command::decode(response_of("command-core-show-version"));
  REQUIRE(version);
  REQUIRE(version->size() == 1);
  CHECK((*version)[0].starts_with("Asterisk 22.10.1 built by root"));
  auto invalid = ami::command::decode(response_of("command-invalid"));
  REQUIRE(!invalid);
  CHECK(invalid.error() == errc::failed);
  CHECK(invalid.error().message.starts_with("No such command 'core show nosuchthing'"));

  auto db = ami::db_get::decode(response_of("dbget"));
  REQUIRE(db);
  CHECK(*db == "v 1");
  auto missing = ami::db_get::decode(response_of("dbget-missing"));
  REQUIRE(!missing);
  CHECK(missing.error() == errc::not_found);
  CHECK(missing.error().message == "Database entry not found");

  auto gone = ami::detail::decode<ami::hangup>(response_of("hangup-missing-channel"));
  REQUIRE(!gone);
  CHECK(gone.error() == errc::not_found);
  CHECK(gone.error().message == "No such channel");

  auto unknown = ami::detail::decode<ami::ping>(response_of("unknown-action"));
  REQUIRE(!unknown);
  CHECK(unknown.error() == errc::failed);

  auto bye = ami::detail::decode<ami::logoff>(response_of("logoff"));
  REQUIRE(bye);
  CHECK(bye->status == ami::response_status::goodbye);
  CHECK(bye->text() == "Thanks for all the fish.");

  auto answered = ami::originate::decode(response_of("originate-async-and-events"));
  REQUIRE(answered);
  CHECK(answered->answered);
  CHECK(answered->reason == 4);
  CHECK(answered->channel == "Local/s@idle-00000000;1");
  CHECK(answered->uniqueid == "1795416127.0");
  auto failed = ami::originate::decode(response_of("originate-async-failure"));
  REQUIRE(failed);
  CHECK(!failed->answered);
  CHECK(failed->reason == 0);
  CHECK(failed->uniqueid == "<unknown>");

  auto channels = response_of("coreshowchannels-eventlist");
  CHECK(channels.events.size() == 2);
  REQUIRE(channels.last);
  CHECK(channels.last->get("ListItems") == "2");
}

TEST_CASE("ami command reads Asterisk < 14's Response: Follows framing", "[ami][actions]") {
  auto ms = messages(
      "Response: Follows\r\nPrivilege: Command\r\nActionID: c-1\r\nline one\nline: two\n\n--END COMMAND--\r\n\r\n");
  REQUIRE(ms.size() == 1);
  ami::response r{.status = ami::status_of(ms[0].name()), .fields = ms[0]};
  CHECK(r.status == ami::response_status::follows);
  auto lines = ami::command::decode(std::move(r));
  REQUIRE(lines);
  REQUIRE(lines->size() >= 2);
  CHECK((*lines)[0] == "line one");
  CHECK((*lines)[1] == "line: two");
}

TEST_CASE("ami typed events decoded from a real Asterisk's events", "[ami][actions]") {
  auto ms = messages(steps().at("originate-async-and-events").received);
  int newchannels = 0;
  bool originate_response = false;
  for (const auto& m : ms) {
    if (m.name() == "Newchannel") {
      auto e = ami::event::newchannel::from(m);
      if (newchannels++ == 0) {
        CHECK(e.channel == "Local/s@idle-00000000;1");
        CHECK(e.state == 0);
        CHECK(e.uniqueid == "1795416127.0");
        CHECK(e.context == "idle");
      }
    }
    if (m.name() == "OriginateResponse") {
      auto e = ami::event::originate_response::from(m);
      CHECK(e.action_id == "orig-1");
      CHECK(e.response == "Success");
      CHECK(e.reason == 4);
      originate_response = true;
    }
  }
  CHECK(newchannels == 2);
  CHECK(originate_response);
  auto vs = messages(steps().at("setvar-global").received);
  REQUIRE(vs.size() == 2);
  auto v = ami::event::var_set::from(vs[1]);
  CHECK(v.channel == "none");
  CHECK(v.variable == "GLOBALX");
  CHECK(v.value == "a b");
}

TEST_CASE("ami actions: AGI for AsyncAGI writes what was sent to Asterisk", "[ami][actions][asyncagi]") {
  auto all = costrix::test::load_steps("asyncagi-session.json");
  std::vector<std::string> sent;
  for (const auto& s : all)
    if (s.sent.starts_with("Action: AGI\r\n")) sent.push_back(s.sent);
  REQUIRE(sent.size() >= 4);
  ami::agi_command answer{"Local/s@async-test-000000f0;2", "ANSWER", "cmd0"};
  CHECK(encoded(answer, "a0") == sent[0]);
  ami::agi_command set{"Local/s@async-test-000000f0;2", "SET VARIABLE X \"a b\"", "cmd3"};
  CHECK(encoded(set, "a3") == sent[3]);
}

TEST_CASE("ami typed event-list items decoded from a real Asterisk's lists", "[ami][actions][catalogue]") {
  auto channels = ami::items<ami::event::core_show_channel>(response_of("coreshowchannels-eventlist"));
  REQUIRE(channels.size() == 2);
  CHECK(channels[0].channel == "Local/s@idle-00000000;2");
  CHECK(channels[0].state == 6);
  CHECK(channels[0].state_desc == "Up");
  CHECK(channels[0].caller_id_num == "5550100");
  CHECK(channels[0].context == "idle");
  CHECK(channels[0].priority == 2);
  CHECK(channels[0].uniqueid == "1795416127.1");
  CHECK(channels[0].linkedid == "1795416127.0");
  CHECK(channels[0].application == "Wait");
  CHECK(channels[0].application_data == "60");
  CHECK(channels[0].duration == "00:00:03");
  CHECK(channels[0].bridge_id.empty());
  CHECK(channels[1].channel == "Local/s@idle-00000000;1");
  // Headers the struct does not model are kept beside it, never dropped.
  CHECK(channels[0].headers.get("AccountCode") == "");
  CHECK(channels[0].headers.get("ConnectedLineNum").has_value());
  CHECK(channels[0].headers.get("Language") == "en");
  CHECK(channels[0].headers.name() == "CoreShowChannel");

  auto status = ami::items<ami::event::status>(response_of("status-eventlist"));
  REQUIRE(status.size() == 2);
  CHECK(status[1].channel == "Local/s@idle-00000000;1");
  CHECK(status[1].type == "Local");
  CHECK(status[1].state == 6);
  CHECK(status[1].application == "Wait");
  CHECK(status[1].data == "5");
  CHECK(status[1].seconds == 4);
  CHECK(status[1].variables.empty());
  // The other lists' items are not among them.
  CHECK(ami::items<ami::event::core_show_channel>(response_of("status-eventlist")).empty());

  // Status with `Variables:` lists them as `Variable: name=value`.
  auto ms = messages("Event: Status\r\nChannel: PJSIP/1-01\r\nVariable: A=1\r\nVariable: B=x=y\r\n\r\n");
  REQUIRE(ms.size() == 1);
  auto s = ami::event::status::from(ms[0]);
  REQUIRE(s.variables.size() == 2);
  CHECK(s.variables[0] == std::pair<std::string, std::string>{"A", "1"});
  CHECK(s.variables[1] == std::pair<std::string, std::string>{"B", "x=y"});
}

TEST_CASE("ami typed events: queue - conference and system events - and older Asterisk's header names",
          "[ami][actions][catalogue]") {
  auto one = [](std::string_view text) {
    auto ms = messages(text);
    REQUIRE(ms.size() == 1);
    return ms[0];
  };
  // Asterisk < 12's QueueMember and ParkedCall.
  auto qm = ami::event::queue_member::from(one(
      "Event: QueueMember\r\nQueue: q\r\nMemberName: Ann\r\nLocation: SIP/100\r\nPenalty: 1\r\nPaused: 1\r\n\r\n"));
  CHECK(qm.member_name == "Ann");
  CHECK(qm.interface == "SIP/100");
  CHECK(qm.paused);
  auto pc = ami::event::parked_call::from(
      one("Event: ParkedCall\r\nExten: 701\r\nChannel: SIP/100-01\r\nFrom: SIP/200-02\r\nTimeout: 40\r\n\r\n"));
  CHECK(pc.parkee_channel == "SIP/100-01");
  CHECK(pc.parking_space == "701");
  CHECK(pc.parker_dial_string == "SIP/200-02");
  CHECK(pc.timeout == 40);
  auto added = ami::event::queue_member_added::from(
      one("Event: QueueMemberAdded\r\nQueue: q\r\nMemberName: Bob\r\nInterface: PJSIP/101\r\nPaused: 0\r\n\r\n"));
  CHECK(added.interface == "PJSIP/101");
  CHECK(!added.paused);
  auto talk = ami::event::confbridge_talking::from(
      one("Event: ConfbridgeTalking\r\nConference: 1000\r\nChannel: A\r\nTalkingStatus: on\r\n\r\n"));
  CHECK(talk.talking);
  auto mute = ami::event::meetme_mute::from(
      one("Event: MeetmeMute\r\nMeetme: 600\r\nUsernum: 2\r\nStatus: off\r\n\r\n"));
  CHECK(mute.usernum == "2");
  CHECK(!mute.muted);
  auto down = ami::event::shutdown::from(one("Event: Shutdown\r\nShutdown: Cleanly\r\nRestart: True\r\n\r\n"));
  CHECK(down.shutdown_kind == "Cleanly");
  CHECK(down.restart);
  auto dahdi = ami::event::dahdi_show_channel::from(
      one("Event: DAHDIShowChannels\r\nDAHDIChannel: 2\r\nDND: Disabled\r\nSignalling: FXO Loopstart\r\n\r\n"));
  CHECK(dahdi.dahdi_channel == "2");
  CHECK(!dahdi.dnd);
  auto agi = ami::event::agi_exec::from(one(
      "Event: AGIExec\r\nChannel: A\r\nSubEvent: End\r\nCommandId: 7\r\nResult: Success\r\nResultCode: 200\r\n\r\n"));
  CHECK(agi.sub_event == "End");
  CHECK(agi.result_code == 200);
  // The DBGet transcript's item.
  auto db = ami::items<ami::event::db_get_response>(response_of("dbget"));
  REQUIRE(db.size() == 1);
  CHECK(db[0].family == "fam");
  CHECK(db[0].value == "v 1");
}
