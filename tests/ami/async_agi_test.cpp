// ami::async_agi: agi::session scripts for AsyncAGI channels of the AMI simulator.
#include <costrix/ami/async_agi.hpp>

#include "fixture.hpp"

#include <string>
#include <vector>

using namespace ami_test;
using costrix::errc;

namespace {

// What a script saw, for the test to check after the channel has left AGI.
struct seen {
  std::string script_env;  // channel|arg1
  std::string callerid;
  std::optional<char> digit;
  std::vector<errc> errors;
};

sim::agi_call async_call(std::string channel) {
  sim::agi_call c;
  c.channel = std::move(channel);
  c.args = {"argA", "argB"};
  c.variables = {{"CALLERID(num)", "5551234"}};
  return c;
}

// Awaits `n` AsyncAGIEnd events on the client (the channels have left AGI).
struct ends {
  fixture& f;
  std::shared_ptr<flag> done;
  std::shared_ptr<int> left;
  ends(fixture& fx, int n) : f(fx), done(std::make_shared<flag>(fx.ctx)), left(std::make_shared<int>(n)) {
    f.client.on_event("AsyncAGIEnd", [d = done, l = left](const ami::message&) {
      if (--*l == 0) d->set();
    });
  }
  awaitable<void> wait() { co_await done->wait(); }
};

}  // namespace

TEST_CASE("asyncagi: a script runs over AMI with the FastAGI session API - then breaks out", "[ami][asyncagi]") {
  fixture f{{.events = "agi"}};
  seen s;
  ami::async_agi agi{f.client, [&](costrix::agi::session& session) -> awaitable<void> {
                       s.script_env = std::string(session.env().channel()) + "|" + std::string(session.args()[0]);
                       auto answered = co_await session.answer();
                       if (!answered) s.errors.push_back(errc::failed);
                       auto number = co_await session.get_variable("CALLERID(num)");
                       if (number && *number) s.callerid = **number;
                       auto played = co_await session.stream_file("demo-thanks", "12");
                       if (played) s.digit = played->digit;
                       auto set = co_await session.set_variable("RESULT", "ok");
                       if (!set) s.errors.push_back(set.error().code == errc::failed ? errc::failed : errc::protocol);
                     }};
  ends left{f, 1};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_async_agi(async_call("PJSIP/async-00000001"));
    co_await left.wait();
  }());
  CHECK(s.script_env == "PJSIP/async-00000001|argA");
  CHECK(s.callerid == "5551234");
  CHECK(s.digit == std::nullopt);  // no key pressed: played to its end
  CHECK(s.errors.empty());
  // ANSWER, GET VARIABLE, STREAM FILE, SET VARIABLE, then ASYNCAGI BREAK when the script returned.
  CHECK(f.server.srv.actions_received("AGI") == 5);
  CHECK(agi.stats().started == 1);
}

TEST_CASE("asyncagi: two channels at once each get their own replies", "[ami][asyncagi]") {
  fixture f{{.events = "agi"}};
  std::map<std::string, std::string> got;  // channel -> the value it read back
  ami::async_agi agi{f.client, [&](costrix::agi::session& session) -> awaitable<void> {
                       std::string me(session.env().channel());
                       for (int i = 0; i < 5; ++i) {
                         auto set = co_await session.set_variable("MINE", me + "#" + std::to_string(i));
                         if (!set) co_return;
                       }
                       auto v = co_await session.get_variable("MINE");
                       if (v && *v) got[me] = **v;
                     }};
  ends left{f, 2};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_async_agi(async_call("PJSIP/a-00000001"));
    f.server.srv.start_async_agi(async_call("PJSIP/b-00000002"));
    co_await left.wait();
  }());
  CHECK(got["PJSIP/a-00000001"] == "PJSIP/a-00000001#4");
  CHECK(got["PJSIP/b-00000002"] == "PJSIP/b-00000002#4");
  CHECK(agi.stats().started == 2);
}

TEST_CASE("asyncagi: the caller hanging up fails the command in flight and the rest - as over FastAGI",
          "[ami][asyncagi]") {
  fixture f{{.events = "agi"}};
  std::vector<errc> errors;
  auto finished = std::make_shared<flag>(f.ctx);
  ami::async_agi agi{f.client, [&, finished](costrix::agi::session& session) -> awaitable<void> {
                       auto note = [&](const auto& r) {
                         errors.push_back(r ? errc{} : static_cast<errc>(r.error().code.value()));
                       };
                       note(co_await session.answer());
                       note(co_await session.stream_file("demo-instruct"));  // the caller hangs up here
                       note(co_await session.noop());                        // HANGUP arrives ahead of this reply
                       note(co_await session.get_variable("FOO"));           // not sent
                       finished->set();
                     }};
  auto call = async_call("PJSIP/gone-00000001");
  call.hangup_during = 1;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_async_agi(call);
    co_await finished->wait();
  }());
  CHECK(errors == std::vector<errc>{errc{}, errc::failed, errc::hangup, errc::hangup});
  // ANSWER and STREAM FILE; NOOP too when the script wrote it before AsyncAGIEnd
  // reached the client (Asterisk refuses it: the channel is gone). GET VARIABLE never.
  CHECK(f.server.srv.actions_received("AGI") >= 2);
  CHECK(f.server.srv.actions_received("AGI") <= 3);
}

TEST_CASE("asyncagi: an AGI action Asterisk refuses (the channel is gone) reads as HANGUP - not a lost connection",
          "[ami][asyncagi]") {
  fixture f{{.events = "agi"}};
  // The channel hung up, and its AsyncAGIEnd has not reached the client yet.
  f.server.srv.rule("AGI", {.response = sim::ami_fields{{"Response", "Error"},
                                                        {"Message", "Channel PJSIP/gone-00000001 does not exist."}}});
  std::vector<errc> errors;
  auto finished = std::make_shared<flag>(f.ctx);
  ami::async_agi agi{f.client, [&, finished](costrix::agi::session& session) -> awaitable<void> {
                       auto note = [&](const auto& r) {
                         errors.push_back(r ? errc{} : static_cast<errc>(r.error().code.value()));
                       };
                       note(co_await session.answer());
                       note(co_await session.get_variable("FOO"));  // not sent: the channel has hung up
                       finished->set();
                     }};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_async_agi(async_call("PJSIP/gone-00000001"));
    co_await finished->wait();
  }());
  CHECK(errors == std::vector<errc>{errc::hangup, errc::hangup});
  CHECK(f.server.srv.actions_received("AGI") == 1);
  CHECK(f.client.state() == ami::connection_state::connected);
}

TEST_CASE("asyncagi: losing the AMI connection ends a waiting command with disconnected", "[ami][asyncagi]") {
  fixture f{{.events = "agi", .reconnect = {.enabled = false}}};
  std::optional<errc> outcome;
  auto finished = std::make_shared<flag>(f.ctx);
  auto running = std::make_shared<flag>(f.ctx);
  f.client.on_event("AGIExecStart", [running](const ami::message&) { running->set(); });
  ami::async_agi agi{f.client, [&, finished](costrix::agi::session& session) -> awaitable<void> {
                       auto r = co_await session.wait_for_digit(-1ms);
                       outcome = r ? errc{} : static_cast<errc>(r.error().code.value());
                       finished->set();
                     }};
  auto call = async_call("PJSIP/wait-00000001");
  call.rules["WAIT FOR DIGIT"] = {.hold = true};  // Asterisk is still waiting for a key
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_async_agi(call);
    co_await running->wait();
    co_await f.server_call([&](auto done) { f.server.srv.disconnect_all(done); });
    co_await finished->wait();
  }());
  CHECK(outcome == errc::disconnected);
}

TEST_CASE("asyncagi: the older AsyncAGI event with SubEvent Start and Exec works too", "[ami][asyncagi]") {
  fixture f{{.events = "agi"}};
  const std::string channel = "SIP/old-00000001";
  // Asterisk before 13: Event: AsyncAGI with SubEvent, and the reply to the first command.
  f.server.srv.rule("AGI", {.response = sim::ami_fields{{"Response", "Success"}, {"Message", "Added AGI command to queue"}},
                            .events = {{{"Event", "AsyncAGI"},
                                        {"SubEvent", "Exec"},
                                        {"Channel", channel},
                                        {"CommandID", channel + "/1"},
                                        {"Result", "200%20result%3D1%20(yes)%0A"}}}});
  std::optional<std::string> value;
  std::string seen_channel;
  auto finished = std::make_shared<flag>(f.ctx);
  ami::async_agi agi{f.client, [&, finished](costrix::agi::session& session) -> awaitable<void> {
                       seen_channel = session.env().channel();
                       auto v = co_await session.get_variable("OLD");
                       if (v) value = v->value_or("(unset)");
                       finished->set();
                     }};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.broadcast({{"Event", "AsyncAGI"},
                            {"SubEvent", "Start"},
                            {"Channel", channel},
                            {"Env", "agi_request%3A%20async%0Aagi_channel%3A%20SIP%2Fold-00000001%0A%0A"}});
    co_await finished->wait();
  }());
  CHECK(seen_channel == channel);
  CHECK(value == "yes");
}
