// The outbound ESL server on a runtime, driven over loopback by the FreeSWITCH simulator.
#include <costrix/esl/server.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "esl/esl_fixtures.hpp"
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace esl = costrix::esl;
namespace sim = costrix::sim;

using costrix::test::apps;
using costrix::test::seen;
using costrix::test::served;

TEST_CASE("esl server: every verb round-trips through the simulated channel", "[esl][server]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    s_.note(std::string{s.uuid()} + " " + std::string{s.destination_number()} + " " + std::string{s.caller_id_number()});
    auto a = co_await s.answer();
    s_.result("answer", a);
    s_.note(s.answered() ? "answered" : "not answered");
    auto pa = co_await s.pre_answer();
    s_.result("pre_answer", pa);
    auto set = co_await s.set_variable("costrix_lang", "en fr");
    s_.result("set", set);
    auto v = co_await s.get_variable("costrix_lang");
    s_.note("var " + (v && *v ? **v : "?"));
    auto missing = co_await s.get_variable("nothing_here");
    s_.note(missing && !*missing ? "unset" : "set?");
    auto pb = co_await s.stream_file("ivr/welcome.wav", 8000);
    s_.note(pb ? "played " + pb->response + " " + std::to_string(pb->samples) : pb.error().what());
    esl::digits_options d{.min = 1, .max = 4, .tries = 2, .timeout = 3000ms, .terminators = "#",
                          .prompt = "ivr/menu.wav", .invalid_prompt = "ivr/invalid.wav", .var_name = "choice",
                          .regex = "\\d+", .digit_timeout = 2000ms, .transfer_on_failure = "operator XML default"};
    auto pg = co_await s.play_and_get_digits(d);
    s_.note(pg ? "pagd " + pg->value + " " + std::string(1, pg->terminator.value_or('-')) + " " + pg->status
               : pg.error().what());
    auto rd = co_await s.read(1, 2, "ivr/pin.wav", 2000ms, "#");
    s_.note(rd ? "read " + rd->value : rd.error().what());
    auto gd = co_await s.get_digits(3, "#", 1000ms);
    s_.note(gd ? "get_digits " + gd->value : gd.error().what());
    esl::record_options ro{.file = "/tmp/msg.wav", .max_length = 30s, .silence_threshold = 200, .silence_seconds = 3s};
    auto rec = co_await s.record_file(ro);
    s_.note(rec ? "record " + std::string(rec->silence ? "silence " : "") + rec->completion_cause + " " +
                      std::to_string(rec->length.count())
                : rec.error().what());
    esl::say_options so{.text = "42"};
    auto say = co_await s.say(so);
    s_.result("say", say);
    auto phrase = co_await s.say_phrase("voicemail_hello", "3", "en");
    s_.result("phrase", phrase);
    s.set_tts_params("flite", "slt");
    auto speak = co_await s.speak("hello there");
    s_.result("speak", speak);
    auto sl = co_await s.sleep(10ms);
    s_.result("sleep", sl);
    auto lg = co_await s.console_log("INFO", "costrix");
    s_.result("log", lg);
    auto fl = co_await s.flush_digits();
    s_.result("flush", fl);
    auto ex = co_await s.execute_string("playback ivr/bye.wav");
    s_.note(ex ? "execute_string " + *ex : ex.error().what());
    std::vector<costrix::proto::esl::header> headers{{"Event-Subclass", "costrix::test"}};
    auto ev = co_await s.send_event("CUSTOM", headers);
    s_.result("send_event", ev);
    auto tr = co_await s.transfer("1000");
    s_.result("transfer", tr);
    auto hu = co_await s.hangup(esl::cause::user_busy);
    s_.result("hangup", hu);
    auto cause = co_await s.hung_up();
    s_.note(cause ? "hung up " + *cause : cause.error().what());
    s_.note(s.ready() ? "ready" : "not ready");
  });
  f.start();
  sim::esl_call call;
  call.destination_number = "9100";
  call.dtmf = "12#7#55";
  call.rules["record"].set = {{"silence_hits_exhausted", "true"},
                              {"record_completion_cause", "success-silence"},
                              {"record_ms", "2500"}};
  auto report = f.call(call);
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{
                        "a77236ce-9171-4453-b2ab-b17c86c9c143 9100 5550199", "answer ok", "answered",
                        "pre_answer ok", "set ok", "var en fr", "unset", "played FILE PLAYED 3200", "pagd 12 # success",
                        "read 7", "get_digits 55", "record silence success-silence 2500", "say ok", "phrase ok",
                        "speak ok", "sleep ok", "log ok", "flush ok", "execute_string FILE PLAYED",
                        "send_event ok", "transfer ok", "hangup ok", "hung up USER_BUSY", "not ready"});
  CHECK(apps(*report) == std::vector<std::string>{
                             "answer", "pre_answer", "set costrix_lang=en fr", "playback ivr/welcome.wav@@8000",
                             "play_and_get_digits 1 4 2 3000 # ivr/menu.wav ivr/invalid.wav choice \\d+ 2000 "
                             "operator XML default",
                             "read 1 2 ivr/pin.wav costrix_digits 2000 #",
                             "read 1 3 silence_stream://0 costrix_digits 1000 #", "record /tmp/msg.wav 30 200 3",
                             "say en number pronounced 42", "set language=en", "phrase voicemail_hello,3",
                             "speak flite|slt|hello there", "sleep 10", "log INFO costrix", "flush_dtmf",
                             "playback ivr/bye.wav", "transfer 1000 XML default"});
  CHECK(report->hung_up);
  CHECK(report->hangup_cause == "USER_BUSY");
  CHECK(report->commands.at(0) == "connect");
  CHECK(report->commands.at(1) == "myevents");
  CHECK(report->commands.at(2) == "linger");
}

TEST_CASE("esl server: a key in break_on stops the prompt with uuid_break", "[esl][server]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    auto pb = co_await s.stream_file("ivr/long.wav", 0, "59");
    s_.note(pb ? "stopped by " + std::string(1, pb->digit.value_or('-')) : pb.error().what());
    auto in = co_await s.next_input(5s);
    s_.note(in && in->digit ? "input " + std::string(1, *in->digit) : "no input");
  });
  f.start();
  sim::esl_call call;
  call.rules["playback"] = {.hold = true, .press = "5"};
  auto report = f.call(call);
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{"stopped by 5", "input 5"});
  CHECK(std::find(report->commands.begin(), report->commands.end(),
                  "api uuid_break a77236ce-9171-4453-b2ab-b17c86c9c143") != report->commands.end());
}

TEST_CASE("esl server: the caller hanging up ends the verb in flight with errc::hangup", "[esl][server]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    auto a = co_await s.answer();
    s_.result("answer", a);
    auto pb = co_await s.stream_file("ivr/long.wav");
    s_.note(pb ? "played" : pb.error().what());
    auto again = co_await s.answer();
    s_.note(again ? "answered again" : again.error().what());
    auto cause = co_await s.hung_up();
    s_.note(cause ? *cause : cause.error().what());
    s_.note(std::string{s.hangup_cause()});
  });
  f.start();
  sim::esl_call call;
  call.rules["playback"] = {.hold = true};
  call.hangup_during = 1;
  call.hangup_cause = "ORIGINATOR_CANCEL";
  auto report = f.call(call);
  f.stop();
  REQUIRE(report);
  CHECK(s_.notes == std::vector<std::string>{"answer ok", "hangup: ORIGINATOR_CANCEL", "hangup: ORIGINATOR_CANCEL",
                                            "ORIGINATOR_CANCEL", "ORIGINATOR_CANCEL"});
  CHECK(report->executed.size() == 2);  // the second answer was not sent
  CHECK(report->lingered);
}

TEST_CASE("esl server: routes by destination number - regex and default - or by a channel variable",
          "[esl][server]") {
  std::mutex m;
  std::vector<std::string> hits;
  auto named = [&](std::string name) {
    return [&, name](esl::session& s) -> awaitable<void> {
      {
        std::lock_guard lock(m);
        hits.push_back(name + ":" + std::string{s.destination_number()});
      }
      co_return;
    };
  };
  {
    served f;
    f.srv.route("9000", named("exact")).route(std::regex("^1\\d+$"), named("regex")).default_route(named("default"));
    f.start();
    for (std::string dest : {"9000", "1234", "555"}) {
      sim::esl_call call;
      call.destination_number = dest;
      auto r = f.call(call);
      REQUIRE(r);
      CHECK_FALSE(r->resumed);
    }
    f.stop();
  }
  CHECK(hits == std::vector<std::string>{"exact:9000", "regex:1234", "default:555"});
  hits.clear();
  {
    served f{esl::server_options{.route_by = "variable_costrix_route"}};
    f.srv.route("sales", named("sales"));
    f.start();
    sim::esl_call call;
    call.variables["costrix_route"] = "sales";
    auto r = f.call(call);
    sim::esl_call unrouted;
    auto r2 = f.call(unrouted);
    f.stop();
    REQUIRE(r);
    REQUIRE(r2);
    CHECK(r2->executed.empty());
  }
  CHECK(hits == std::vector<std::string>{"sales:9000"});
}

TEST_CASE("esl server: calls over max_sessions are refused - stop(0) ends a call in progress", "[esl][server]") {
  costrix::test::latch_flag started;
  seen s_;
  served f{esl::server_options{.max_sessions = 1}};
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    auto a = co_await s.answer();
    started.set();  // the simulator has run `answer`
    auto pb = co_await s.stream_file("ivr/hold-music.wav");
    s_.note(a && !pb ? "ended" : "played");
  });
  f.start();
  // The first call holds its prompt on a thread of its own.
  costrix::result<sim::esl_report> first;
  std::thread holder([&] {
    asio::io_context ctx;
    sim::esl_call call;
    call.rules["playback"] = {.hold = true};
    first = costrix::test::run(ctx, sim::call_esl_outbound(f.endpoint(), call));
  });
  started.wait();
  auto second = f.call(sim::esl_call{});
  CHECK(f.srv.refused() == 1);
  f.stop(0ms);
  holder.join();
  REQUIRE(second);
  CHECK(second->commands.empty());  // closed before `connect`
  REQUIRE(first);
  REQUIRE_FALSE(first->executed.empty());
  CHECK(first->executed[0].app == "answer");
  CHECK(s_.notes == std::vector<std::string>{"ended"});
  CHECK(f.srv.active() == 0);
}

TEST_CASE("esl server: stop(grace) lets a call in progress finish", "[esl][server]") {
  costrix::test::latch_flag started;
  costrix::test::latch_flag stopped;
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    started.set();
    auto a = co_await s.answer();
    s_.result("answer", a);
    auto h = co_await s.hangup();
    s_.result("hangup", h);
  });
  f.start();
  std::thread caller([&] {
    asio::io_context ctx;
    sim::esl_call call;
    call.rules["answer"] = {.delay = 20ms};
    auto r = costrix::test::run(ctx, sim::call_esl_outbound(f.endpoint(), call));
    (void)r;
  });
  started.wait();
  f.stop(10s);  // returns once the call has ended by itself
  caller.join();
  CHECK(s_.notes == std::vector<std::string>{"answer ok", "hangup ok"});
}

namespace {

// Calls the test may hold open at once: 1,000, or fewer under a lower
// open-file limit (two descriptors per call, plus room for the rest).
std::size_t calls_that_fit(std::size_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 100;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  std::size_t budget = lim.rlim_cur == RLIM_INFINITY ? 1'000'000 : static_cast<std::size_t>(lim.rlim_cur);
  std::size_t fit = budget > 256 ? (budget - 256) / 2 : 1;
  return std::min(wanted, fit);
}

awaitable<void> one_call(asio::ip::tcp::endpoint ep, sim::esl_call call, costrix::result<sim::esl_report>& out,
                         std::size_t& ended) {
  out = co_await sim::call_esl_outbound(ep, std::move(call));
  ++ended;
}

}  // namespace

TEST_CASE("esl server: 1000 concurrent calls each answer - play - read a variable - hang up", "[esl][server][many]") {
  const std::size_t n = calls_that_fit(1000);
  INFO("calls at once: " << n);
  std::atomic<std::size_t> scripts_ok{0}, live{0}, peak{0}, active_at_opening{0};
  // Every handler waits here until the n-th call has started: all n are live at once.
  costrix::test::gate all_started(n);
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    std::size_t now = ++live;
    for (std::size_t p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    if (now == n) active_at_opening = f.srv.active();
    co_await all_started.arrive();
    auto a = co_await s.answer();
    auto played = co_await s.stream_file("ivr/welcome.wav");
    auto v = co_await s.get_variable("costrix_n");
    // The variable is the caller's own: the reply came on this call's socket.
    auto expected = s.channel_variable("costrix_n");
    bool good = a && played && played->response == "FILE PLAYED" && v && v->has_value() && expected &&
                **v == *expected;
    auto h = co_await s.hangup();
    if (good && h) ++scripts_ok;
    --live;
  });
  f.start();
  std::vector<costrix::result<sim::esl_report>> results(n);
  std::size_t ended = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sim::esl_call call;
    call.uuid = fmt::format("a77236ce-9171-4453-b2ab-{:012}", i);
    call.variables["costrix_n"] = std::to_string(i);
    asio::co_spawn(f.client, one_call(f.endpoint(), std::move(call), results[i], ended), asio::detached);
  }
  // Until every simulated call has ended; a gate that never opens stalls them, and the limit fails the test.
  const bool all_ended = costrix::test::run_until(f.client, [&] { return ended == n; }, 120s);
  if (!all_ended) all_started.open();  // let the handlers end, so that stop() returns
  f.stop();
  REQUIRE(all_ended);
  CHECK(peak.load() == n);  // every call was live at once
  CHECK(active_at_opening.load() == n);  // and the server counted them all as active
  std::size_t complete = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = results[i];
    if (!r) {
      FAIL_CHECK("call " << i << ": " << r.error().what());
      continue;
    }
    bool right = r->hung_up && r->hangup_cause == "NORMAL_CLEARING" &&
                 apps(*r) == std::vector<std::string>{"answer", "playback ivr/welcome.wav"} &&
                 r->executed[1].response == "FILE PLAYED";
    if (right) ++complete;
  }
  CHECK(complete == n);
  CHECK(scripts_ok.load() == n);
  CHECK(f.srv.accepted() == n);
  CHECK(f.srv.active() == 0);
  CHECK(f.srv.refused() == 0);
}

namespace {

// pre_answer in a coroutine of its own; `done` wakes the handler when it has finished.
awaitable<void> early_media(esl::session& s, asio::steady_timer& done, bool& finished) {
  auto r = co_await s.pre_answer();
  (void)r;
  finished = true;
  done.cancel();
}

}  // namespace

TEST_CASE("esl server: wait_for_media wakes on early media - wait_for_bridge times out", "[esl][server]") {
  seen s_;
  served f;
  f.srv.default_route([&](esl::session& s) -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer done(ex, asio::steady_timer::time_point::max());
    bool finished = false;
    s_.note(s.media_ready() ? "media at start" : "no media at start");
    asio::co_spawn(ex, early_media(s, done, finished), asio::detached);
    auto media = co_await s.wait_for_media(5s);  // woken by CHANNEL_PROGRESS_MEDIA
    s_.result("media", media);
    s_.note(s.answered() ? "answered" : "not answered");
    auto bridge = co_await s.wait_for_bridge(20ms);  // nothing bridges this call
    s_.note(bridge ? "bridged" : bridge.error().what());
    while (!finished) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
    auto answer = co_await s.answer();
    auto answered = co_await s.wait_for_answer(5s);
    s_.result("answered", answered);
    (void)answer;
    co_await s.hangup();
  });
  f.start();
  sim::esl_call call;
  auto r = f.call(call);
  f.stop();
  REQUIRE(r);
  CHECK(s_.notes == std::vector<std::string>{"no media at start", "media ok", "not answered",
                                             "timeout: the call was not bridged in time", "answered ok"});
}
