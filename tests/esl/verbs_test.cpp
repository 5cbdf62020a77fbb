// The esl::session verbs and esl::client methods the other ESL tests leave
// out, checked against what the simulators (or a scripted FreeSWITCH) see on
// the wire and send back.
#include <costrix/esl/client.hpp>
#include <costrix/esl/server.hpp>
#include <costrix/esl/session.hpp>
#include <costrix/sim/esl_caller.hpp>
#include <costrix/sim/esl_server.hpp>

#include "esl/esl_fixtures.hpp"
#include "regression/esl_sim.hpp"
#include "scripted_peer.hpp"
#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace esl = costrix::esl;
namespace sim = costrix::sim;
using costrix::test::async_flag;
using costrix::test::peer_checks;
using costrix::test::plain_event;
using costrix::test::read_esl_command;
using costrix::test::received;
using costrix::test::seen;
using costrix::test::served;

namespace {

constexpr std::string_view call_uuid = "a77236ce-9171-4453-b2ab-b17c86c9c143";  // sim::esl_call's default

std::string what(const costrix::error& e) { return e.what(); }

// The `sendmsg ... hangup` commands a simulated call received.
std::vector<std::string> hangups(const sim::esl_report& r) {
  std::vector<std::string> out;
  for (const auto& c : r.commands)
    if (c.starts_with("sendmsg\ncall-command: hangup")) out.push_back(c);
  return out;
}

// The scripted FreeSWITCH's opening: the connect reply with the channel data
// (as mod_event_socket 1.11 sends it, values URL-encoded), then `myevents`.
void open_channel(costrix::test::peer_io& io, peer_checks& checks, std::string_view uuid) {
  PEER_CHECK(checks, read_esl_command(io) == "connect\n\n");
  io.send("Event-Name: CHANNEL_DATA\nChannel-State: CS_EXECUTE\nAnswer-State: ringing\nUnique-ID: " + std::string{uuid} +
          "\nCaller-Destination-Number: 9000\nContent-Type: command/reply\nReply-Text: %2BOK%0A\n"
          "Socket-Mode: async\nControl: full\n\n");
  PEER_CHECK(checks, read_esl_command(io) == "myevents\n\n");
  io.send("Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n");
}

// Reads the session's next command, checks it is `api <line>`, sends `before`
// (events), then the api reply: the session has handled `before` once the reply is in.
void answer_api(costrix::test::peer_io& io, peer_checks& checks, std::string_view line, std::string_view before) {
  PEER_CHECK(checks, read_esl_command(io) == "api " + std::string{line} + "\n\n");
  io.send(before);
  io.send("Content-Type: api/response\nContent-Length: 3\n\n+OK");
}

std::string note_input(const costrix::result<esl::input>& in) {
  if (!in) return in.error() == errc::timeout ? "timeout" : in.error().what();
  if (in->digit) return std::string{"key "} + *in->digit;
  return "event " + std::string{in->event.name()};
}

}  // namespace

// ---- esl::session ----

TEST_CASE("esl verbs: collect_digits takes keys up to max - then what came when time runs out", "[esl][verbs]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    auto pb = co_await s.stream_file("ivr/menu.wav");  // the caller presses 1234 as it plays
    s_.result("played", pb);
    auto three = co_await s.collect_digits(3, 10s);
    s_.note(three ? "got " + *three : what(three.error()));
    auto rest = co_await s.collect_digits(4, 50ms);  // one key left: the timeout ends it
    s_.note(rest ? "got " + *rest : what(rest.error()));
    co_await s.hangup();
    auto cause = co_await s.hung_up();
    s_.result("hung up", cause);
    auto after = co_await s.collect_digits(1, 10s);  // nothing queued and the call is gone
    s_.note(after ? "got " + *after : what(after.error()));
  });
  f.start();
  sim::esl_call call;
  call.rules["playback"] = {.press = "1234"};
  auto report = f.call(call);
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{"played ok", "got 123", "got 4", "hung up ok", "hangup: NORMAL_CLEARING"});
}

TEST_CASE("esl verbs: set_auto_hangup(false) sends resume - set_auto_hangup(true) sends nothing", "[esl][verbs]") {
  for (bool auto_hangup : {false, true}) {
    INFO("set_auto_hangup(" << auto_hangup << ")");
    seen s_;
    served f;
    f.srv.default_route([&](esl::session& s) -> awaitable<void> {
      auto r = co_await s.set_auto_hangup(auto_hangup);
      s_.result("set_auto_hangup", r);
      auto a = co_await s.answer();
      s_.result("answer", a);
    });
    f.start();
    auto report = f.call(sim::esl_call{});
    f.stop();
    REQUIRE(report);
    CHECK(s_.notes == std::vector<std::string>{"set_auto_hangup ok", "answer ok"});
    CHECK(report->resumed == !auto_hangup);
    CHECK(received(*report, "resume") == !auto_hangup);
    CHECK(costrix::test::apps(*report) == std::vector<std::string>{"answer"});
  }
}

TEST_CASE("esl verbs: execute_event gives the CHANNEL_EXECUTE_COMPLETE of the application it ran", "[esl][verbs]") {
  SECTION("with myevents") {
    seen s_;
    served f;
    f.srv.default_route([&](esl::session& s) -> awaitable<void> {
      esl::execute_options o{.event_uuid = "costrix-app-0001"};
      auto e = co_await s.execute_event("playback", "ivr/a b.wav", o);
      if (!e) {
        s_.note(e.error().what());
        co_return;
      }
      s_.note(std::string{e->name()});
      for (std::string_view key : {"Unique-ID", "Application", "Application-Data", "Application-UUID",
                                   "Application-Response", "variable_costrix_left"})
        s_.note(std::string{key} + "=" + std::string{e->get(key).value_or("<none>")});
    });
    f.start();
    sim::esl_call call;
    call.rules["playback"].set = {{"costrix_left", "yes it did"}};
    auto report = f.call(call);
    f.stop();
    REQUIRE(report);
    CHECK(s_.notes == std::vector<std::string>{"CHANNEL_EXECUTE_COMPLETE", "Unique-ID=" + std::string{call_uuid},
                                               "Application=playback", "Application-Data=ivr/a b.wav",
                                               "Application-UUID=costrix-app-0001",
                                               "Application-Response=FILE PLAYED",
                                               "variable_costrix_left=yes it did"});
    REQUIRE(report->executed.size() == 1);
    CHECK(report->executed[0].uuid == "costrix-app-0001");
    CHECK(report->executed[0].arg == "ivr/a b.wav");
  }
  SECTION("without myevents: an empty event once the command is accepted") {
    seen s_;
    served f{esl::server_options{.session = {.myevents = false, .linger = false}}};
    f.srv.default_route([&](esl::session& s) -> awaitable<void> {
      auto e = co_await s.execute_event("answer");
      s_.note(e ? "headers " + std::to_string(e->headers().size()) : e.error().what());
    });
    f.start();
    auto report = f.call(sim::esl_call{});
    f.stop();
    REQUIRE(report);
    CHECK(s_.notes == std::vector<std::string>{"headers 0"});
    CHECK_FALSE(received(*report, "myevents"));
    // Sent; whether it ran before the handler ended and the socket closed is the channel's business.
    CHECK(std::count_if(report->commands.begin(), report->commands.end(), [](const std::string& c) {
            return c.starts_with("sendmsg\ncall-command: execute\nexecute-app-name: answer\n");
          }) == 1);
  }
}

TEST_CASE("esl verbs: break_playback from a second coroutine stops the stream_file in progress", "[esl][verbs]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    costrix::test::gate both_done(2);  // the handler ends after the breaker: it uses the session
    auto breaker = [&]() -> awaitable<void> {
      for (bool all : {false, true}) {
        auto key = co_await s.next_input(10s);  // the caller presses 5 once a prompt is playing
        if (!key) {
          s_.note("breaker: " + key.error().what());
          break;
        }
        auto r = co_await s.break_playback(all);
        s_.result(all ? "break all" : "break", r);
      }
      co_await both_done.arrive();
    };
    asio::co_spawn(co_await asio::this_coro::executor, breaker(), asio::detached);
    auto first = co_await s.stream_file("ivr/hold-music.wav");  // plays until broken
    s_.note(first ? "first ended" : first.error().what());
    auto second = co_await s.stream_file("ivr/more-hold-music.wav");
    s_.note(second ? "second ended" : second.error().what());
    co_await both_done.arrive();
  });
  f.start();
  sim::esl_call call;
  call.rules["playback"] = {.hold = true, .press = "5"};
  auto report = f.call(call);
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{"break ok", "first ended", "break all ok", "second ended"});
  CHECK(received(*report, "api uuid_break " + std::string{call_uuid}));
  CHECK(received(*report, "api uuid_break " + std::string{call_uuid} + " all"));
  CHECK(costrix::test::apps(*report) ==
        std::vector<std::string>{"playback ivr/hold-music.wav", "playback ivr/more-hold-music.wav"});
}

TEST_CASE("esl verbs: hangup with a cause name sends that cause - a name with a line break is refused", "[esl][verbs]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    auto a = co_await s.answer();
    s_.result("answer", a);
    auto bad = co_await s.hangup(std::string_view{"CALL_REJECTED\nhangup-cause: USER_BUSY"});
    s_.note(bad ? "sent" : bad.error() == errc::invalid_argument ? "invalid_argument" : bad.error().what());
    s_.note(s.ready() ? "ready" : "not ready");
    auto h = co_await s.hangup(std::string_view{"CALL_REJECTED"});
    s_.result("hangup", h);
    auto cause = co_await s.hung_up();
    s_.note(cause ? "hung up " + *cause : cause.error().what());
    s_.note("cause " + std::string{s.hangup_cause()});
  });
  f.start();
  auto report = f.call(sim::esl_call{});
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{"answer ok", "invalid_argument", "ready",
                                             "hangup ok", "hung up CALL_REJECTED", "cause CALL_REJECTED"});
  CHECK(hangups(*report) == std::vector<std::string>{"sendmsg\ncall-command: hangup\nhangup-cause: CALL_REJECTED"});
  CHECK(report->hangup_cause == "CALL_REJECTED");
}

TEST_CASE("esl verbs: channel_data is the connect reply as it was - later changes leave it alone", "[esl][verbs]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    const esl::event& d = s.channel_data();
    s_.note(std::string{d.name()});
    for (std::string_view key : {"Unique-ID", "Channel-Name", "Caller-Context", "Caller-Destination-Number",
                                 "variable_costrix_tag"})
      s_.note(std::string{key} + "=" + std::string{d.get(key).value_or("<none>")});
    auto set = co_await s.set_variable("costrix_tag", "changed");
    s_.result("set", set);
    auto now = co_await s.get_variable("costrix_tag");
    s_.note("now " + (now && *now ? **now : std::string{"?"}));
    s_.note("data " + std::string{s.channel_data().get("variable_costrix_tag").value_or("<none>")});
    s_.note("channel_variable " + std::string{s.channel_variable("costrix_tag").value_or("<none>")});
  });
  f.start();
  sim::esl_call call;
  call.destination_number = "9123";
  call.variables["costrix_tag"] = "a b&c=d";  // URL-encoded on the wire
  auto report = f.call(call);
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{"CHANNEL_DATA", "Unique-ID=" + std::string{call_uuid},
                                             "Channel-Name=loopback/9123-b", "Caller-Context=default",
                                             "Caller-Destination-Number=9123", "variable_costrix_tag=a b&c=d",
                                             "set ok", "now changed", "data a b&c=d", "channel_variable a b&c=d"});
  CHECK(report->variables.at("costrix_tag") == "changed");
}

// The scripted FreeSWITCH below sends what the real one does (tests/data/transcripts/esl-outbound-async.json):
// CHANNEL_HANGUP still says CS_EXECUTE, the CHANNEL_STATE events after it CS_HANGUP then CS_REPORTING.
TEST_CASE("esl verbs: state and hangup_state follow the channel's events as FreeSWITCH sends them", "[esl][verbs]") {
  const std::string uuid = "u-state";
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] {
    costrix::test::peer_io io{sp.far()};
    open_channel(io, checks, uuid);
    answer_api(io, checks, "one", plain_event("CHANNEL_ANSWER", "Channel-State: CS_EXECUTE\nAnswer-State: answered\n", uuid));
    answer_api(io, checks, "two",
               plain_event("CHANNEL_HANGUP", "Channel-State: CS_EXECUTE\nHangup-Cause: USER_BUSY\n", uuid) +
                   plain_event("CHANNEL_STATE", "Channel-State: CS_HANGUP\n", uuid) +
                   plain_event("CHANNEL_STATE", "Channel-State: CS_REPORTING\n", uuid) +
                   plain_event("CHANNEL_HANGUP_COMPLETE", "Channel-State: CS_REPORTING\nHangup-Cause: USER_BUSY\n", uuid));
    io.send("Content-Type: text/disconnect-notice\nContent-Disposition: disconnect\nContent-Length: 3\n\nbye");
    ::shutdown(sp.far(), SHUT_RDWR);
  });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session s{stream, {.linger = false}};
    auto started = co_await s.start();
    notes.push_back(started ? "started" : started.error().what());
    auto note_state = [&](std::string_view when) {
      notes.push_back(std::string{when} + ": " + std::string{s.state()} + " [" + std::string{s.hangup_state()} + "]");
    };
    note_state("connected");
    auto one = co_await s.api("one");  // the answer comes before its reply
    note_state("answered");
    auto two = co_await s.api("two");  // the hangup and the states after it, too
    note_state("hung up");
    notes.push_back(one && two ? "replies ok" : "replies failed");
    co_await s.shutdown();
  };
  auto done = asio::co_spawn(ctx, script(), asio::use_future);
  const bool finished = costrix::test::run_until(ctx, done, 30s);
  if (!finished) sp.close_near();  // the peer's reads end
  peer.join();
  REQUIRE(finished);
  checks.verify();
  CHECK(notes == std::vector<std::string>{"started", "connected: CS_EXECUTE []", "answered: CS_EXECUTE []",
                                          "hung up: CS_REPORTING [CS_EXECUTE]", "replies ok"});
}

TEST_CASE("esl verbs: bridged follows CHANNEL_BRIDGE and CHANNEL_UNBRIDGE of this call only", "[esl][verbs]") {
  const std::string uuid = "u-leg-a";
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] {
    costrix::test::peer_io io{sp.far()};
    open_channel(io, checks, uuid);
    const std::string bridge = "Other-Leg-Unique-ID: u-leg-b\nChannel-State: CS_EXECUTE\n";
    answer_api(io, checks, "one", plain_event("CHANNEL_BRIDGE", bridge, "u-leg-c"));  // another call's bridge
    answer_api(io, checks, "two", plain_event("CHANNEL_BRIDGE", bridge, uuid));
    answer_api(io, checks, "three", plain_event("CHANNEL_UNBRIDGE", bridge, uuid));
    ::shutdown(sp.far(), SHUT_RDWR);
  });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session s{stream, {.linger = false}};
    auto started = co_await s.start();
    notes.push_back(started ? "started" : started.error().what());
    auto note = [&](std::string_view when) { notes.push_back(std::string{when} + (s.bridged() ? " bridged" : " not bridged")); };
    note("connected");
    co_await s.api("one");
    note("other call bridged");
    co_await s.api("two");
    note("this call bridged");
    auto waited = co_await s.wait_for_bridge(10s);  // already bridged: at once
    notes.push_back(waited ? "wait ok" : waited.error().what());
    co_await s.api("three");
    note("unbridged");
    co_await s.shutdown();
  };
  auto done = asio::co_spawn(ctx, script(), asio::use_future);
  const bool finished = costrix::test::run_until(ctx, done, 30s);
  if (!finished) sp.close_near();
  peer.join();
  REQUIRE(finished);
  checks.verify();
  CHECK(notes == std::vector<std::string>{"started", "connected not bridged", "other call bridged not bridged",
                                          "this call bridged bridged", "wait ok", "unbridged not bridged"});
}

TEST_CASE("esl verbs: input_events come through next_input in order with the keys - flush_events drops only them",
          "[esl][verbs]") {
  const std::string uuid = "u-input";
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] {
    costrix::test::peer_io io{sp.far()};
    open_channel(io, checks, uuid);
    auto key = [&](char k) {
      return plain_event("DTMF", std::string{"DTMF-Digit: "} + k + "\nDTMF-Duration: 2000\n", uuid);
    };
    const std::string speech = "Speech-Type: detected-speech\n";
    answer_api(io, checks, "one",
               key('1') + plain_event("DETECTED_SPEECH", speech, uuid) + plain_event("CHANNEL_PARK", "", uuid) +
                   plain_event("DETECTED_SPEECH", speech, "u-other") + key('2'));
    answer_api(io, checks, "two",
               plain_event("DETECTED_SPEECH", speech, uuid) + key('3') + plain_event("DETECTED_SPEECH", speech, uuid));
    PEER_CHECK(checks, read_esl_command(io).empty());  // open until the session closes the socket
  });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session s{stream, {.linger = false, .input_events = {"DETECTED_SPEECH"}}};
    auto started = co_await s.start();
    notes.push_back(started ? "started" : started.error().what());
    co_await s.api("one");  // every event above is in once its reply is
    for (int i = 0; i < 3; ++i) {
      auto in = co_await s.next_input();
      notes.push_back(note_input(in));
      if (in && !in->digit) notes.push_back(std::string{in->event.get("Speech-Type").value_or("?")});
    }
    auto none = co_await s.next_input(20ms);  // nothing else was queued: not CHANNEL_PARK, not the other leg's
    notes.push_back(note_input(none));
    co_await s.api("two");
    s.flush_events();
    auto kept = co_await s.next_input();
    notes.push_back(note_input(kept));
    auto flushed = co_await s.next_input(20ms);
    notes.push_back(note_input(flushed));
    co_await s.shutdown();
  };
  auto done = asio::co_spawn(ctx, script(), asio::use_future);
  const bool finished = costrix::test::run_until(ctx, done, 30s);
  if (!finished) sp.close_near();
  peer.join();
  REQUIRE(finished);
  checks.verify();
  CHECK(notes == std::vector<std::string>{"started", "key 1", "event DETECTED_SPEECH", "detected-speech", "key 2",
                                          "timeout", "key 3", "timeout"});
}

// ---- esl::client ----

TEST_CASE("esl client verbs: subscribe adds names to the subscription - nixevent takes them out again",
          "[esl][verbs][client]") {
  esl_test::esl_fixture f;
  f.run([&]() -> awaitable<void> {
    int callstates = 0, customs = 0, markers = 0;
    async_flag first_marker(f.ctx), second_marker(f.ctx);
    // The marker is not a CUSTOM event: sim::esl_server takes `nixevent CUSTOM <subclass>` as the end of
    // every CUSTOM event (mod_event_socket drops only the subclass), which would hold a CUSTOM marker back.
    f.client.on_event("HEARTBEAT", [&](const esl::event&) { (++markers == 1 ? first_marker : second_marker).set(); });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    // Named, not a braced list inside co_await (GCC 12: docs/errors.md).
    const std::vector<std::string> names{"CHANNEL_CALLSTATE", "costrix::test"};
    auto sub = co_await f.client.subscribe(names);
    CHECK(sub.value() == "+OK event listener enabled plain");
    // Handlers for names already subscribed send no subscription of their own.
    f.client.on_event("CHANNEL_CALLSTATE", [&](const esl::event&) { ++callstates; });
    f.client.on_event("costrix::test", [&](const esl::event&) { ++customs; });
    auto sync = co_await f.client.api("global_getvar hostname");  // anything sent before it has been read
    CHECK(sync.value() == "vm");
    CHECK(f.server.srv.commands_received("event") == 2);  // the login's and subscribe()'s

    auto emit_all = [&] {
      f.server.srv.emit({{"Event-Name", "CHANNEL_CALLSTATE"}});
      f.server.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::test"}});
      f.server.srv.emit({{"Event-Name", "HEARTBEAT"}});  // last, on the same socket
    };
    emit_all();
    co_await first_marker.wait();
    CHECK(callstates == 1);
    CHECK(customs == 1);

    auto nix = co_await f.client.nixevent(names);
    CHECK(nix.value() == "+OK events nixed");
    emit_all();
    co_await second_marker.wait();
    CHECK(callstates == 1);  // neither came again
    CHECK(customs == 1);
    f.client.close();
  }());
}

TEST_CASE("esl client verbs: unsubscribe stops one handler - the others keep getting events", "[esl][verbs][client]") {
  esl_test::esl_fixture f;
  f.run([&]() -> awaitable<void> {
    int dropped_handler = 0, kept_handler = 0;
    async_flag first(f.ctx), second(f.ctx);
    auto id = f.client.on_event("costrix::test", [&](const esl::event&) { ++dropped_handler; });
    f.client.on_event("costrix::test", [&](const esl::event&) { (++kept_handler == 1 ? first : second).set(); });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::test"}});
    co_await first.wait();
    CHECK(dropped_handler == 1);
    f.client.unsubscribe(id);
    f.server.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::test"}});
    co_await second.wait();
    CHECK(dropped_handler == 1);
    CHECK(kept_handler == 2);
    f.client.close();
  }());
}

TEST_CASE("esl client verbs: filter_delete lets filtered events through again - also after a reconnection",
          "[esl][verbs][client]") {
  esl_test::esl_fixture f;
  f.run([&]() -> awaitable<void> {
    auto events = f.client.stream({.names = {"costrix::a", "costrix::b"}});
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto emit = [&](std::string subclass) {
      f.server.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", subclass}});
    };
    auto next_subclass = [&]() -> awaitable<std::string> {
      auto e = co_await events.next();
      co_return e ? std::string{e->subclass()} : e.error().what();
    };
    auto added = co_await f.client.filter("Event-Subclass", "costrix::a");
    CHECK(added.value() == "+OK filter added. [Event-Subclass]=[costrix::a]");
    emit("costrix::b");  // filtered out
    emit("costrix::a");
    {
      auto got = co_await next_subclass();
      CHECK(got == "costrix::a");
    }

    auto deleted = co_await f.client.filter_delete("Event-Subclass", "costrix::a");
    CHECK(deleted.value() == "+OK filter deleted. [Event-Subclass][costrix::a]");
    emit("costrix::b");
    {
      auto got = co_await next_subclass();
      CHECK(got == "costrix::b");
    }

    // A new connection gets the filters still kept: none.
    async_flag reconnected(f.ctx);
    f.client.on_state([&](esl::connection_state s) {
      if (s == esl::connection_state::connected) reconnected.set();
    });
    co_await costrix::test::sim_call(f.ctx, [&](auto done) { f.server.srv.disconnect_all(done); });
    co_await reconnected.wait();
    CHECK(f.server.srv.commands_received("filter") == 2);  // the add and the delete, nothing sent again
    emit("costrix::b");
    {
      auto got = co_await next_subclass();
      CHECK(got == "costrix::b");
    }
    f.client.close();
  }());
}

TEST_CASE("esl client verbs: command sends a line with its headers - sendevent fires the event", "[esl][verbs][client]") {
  esl_test::esl_fixture f;
  f.run([&]() -> awaitable<void> {
    std::string value, event_uuid;
    async_flag got(f.ctx);
    f.client.on_event("costrix::sent", [&](const esl::event& e) {
      value = std::string{e.get("X-Costrix").value_or("<none>")};
      event_uuid = std::string{e.get("Event-UUID").value_or("<none>")};
      got.set();
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto sent = co_await f.client.command("sendevent CUSTOM\nEvent-Subclass: costrix::sent\nX-Costrix: one two");
    REQUIRE(sent);
    REQUIRE(sent->starts_with("+OK "));
    co_await got.wait();
    CHECK(value == "one two");
    CHECK(event_uuid == sent->substr(4));  // the event FreeSWITCH fired is the one it acknowledged
    CHECK(f.server.srv.commands_received("sendevent") == 1);

    auto unknown = co_await f.client.command("frobnicate now");
    REQUIRE(!unknown);
    CHECK(unknown.error() == errc::invalid_command);
    CHECK(unknown.error().message == "-ERR command not found");
    auto header_without_colon = co_await f.client.command("sendevent CUSTOM\nnot a header");
    REQUIRE(!header_without_colon);
    CHECK(header_without_colon.error() == errc::invalid_argument);
    CHECK(f.server.srv.commands_received("sendevent") == 1);  // not sent
    f.client.close();
  }());
}

TEST_CASE("esl client verbs: a full drop_newest stream keeps the oldest events and counts the newest it dropped",
          "[esl][verbs][client]") {
  constexpr std::size_t n = 3000, cap = 16;
  esl_test::esl_fixture f;
  f.run([&]() -> awaitable<void> {
    std::size_t seen_events = 0;
    async_flag all(f.ctx);
    f.client.on_event("CHANNEL_CALLSTATE", [&](const esl::event&) {
      if (++seen_events == n) all.set();
    });
    auto slow = f.client.stream(
        {.names = {"CHANNEL_CALLSTATE"}, .capacity = cap, .policy = costrix::overflow_policy::drop_newest});
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_flood({.rate = 0, .count = n});
    co_await all.wait();  // every event reached the callback while the stream was not read
    CHECK(slow.dropped() == n - cap);
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < cap; ++i) {
      auto e = co_await slow.next();
      kept.push_back(e ? std::string{e->get("Flood-Sequence").value_or("?")} : e.error().what());
    }
    std::vector<std::string> first;
    for (std::size_t i = 0; i < cap; ++i) first.push_back(std::to_string(i));
    CHECK(kept == first);  // the first cap events, in order
    // The queue is empty now: the next event is a new one, not one of the flood's later ones.
    f.server.srv.emit({{"Event-Name", "CHANNEL_CALLSTATE"}, {"X-Costrix", "after"}});
    auto after = co_await slow.next();
    REQUIRE(after);
    CHECK(after->get("X-Costrix") == std::optional<std::string_view>("after"));
    CHECK(after->get("Flood-Sequence") == std::nullopt);
    CHECK(slow.dropped() == n - cap);
    f.client.close();
  }());
}
