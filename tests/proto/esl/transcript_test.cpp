// Replays the real FreeSWITCH 1.11 Event Socket transcripts (../shared/transcripts)
// through the codec: every message FreeSWITCH sent, read whole, byte by byte and
// in random pieces, every event decoded, and every command the client sent,
// encoded byte for byte.
#include <costrix/proto/esl/command.hpp>
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>

#include "feed.hpp"
#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::esl;
namespace esl = costrix::proto::esl;  // exit, connect, linger: also C library names
using costrix::test::load_steps;
using costrix::test::transcript_step;
using costrix::test::esl::feed;
using costrix::test::esl::stored;
using costrix::test::esl::wire;

namespace {

constexpr const char* files[] = {"esl-inbound.json", "esl-outbound-async.json", "esl-outbound-sync.json"};

std::string joined(const std::vector<transcript_step>& steps) {
  std::string s;
  for (const auto& st : steps) s += wire(st.received);
  return s;
}

// The stream read whole, one byte at a time and in random pieces from a buffer
// that moves: every reading gives the same messages, and every event decodes.
std::vector<stored> read_every_way(std::string_view stream) {
  message_parser whole_parser;
  event_decoder decoder;
  std::size_t events = 0;
  auto whole = feed(whole_parser, stream, {}, false, [&](const message& m) {
    CHECK(m.type() != content_type::none);
    CHECK(m.type() != content_type::other);
    if (m.type() == content_type::event_plain || m.type() == content_type::event_json || m.has_event_headers()) {
      auto e = decoder.decode(m);
      INFO((e ? std::string{} : e.error().what()));
      REQUIRE(e);
      CHECK_FALSE(e->name().empty());
      CHECK_FALSE(e->headers().empty());
      ++events;
    }
  });
  REQUIRE_FALSE(whole.error);
  CHECK(whole.left == 0);
  CHECK(events > 0);

  message_parser bytewise;
  auto one = feed(bytewise, stream, [] { return std::size_t{1}; });
  REQUIRE_FALSE(one.error);
  CHECK(one.left == 0);
  CHECK(one.messages == whole.messages);

  for (unsigned seed : {1u, 2u, 3u, 42u, 2026u}) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, seed % 2 ? 64 : 3000);
    message_parser p;
    auto pieces = feed(
        p, stream, [&] { return size(rng); }, true);
    INFO("seed " << seed);
    REQUIRE_FALSE(pieces.error);
    CHECK(pieces.left == 0);
    CHECK(pieces.messages == whole.messages);
  }
  return std::move(whole.messages);
}

// The messages of each step, read step by step on one parser.
std::map<std::string, std::vector<stored>> by_step(const std::vector<transcript_step>& steps) {
  message_parser p;
  std::map<std::string, std::vector<stored>> out;
  for (const auto& s : steps) {
    auto r = feed(p, wire(s.received));
    INFO("step " << s.step);
    REQUIRE_FALSE(r.error);
    CHECK(r.left == 0);  // every step's bytes end with a complete message
    out[s.step] = std::move(r.messages);
  }
  return out;
}

// The events of a step, decoded and kept.
std::vector<owned_event> events_of(const std::vector<stored>& messages) {
  std::vector<owned_event> out;
  event_decoder d;
  for (const auto& m : messages) {
    if (m.type == content_type::event_plain) out.emplace_back(*d.decode_plain(m.body));
    if (m.type == content_type::event_json) out.emplace_back(*d.decode_json(m.body));
  }
  return out;
}

std::size_t count_named(const std::vector<owned_event>& es, std::string_view name) {
  return static_cast<std::size_t>(
      std::count_if(es.begin(), es.end(), [&](const event& e) { return e.name() == name; }));
}

// A stored message seen as a message again (its views into the stored copy).
struct view {
  std::vector<header> hs;
  std::string text;
  message m;
};

}  // namespace

TEST_CASE("transcripts esl: every message - whole - byte by byte and in pieces", "[proto][esl][transcript]") {
  for (const char* f : files) {
    INFO(f);
    auto steps = load_steps(f);
    auto all = read_every_way(joined(steps));
    CHECK(all.size() >= 6);
  }
}

TEST_CASE("transcript esl-inbound: the messages of each step", "[proto][esl][transcript]") {
  const auto steps = load_steps("esl-inbound.json");
  REQUIRE(steps.size() == 32);
  auto m = by_step(steps);

  SECTION("auth/request, a wrong password, a command before auth, auth") {
    REQUIRE(m["banner"].size() == 1);
    CHECK(m["banner"][0].type == content_type::auth_request);
    CHECK(m["banner"][0].headers.size() == 1);
    CHECK(m["banner"][0].body.empty());
    const auto& wrong = m["auth-wrong-password"];
    REQUIRE(wrong.size() == 2);
    CHECK(wrong[0].type == content_type::command_reply);
    CHECK(wrong[0].get("Reply-Text") == "-ERR invalid");
    CHECK(wrong[1].type == content_type::disconnect_notice);
    CHECK(wrong[1].body == "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n");
    CHECK(m["command-before-auth"].at(0).get("Reply-Text") == "-ERR command not found");
    CHECK(m["auth"].at(0).get("Reply-Text") == "+OK accepted");
  }
  SECTION("api/response bodies") {
    const auto& status = m["api-status"].at(0);
    CHECK(status.type == content_type::api_response);
    CHECK(status.body.size() == 335);
    CHECK(status.body.starts_with("UP 0 years, 0 days"));
    CHECK(status.body.ends_with("Current Stack Size/Max 240K/8192K\n"));
    CHECK(m["api-unknown-command"].at(0).body == "-ERR no_such_command Command not found!\n");
    CHECK(m["api-show-channels-empty"].at(0).body == "\n0 total.\n");
    CHECK(m["api-show-channels-json"].at(0).body == "{\"row_count\": 0}\n");
    CHECK(m["api-global-getvar"].at(0).body == "vm");  // no trailing newline
    CHECK(m["api-eval"].at(0).body == "-ERR no reply\n");
    CHECK(m["api-uuid-getvar"].at(0).body == "a%20b");  // an api body is not URL-decoded
    CHECK(m["api-uuid-dump-subset"].at(0).body == "true");
  }
  SECTION("bgapi and BACKGROUND_JOB") {
    const auto& un = m["bgapi-unsubscribed"];
    REQUIRE(un.size() == 1);
    CHECK(un[0].get("Reply-Text") == "+OK Job-UUID: 83e5db54-78a8-482f-a5ab-c9fb846cf48e");
    CHECK(un[0].get("Job-UUID") == "83e5db54-78a8-482f-a5ab-c9fb846cf48e");

    const auto& job = m["bgapi-with-job-uuid"];
    REQUIRE(job.size() == 2);
    CHECK(job[0].get("Job-UUID") == "11111111-2222-3333-4444-555555555555");
    auto es = events_of(job);
    REQUIRE(es.size() == 1);
    const auto& e = es[0];
    CHECK(e.name() == "BACKGROUND_JOB");
    CHECK(e.get("Job-UUID") == "11111111-2222-3333-4444-555555555555");
    CHECK(e.get("Job-Command") == "status");
    CHECK(e.get("Content-Length") == "336");
    CHECK(e.get("FreeSWITCH-IPv6") == "fd00::2");
    CHECK(e.get("Event-Date-GMT") == "Mon, 23 Nov 2026 10:28:54 GMT");
    CHECK(e.body().size() == 336);
    CHECK(e.body().starts_with("UP 0 years, 0 days, 0 hours, 0 minutes, 15 seconds"));
    CHECK(e.subclass().empty());

    auto failing = events_of(m["bgapi-failing-command"]);
    REQUIRE(failing.size() == 1);
    CHECK(failing[0].get("Job-Command") == "no_such_command");
    CHECK(failing[0].body() == "-ERR no_such_command Command not found!\n");
  }
  SECTION("api originate: its reply among its events") {
    const auto& o = m["originate-loopback-park"];
    REQUIRE(o.size() == 9);
    CHECK(o[0].type == content_type::api_response);
    CHECK(o[0].body == "+OK 439ffc6d-12a3-4d52-a9d9-c5a6b1369020\n");
    auto es = events_of(o);
    REQUIRE(es.size() == 8);
    CHECK(count_named(es, "CHANNEL_CREATE") == 2);
    CHECK(count_named(es, "CHANNEL_ANSWER") == 2);
    CHECK(es[0].get("Caller-Caller-ID-Name") == "Dialer");
    CHECK(es[0].get("Caller-Callee-ID-Name") == "Outbound Call");
    CHECK(es[0].get("Unique-ID") == "439ffc6d-12a3-4d52-a9d9-c5a6b1369020");
    auto tagged =
        std::find_if(es.begin(), es.end(), [](const event& e) { return e.get("variable_costrix_tag").has_value(); });
    REQUIRE(tagged != es.end());
    CHECK(tagged->get("variable_costrix_tag") == "a b");

    auto kill = events_of(m["uuid-kill"]);
    CHECK(count_named(kill, "CHANNEL_HANGUP") == 2);
    CHECK(count_named(kill, "CHANNEL_HANGUP_COMPLETE") == 2);
    CHECK(kill[0].get("Hangup-Cause") == "NORMAL_CLEARING");
    CHECK(m["originate-failure"].at(0).body == "-ERR NO_ROUTE_DESTINATION\n");
  }
  SECTION("event-json: the same accessors") {
    const auto& j = m["bgapi-originate-json-events"];
    REQUIRE(j.size() == 18);
    CHECK(j[0].get("Job-UUID") == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    auto es = events_of(j);
    REQUIRE(es.size() == 17);
    CHECK(es[0].name() == "CHANNEL_CREATE");
    CHECK(es[0].get("Caller-Callee-ID-Name") == "Outbound Call");  // JSON values are not URL-encoded
    CHECK(es[0].get("FreeSWITCH-IPv6") == "fd00::2");
    auto job = std::find_if(es.begin(), es.end(), [](const event& e) { return e.name() == "BACKGROUND_JOB"; });
    REQUIRE(job != es.end());
    CHECK(job->get("Job-UUID") == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    CHECK(job->get("Job-Command-Arg") == "loopback/9004/default &park()");
    CHECK(job->body() == "+OK 27b08ccf-a175-416c-8732-c34ad82c6937\n");
    CHECK_FALSE(job->get("_body"));
  }
  SECTION("command replies") {
    CHECK(m["event-plain-subscribe"].at(0).get("Reply-Text") == "+OK event listener enabled plain");
    CHECK(m["sendevent-custom"].at(0).get("Reply-Text") == "+OK ad1115d3-1091-4793-9d1c-8dd6f047a37a");
    CHECK(m["event-json-subscribe"].at(0).get("Reply-Text") == "+OK event listener enabled json");
    CHECK(m["noevents"].at(0).get("Reply-Text") == "+OK no longer listening for events");
    CHECK(m["filter-add"].at(0).get("Reply-Text") == "+OK filter added. [Event-Name]=[HEARTBEAT]");
    CHECK(m["filter-delete"].at(0).get("Reply-Text") == "+OK filter deleted. [Event-Name][HEARTBEAT]");
    CHECK(m["nixevent"].at(0).get("Reply-Text") == "+OK events nixed");
    CHECK(m["unknown-command"].at(0).get("Reply-Text") == "-ERR command not found");
    const auto& bye = m["exit"];
    REQUIRE(bye.size() == 2);
    CHECK(bye[0].get("Reply-Text") == "+OK bye");
    CHECK(bye[1].type == content_type::disconnect_notice);
  }
}

TEST_CASE("transcript esl-inbound: ok() - reply_text() and job_uuid() on the wire's messages",
          "[proto][esl][transcript]") {
  const auto steps = load_steps("esl-inbound.json");
  std::map<std::string, std::string> got;
  for (const auto& s : steps) got[s.step] = wire(s.received);
  auto first = [&](const std::string& step, auto&& check) {
    message_parser p;
    auto r = p.parse(got.at(step));
    REQUIRE(r);
    REQUIRE(*r);
    check((*r)->msg);
  };
  first("auth", [](const message& m) {
    CHECK(m.ok());
    CHECK(m.reply_text() == "+OK accepted");
  });
  first("auth-wrong-password", [](const message& m) {
    CHECK_FALSE(m.ok());
    CHECK(m.reply_text() == "-ERR invalid");
  });
  first("api-status", [](const message& m) {
    CHECK(m.ok());
    CHECK(m.reply_text() == m.body());
  });
  first("api-unknown-command", [](const message& m) { CHECK_FALSE(m.ok()); });
  first("bgapi-unsubscribed", [](const message& m) {
    CHECK(m.ok());
    CHECK(m.job_uuid() == "83e5db54-78a8-482f-a5ab-c9fb846cf48e");
  });
  first("banner", [](const message& m) {
    CHECK_FALSE(m.ok());
    CHECK(m.reply_text().empty());
    CHECK_FALSE(m.has_event_headers());
  });
}

TEST_CASE("transcript esl-outbound: the connect reply is the channel's data", "[proto][esl][transcript]") {
  for (const char* f : {"esl-outbound-async.json", "esl-outbound-sync.json"}) {
    INFO(f);
    const auto steps = load_steps(f);
    REQUIRE(steps[1].step == "connect");
    message_parser p;
    std::string bytes = wire(steps[1].received);
    auto r = p.parse(bytes);
    REQUIRE(r);
    REQUIRE(*r);
    const message& m = (*r)->msg;
    CHECK((*r)->consumed == bytes.size());
    CHECK(m.type() == content_type::command_reply);
    CHECK(m.ok());                             // Reply-Text: %2BOK%0A
    CHECK(m.get("Reply-Text") == "%2BOK%0A");  // headers are as sent
    CHECK(m.has_event_headers());
    event_decoder d;
    auto e = d.decode(m);
    REQUIRE(e);
    CHECK(e->name() == "CHANNEL_DATA");
    CHECK(e->get("Reply-Text") == "+OK\n");
    CHECK(e->get("Channel-Callee-ID-Name") == "Outbound Call");
    CHECK(e->get("Control") == "full");
    CHECK(e->get("Event-Date-GMT")->ends_with(" GMT"));
    CHECK(e->get("variable_current_application") == "socket");
    CHECK(e->get("Socket-Mode") == (std::string_view{f} == "esl-outbound-async.json" ? "async" : "static"));
    CHECK(e->body().empty());
  }
}

TEST_CASE("transcript esl-outbound-async: execute - DTMF and linger", "[proto][esl][transcript]") {
  const auto steps = load_steps("esl-outbound-async.json");
  auto m = by_step(steps);
  CHECK(m["accepted-nothing-sent-yet"].empty());
  CHECK(m["myevents"].at(0).get("Reply-Text") == "+OK Events Enabled");
  CHECK(m["linger"].at(0).get("Reply-Text") == "+OK will linger");

  auto pb = events_of(m["execute-playback-tone"]);
  REQUIRE(pb.size() == 2);
  CHECK(pb[0].name() == "CHANNEL_EXECUTE");
  CHECK(pb[0].get("Application-UUID") == "pb-0001");  // the Event-UUID the client sent
  CHECK(pb[0].get("Application") == "playback");
  CHECK(pb[1].name() == "CHANNEL_EXECUTE_COMPLETE");
  CHECK(pb[1].get("Application-Data") == "tone_stream://%(400,0,440)");

  auto pagd = events_of(m["execute-play-and-get-digits-with-dtmf"]);
  REQUIRE(pagd.size() == 5);
  std::string digits;
  for (const auto& e : pagd)
    if (e.name() == "DTMF") digits += *e.get("DTMF-Digit");
  CHECK(digits == "12#");  // '#' arrives as %23
  CHECK(pagd.back().get("variable_pagd_digits") == "12");

  auto loops = events_of(m["execute-with-loops"]);
  REQUIRE(loops.size() == 2);
  CHECK(loops[0].get("Application-Data") == "silence_stream://100");

  CHECK(m["bad-call-command"].at(0).get("Reply-Text") == "+OK");
  CHECK(m["nomedia-on-answered"].at(0).get("Reply-Text") == "+OK");

  const auto& missing = m["execute-missing-application-hangs-up"];
  auto hang = events_of(missing);
  REQUIRE(hang.size() == 6);
  CHECK(hang[0].name() == "CHANNEL_HANGUP");
  CHECK(hang[0].get("Hangup-Cause") == "DESTINATION_OUT_OF_ORDER");
  const auto& linger = missing.back();
  CHECK(linger.type == content_type::disconnect_notice);
  CHECK(linger.get("Content-Disposition") == "linger");
  CHECK(linger.get("Linger-Time") == "-1");
  CHECK(linger.body.empty());  // Content-Length: 0

  const auto& bye = m["exit-while-lingering"];
  REQUIRE(bye.size() == 2);
  CHECK(bye[1].get("Content-Disposition") == "disconnect");
}

TEST_CASE("transcript esl-outbound-sync: replies - hangup and the disconnect notice", "[proto][esl][transcript]") {
  auto m = by_step(load_steps("esl-outbound-sync.json"));
  CHECK(m["execute-answer"].at(0).get("Reply-Text") == "+OK");
  CHECK(m["api-uuid-getvar"].at(0).body == "a56c6ca3-924d-464a-9fc8-b7afe89802b7");
  const auto& h = m["hangup-command"];
  REQUIRE(h.size() == 2);
  CHECK(h[1].type == content_type::disconnect_notice);
  CHECK(h[1].get("Controlled-Session-UUID") == "a56c6ca3-924d-464a-9fc8-b7afe89802b7");
}

TEST_CASE("transcripts esl: every command sent - byte for byte", "[proto][esl][transcript][command]") {
  std::map<std::string, std::string> in, async, sync;
  for (const auto& s : load_steps("esl-inbound.json")) in[s.step] = s.sent;
  for (const auto& s : load_steps("esl-outbound-async.json")) async[s.step] = s.sent;
  for (const auto& s : load_steps("esl-outbound-sync.json")) sync[s.step] = s.sent;

  std::size_t checked = 0;
  auto check = [&](const std::string& expected, const auto& command) {
    INFO(expected);
    std::string out;
    auto r = encode(command, out);
    INFO((r ? std::string{} : r.error().what()));
    REQUIRE(r);
    CHECK(out == expected);
    ++checked;
  };
  check(in["auth-wrong-password"], auth{"nope"});
  check(in["command-before-auth"], api{"status"});
  check(in["auth"], auth{"ClueCon"});
  check(in["api-status"], api{"status"});
  check(in["api-unknown-command"], api{"no_such_command"});
  check(in["api-show-channels-empty"], api{"show channels"});
  check(in["api-show-channels-json"], api{"show channels as json"});
  check(in["api-global-getvar"], api{"global_getvar hostname"});
  check(in["api-eval"], api{"eval ${uuid}"});
  check(in["bgapi-unsubscribed"], bgapi{"status"});
  check(in["event-plain-subscribe"],
        events{.names = {"BACKGROUND_JOB", "CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP",
                         "CHANNEL_HANGUP_COMPLETE", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "DTMF", "CUSTOM"}});
  check(in["bgapi-with-job-uuid"], bgapi{.command = "status", .job_uuid = "11111111-2222-3333-4444-555555555555"});
  check(in["bgapi-failing-command"], bgapi{"no_such_command"});
  check(in["originate-loopback-park"],
        api{"originate {origination_caller_id_number=5550100,origination_caller_id_name=Dialer,costrix_tag=a%20b}"
            "loopback/9001/default &park()"});
  check(in["api-uuid-getvar"], api{"uuid_getvar 439ffc6d-12a3-4d52-a9d9-c5a6b1369020 costrix_tag"});
  check(in["api-uuid-dump-subset"], api{"uuid_exists 439ffc6d-12a3-4d52-a9d9-c5a6b1369020"});
  check(in["uuid-kill"], api{"uuid_kill 439ffc6d-12a3-4d52-a9d9-c5a6b1369020 NORMAL_CLEARING"});
  check(in["originate-failure"], api{"originate loopback/nonexistent_ext/default &park()"});
  check(in["sendevent-custom"],
        sendevent{.name = "CUSTOM",
                  .headers = {{"Event-Subclass", "costrix::test"}, {"X-Costrix", "hello world"}},
                  .body = "body text\n\n"});
  check(in["event-json-subscribe"],
        events{.format = event_format::json, .names = {"CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB"}});
  check(in["bgapi-originate-json-events"], bgapi{.command = "originate loopback/9004/default &park()",
                                                 .job_uuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"});
  check(in["noevents"], noevents{});
  check(in["event-plain-all-then-filter"], events{.names = {"ALL"}});
  check(in["filter-add"], filter{"Event-Name", "HEARTBEAT"});
  check(in["filter-delete"], filter_delete{"Event-Name", "HEARTBEAT"});
  check(in["nixevent"], nixevent{{"ALL"}});
  check(in["noevents-2"], noevents{});
  check(in["exit"], esl::exit{});
  {  // a command not modelled: raw text through the same writer
    std::string out;
    REQUIRE(command_writer(out, "frobnicate").finish());
    CHECK(out == in["unknown-command"]);
    ++checked;
  }

  check(async["connect"], esl::connect{});
  check(async["myevents"], myevents{});
  check(async["linger"], esl::linger{});
  check(async["execute-answer-event-lock"], execute{.app = "answer", .event_lock = true});
  check(async["execute-playback-tone"],
        execute{.app = "playback", .arg = "tone_stream://%(400,0,440)", .event_uuid = "pb-0001"});
  check(async["execute-play-and-get-digits-with-dtmf"],
        execute{.app = "play_and_get_digits",
                .arg = "1 3 1 4000 # tone_stream://%(200,0,800) silence_stream://250 pagd_digits \\d+"});
  check(async["execute-set-variable"], execute{.app = "set", .arg = "costrix_var=hello world"});
  check(async["api-uuid-getvar-in-outbound"], api{"uuid_getvar a77236ce-9171-4453-b2ab-b17c86c9c143 costrix_var"});
  check(async["execute-with-loops"], execute{.app = "playback", .arg = "silence_stream://100", .loops = 2});
  {
    std::string out;
    REQUIRE(command_writer(out, "sendmsg").header("call-command", "frobnicate").finish());
    CHECK(out == async["bad-call-command"]);
    ++checked;
  }
  check(async["nomedia-on-answered"], nomedia{.nomedia_uuid = "a77236ce-9171-4453-b2ab-b17c86c9c143"});
  check(async["execute-missing-application-hangs-up"], execute{.app = "no_such_app", .arg = "x"});
  check(async["command-while-lingering"], execute{.app = "answer"});
  check(async["exit-while-lingering"], esl::exit{});

  check(sync["connect"], esl::connect{});
  check(sync["execute-answer"], execute{.app = "answer"});
  check(sync["execute-playback-blocking"], execute{.app = "playback", .arg = "tone_stream://%(600,0,440)"});
  check(sync["api-uuid-getvar"], api{"uuid_getvar a56c6ca3-924d-464a-9fc8-b7afe89802b7 uuid"});
  check(sync["hangup-command"], hangup{.cause = "USER_BUSY"});

  // Every non-empty command of the three files was checked.
  std::size_t sent = 0;
  for (const auto* mp : {&in, &async, &sync})
    for (const auto& [step, s] : *mp) sent += !s.empty();
  CHECK(checked == sent);
}

TEST_CASE("transcripts esl: a stream cut short is only \"need more bytes\"", "[proto][esl][transcript][hostile]") {
  // A connection that closes mid-message leaves the parser waiting: the cut
  // is the transport's to report (disconnected), never a protocol error.
  for (const char* f : files) {
    INFO(f);
    const std::string stream = joined(load_steps(f));
    message_parser whole;
    const auto all = feed(whole, stream);
    REQUIRE_FALSE(all.error);
    for (std::size_t cut = 0; cut < stream.size(); cut += 97) {
      message_parser p;
      auto part = feed(p, std::string_view{stream}.substr(0, cut));
      INFO("cut at " << cut);
      REQUIRE_FALSE(part.error);
      REQUIRE(part.messages.size() <= all.messages.size());
      CHECK(std::equal(part.messages.begin(), part.messages.end(), all.messages.begin()));
      std::size_t used = 0;
      for (const auto& m : part.messages) used += m.consumed;
      CHECK(used + part.left == cut);
    }
  }
}
