// esl::session against a scripted FreeSWITCH: the real transcripts replayed
// byte for byte, and hand-made exchanges for what they do not show.
#include <costrix/esl/session.hpp>

#include "scripted_peer.hpp"
#include "support.hpp"
#include "transcripts.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace esl = costrix::esl;
using costrix::test::peer_checks;

namespace {

// Blocking reads on the peer's side.
std::string read_exactly(int fd, std::size_t n) {
  std::string out;
  while (out.size() < n) {
    char buf[4096];
    ssize_t got = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}
std::string read_command(int fd) {  // up to and including the empty line
  std::string out;
  while (!out.ends_with("\n\n")) {
    char c;
    if (::read(fd, &c, 1) != 1) break;
    out += c;
  }
  return out;
}

// Replays a transcript's FreeSWITCH side: checks each command the session
// writes against the recorded one, then sends what FreeSWITCH answered.
void replay(int fd, const std::vector<costrix::test::transcript_step>& steps, peer_checks& checks) {
  costrix::test::peer_io io{fd};
  for (const auto& step : steps) {
    if (!step.sent.empty()) {
      std::string got = read_exactly(fd, step.sent.size());
      PEER_CHECK(checks, got == step.sent);
      if (got != step.sent) return;
    }
    std::string_view received = step.received;
    bool closes = received.ends_with("<<closed>>");
    if (closes) received.remove_suffix(std::string_view{"<<closed>>"}.size());
    io.send(received);
    if (closes) {
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
  }
}

std::string event(std::string_view name, std::string_view extra, std::string_view uuid = "u-0") {
  std::string body = "Event-Name: " + std::string{name} + "\nUnique-ID: " + std::string{uuid} + "\n" +
                     std::string{extra} + "\n";
  return "Content-Length: " + std::to_string(body.size()) + "\nContent-Type: text/event-plain\n\n" + body;
}

// The scripted FreeSWITCH's opening for channel u-0: the connect reply, then `myevents`.
void open_channel(int fd, costrix::test::peer_io& io, peer_checks& checks) {
  PEER_CHECK(checks, read_command(fd) == "connect\n\n");
  io.send("Event-Name: CHANNEL_DATA\nUnique-ID: u-0\nContent-Type: command/reply\nReply-Text: %2BOK%0A\n\n");
  PEER_CHECK(checks, read_command(fd) == "myevents\n\n");
  io.send("Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n");
}

}  // namespace

TEST_CASE("esl session: replays esl-outbound-async byte for byte", "[esl][session][transcript]") {
  auto steps = costrix::test::load_steps("esl-outbound-async.json");
  REQUIRE(steps.size() == 15);
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] { replay(sp.far(), steps, checks); });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session_options o{.myevents = true, .linger = true, .tag_executes = false, .event_lock = false};
    esl::session s{stream, o};
    auto started = co_await s.start();
    notes.push_back(started ? std::string{s.uuid()} : started.error().what());
    notes.push_back(std::string{s.destination_number()} + " " + std::string{s.channel_variable("socket_host").value_or("?")});
    esl::execute_options lock{.event_lock = true};
    auto answered = co_await s.execute("answer", {}, lock);
    notes.push_back(answered ? "answer " + *answered : answered.error().what());
    notes.push_back(s.answered() ? "answered" : "not answered");
    esl::execute_options tagged{.event_uuid = "pb-0001"};
    auto played = co_await s.execute("playback", "tone_stream://%(400,0,440)", tagged);
    notes.push_back(played ? *played : played.error().what());
    esl::digits_options d{.min = 1, .max = 3, .tries = 1, .timeout = 4000ms, .terminators = "#",
                          .prompt = "tone_stream://%(200,0,800)", .invalid_prompt = "silence_stream://250",
                          .var_name = "pagd_digits", .regex = "\\d+"};
    auto got = co_await s.play_and_get_digits(d);
    notes.push_back(got ? got->value + " " + std::string(1, got->terminator.value_or('-')) + " " + got->status
                        : got.error().what());
    auto set = co_await s.set_variable("costrix_var", "hello world");
    notes.push_back(set ? "set" : set.error().what());
    auto var = co_await s.get_variable("costrix_var");
    notes.push_back(var && *var ? **var : "?");
    esl::execute_options twice{.loops = 2};
    auto looped = co_await s.execute("playback", "silence_stream://100", twice);
    notes.push_back(looped ? *looped : looped.error().what());
    auto bad = co_await s.command("sendmsg\ncall-command: frobnicate");
    notes.push_back(bad ? *bad : bad.error().what());
    auto nomedia = co_await s.command("sendmsg\ncall-command: nomedia\nnomedia-uuid: a77236ce-9171-4453-b2ab-b17c86c9c143");
    notes.push_back(nomedia ? *nomedia : nomedia.error().what());
    auto missing = co_await s.execute("no_such_app", "x");
    notes.push_back(missing ? "ran" : missing.error().what());
    auto cause = co_await s.hung_up();
    notes.push_back(cause ? *cause : cause.error().what());
    auto lingering = co_await s.command("sendmsg\ncall-command: execute\nexecute-app-name: answer");
    notes.push_back(lingering ? *lingering : lingering.error().what());
    auto bye = co_await s.command("exit");
    notes.push_back(bye ? *bye : bye.error().what());
    co_await s.shutdown();
  };
  costrix::test::run(ctx, script());
  peer.join();
  checks.verify();
  CHECK(notes == std::vector<std::string>{"a77236ce-9171-4453-b2ab-b17c86c9c143", "9000 127.0.0.1", "answer _none_",
                                          "answered", "FILE PLAYED", "12 # success", "set", "hello world",
                                          "FILE PLAYED", "+OK", "+OK", "hangup: DESTINATION_OUT_OF_ORDER",
                                          "DESTINATION_OUT_OF_ORDER", "+OK", "+OK bye"});
}

TEST_CASE("esl session: replays esl-outbound-sync byte for byte", "[esl][session][transcript]") {
  auto steps = costrix::test::load_steps("esl-outbound-sync.json");
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] { replay(sp.far(), steps, checks); });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session_options o{.myevents = false, .linger = false, .tag_executes = false, .event_lock = false};
    esl::session s{stream, o};
    auto started = co_await s.start();
    notes.push_back(started ? "started" : started.error().what());
    auto answered = co_await s.answer();
    notes.push_back(answered ? "answer" : answered.error().what());
    auto played = co_await s.stream_file("tone_stream://%(600,0,440)");
    notes.push_back(played ? "played" : played.error().what());
    auto uuid = co_await s.get_variable("uuid");
    notes.push_back(uuid && *uuid ? **uuid : "?");
    auto hung = co_await s.hangup(esl::cause::user_busy);
    notes.push_back(hung ? "hangup" : hung.error().what());
    auto cause = co_await s.hung_up();
    notes.push_back(cause ? "hung up" : cause.error().what());
    co_await s.shutdown();
  };
  costrix::test::run(ctx, script());
  peer.join();
  checks.verify();
  CHECK(notes == std::vector<std::string>{"started", "answer", "played", "a56c6ca3-924d-464a-9fc8-b7afe89802b7",
                                          "hangup", "hung up"});
}

TEST_CASE("esl session: executes complete by Application-UUID whatever the order of events",
          "[esl][session]") {
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] {
    int fd = sp.far();
    costrix::test::peer_io io{fd};
    PEER_CHECK(checks, read_command(fd) == "connect\n\n");
    io.send("Event-Name: CHANNEL_DATA\nUnique-ID: u-0\nCaller-Destination-Number: 1\nContent-Type: command/reply\n"
            "Reply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n");
    PEER_CHECK(checks, read_command(fd) == "myevents\n\n");
    io.send("Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n");
    std::string first = read_command(fd), second = read_command(fd);
    PEER_CHECK(checks, first.find("Event-UUID: u-1\n") != std::string::npos);
    PEER_CHECK(checks, second.find("Event-UUID: u-2\n") != std::string::npos);
    io.send("Content-Type: command/reply\nReply-Text: +OK\n\nContent-Type: command/reply\nReply-Text: +OK\n\n");
    io.send(event("CHANNEL_EXECUTE", "Application: playback\nApplication-UUID: u-1\n"));
    io.send(event("CHANNEL_EXECUTE", "Application: playback\nApplication-UUID: u-2\n"));
    io.send(event("DTMF", "DTMF-Digit: 3\nDTMF-Duration: 800\n"));
    io.send(event("CHANNEL_EXECUTE_COMPLETE", "Application-Response: R2\nApplication-UUID: u-2\n"));
    io.send(event("CHANNEL_EXECUTE_COMPLETE", "Application-Response: OTHER%20LEG\nApplication-UUID: u-1\n", "u-9"));
    io.send(event("CHANNEL_EXECUTE_COMPLETE", "Application-Response: R1\nApplication-UUID: u-1\n"));
    io.send(event("CHANNEL_HANGUP", "Hangup-Cause: NORMAL_CLEARING\n"));
    io.send("Content-Type: text/disconnect-notice\nContent-Disposition: disconnect\nContent-Length: 3\n\nbye");
    ::shutdown(fd, SHUT_RDWR);
  });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session_options o{.myevents = true, .linger = false, .event_lock = false};
    esl::session s{stream, o};
    auto started = co_await s.start();
    notes.push_back(started ? "started" : started.error().what());
    esl::execute_options one{.event_uuid = "u-1"}, two{.event_uuid = "u-2"};
    auto [r1, r2] = co_await (s.execute("playback", "a.wav", one) && s.execute("playback", "b.wav", two));
    notes.push_back(r1 ? *r1 : r1.error().what());
    notes.push_back(r2 ? *r2 : r2.error().what());
    auto in = co_await s.next_input();
    notes.push_back(in && in->digit ? std::string(1, *in->digit) + " " + std::to_string(in->duration.count()) : "?");
    auto cause = co_await s.hung_up();
    notes.push_back(cause ? *cause : cause.error().what());
    auto after = co_await s.answer();
    notes.push_back(after ? "answered" : after.error().what());
    auto in2 = co_await s.next_input();
    notes.push_back(in2 ? "input" : in2.error().what());
    co_await s.shutdown();
  };
  costrix::test::run(ctx, script());
  peer.join();
  checks.verify();
  CHECK(notes == std::vector<std::string>{"started", "R1", "R2", "3 100", "NORMAL_CLEARING",
                                          "hangup: NORMAL_CLEARING", "hangup: NORMAL_CLEARING"});
}

TEST_CASE("esl session: a socket that closes ends the verb in flight with errc::disconnected", "[esl][session]") {
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] {
    int fd = sp.far();
    costrix::test::peer_io io{fd};
    open_channel(fd, io, checks);
    PEER_CHECK(checks, read_command(fd).starts_with("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"));
    ::shutdown(fd, SHUT_RDWR);
  });
  asio::io_context ctx;
  std::vector<std::string> notes;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session_options o{.linger = false};
    esl::session s{stream, o};
    auto started = co_await s.start();
    notes.push_back(started ? "started" : started.error().what());
    auto answered = co_await s.answer();
    notes.push_back(answered ? "answered" : answered.error().code == errc::disconnected ? "disconnected" : "?");
    auto cause = co_await s.hung_up();
    notes.push_back(cause ? "hung up" : cause.error().code == errc::disconnected ? "disconnected" : "?");
    co_await s.shutdown();
  };
  costrix::test::run(ctx, script());
  peer.join();
  checks.verify();
  CHECK(notes == std::vector<std::string>{"started", "disconnected", "disconnected"});
}

TEST_CASE("esl session: a command FreeSWITCH does not answer times out - and its late reply answers no other",
          "[esl][session][fault]") {
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::thread peer([&] {
    int fd = sp.far();
    costrix::test::peer_io io{fd};
    open_channel(fd, io, checks);
    PEER_CHECK(checks, read_command(fd).starts_with("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"));
    // Silent until the session has given up on the answer and sent the next command.
    PEER_CHECK(checks, read_command(fd) == "api uuid_getvar u-0 FOO\n\n");
    io.send("Content-Type: command/reply\nReply-Text: +OK\n\n");  // the answer's reply, late
    io.send("Content-Type: api/response\nContent-Length: 3\n\nbar");
    ::shutdown(fd, SHUT_RDWR);
  });
  asio::io_context ctx;
  std::optional<errc> answered;
  std::optional<std::string> foo;
  auto script = [&]() -> awaitable<void> {
    auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
    esl::session_options o{.linger = false};
    o.command_timeout = 1s;  // the next command's reply comes at once: a margin for a loaded machine
    esl::session s{stream, o};
    auto started = co_await s.start();
    REQUIRE(started);
    auto a = co_await s.answer();
    answered = a ? errc{} : static_cast<errc>(a.error().code.value());
    auto v = co_await s.get_variable("FOO");
    if (v && *v) foo = **v;
    co_await s.shutdown();
  };
  costrix::test::run(ctx, script());
  peer.join();
  checks.verify();
  CHECK(answered == errc::timeout);
  CHECK(foo == "bar");
}
