// proto::esl commands: the bytes each one writes, and what is refused.
#include <costrix/proto/esl/command.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace costrix;
namespace esl = costrix::proto::esl;

namespace {

template <class Command>
std::string bytes(const Command& c) {
  std::string out;
  auto r = esl::encode(c, out);
  INFO((r ? std::string{} : r.error().what()));
  REQUIRE(r);
  return out;
}

// The error encoding `c` gives; `out` must be left as it was.
template <class Command>
costrix::error refused(const Command& c) {
  std::string out = "kept";
  auto r = esl::encode(c, out);
  REQUIRE_FALSE(r);
  CHECK(out == "kept");
  CHECK(r.error() == errc::invalid_argument);
  return r.error();
}

bool mentions(const costrix::error& e, std::string_view text) { return e.message.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("esl commands: the bytes of each", "[proto][esl][command]") {
  using namespace std::chrono_literals;
  CHECK(bytes(esl::auth{"ClueCon"}) == "auth ClueCon\n\n");
  CHECK(bytes(esl::auth{"pass with spaces"}) == "auth pass with spaces\n\n");
  CHECK(bytes(esl::userauth{"1000", "example.com", "s3cret:x"}) == "userauth 1000@example.com:s3cret:x\n\n");
  CHECK(bytes(esl::api{"status"}) == "api status\n\n");
  CHECK(bytes(esl::bgapi{"status"}) == "bgapi status\n\n");
  CHECK(bytes(esl::bgapi{.command = "status", .job_uuid = "j-1"}) == "bgapi status\nJob-UUID: j-1\n\n");
  CHECK(bytes(esl::events{.format = esl::event_format::xml, .names = {"CUSTOM", "sofia::register"}}) ==
        "event xml CUSTOM sofia::register\n\n");
  CHECK(bytes(esl::nixevent{{"DTMF", "HEARTBEAT"}}) == "nixevent DTMF HEARTBEAT\n\n");
  CHECK(bytes(esl::noevents{}) == "noevents\n\n");
  CHECK(bytes(esl::filter{"Unique-ID", "a b"}) == "filter Unique-ID a b\n\n");
  CHECK(bytes(esl::filter_delete{"all"}) == "filter delete all\n\n");
  CHECK(bytes(esl::myevents{"uuid-1"}) == "myevents uuid-1\n\n");
  CHECK(bytes(esl::divert_events{}) == "divert_events on\n\n");
  CHECK(bytes(esl::divert_events{false}) == "divert_events off\n\n");
  CHECK(bytes(esl::linger{30s}) == "linger 30\n\n");
  CHECK(bytes(esl::nolinger{}) == "nolinger\n\n");
  CHECK(bytes(esl::resume{}) == "resume\n\n");
  CHECK(bytes(esl::sendevent{.name = "NOTIFY", .headers = {{"profile", "internal"}}}) ==
        "sendevent NOTIFY\nprofile: internal\n\n");
  CHECK(bytes(esl::sendevent{.name = "CUSTOM", .body = "{}", .content_type = "application/json"}) ==
        "sendevent CUSTOM\nContent-Type: application/json\nContent-Length: 2\n\n{}");
  CHECK(bytes(esl::hangup{}) == "sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n");
  CHECK(bytes(esl::hangup{.uuid = "u-1", .cause = "CALL_REJECTED"}) ==
        "sendmsg u-1\ncall-command: hangup\nhangup-cause: CALL_REJECTED\n\n");
  CHECK(bytes(esl::unicast{.uuid = "u-1", .local_port = 9000, .remote_port = 9001, .flags = "native"}) ==
        "sendmsg u-1\ncall-command: unicast\nlocal-ip: 127.0.0.1\nlocal-port: 9000\nremote-ip: 127.0.0.1\n"
        "remote-port: 9001\ntransport: udp\nflags: native\n\n");
  CHECK(bytes(esl::nomedia{.uuid = "u-1", .nomedia_uuid = "u-2"}) ==
        "sendmsg u-1\ncall-command: nomedia\nnomedia-uuid: u-2\n\n");
}

TEST_CASE("esl execute: every header - and long arguments in a body", "[proto][esl][command]") {
  CHECK(bytes(esl::execute{.uuid = "u-1",
                           .app = "playback",
                           .arg = "ivr/menu.wav",
                           .event_lock = true,
                           .async = true,
                           .loops = 3,
                           .event_uuid = "app-1"}) ==
        "sendmsg u-1\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: ivr/menu.wav\n"
        "event-lock: true\nasync: true\nloops: 3\nEvent-UUID: app-1\n\n");

  SECTION("an argument of max_header_arg bytes stays a header") {
    std::string arg(esl::execute::max_header_arg, 'a');
    CHECK(bytes(esl::execute{.app = "set", .arg = arg}) ==
          "sendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: " + arg + "\n\n");
  }
  SECTION("a longer one goes in a text/plain body") {
    std::string arg(esl::execute::max_header_arg + 1, 'a');
    CHECK(bytes(esl::execute{.app = "set", .arg = arg, .event_lock = true}) ==
          "sendmsg\ncall-command: execute\nexecute-app-name: set\nevent-lock: true\nContent-Type: text/plain\n"
          "Content-Length: " +
              std::to_string(arg.size()) + "\n\n" + arg);
  }
  SECTION("so does one holding a line break: it cannot break the framing there") {
    CHECK(bytes(esl::execute{.app = "speak", .arg = "flite|kal|line one\r\nline two"}) ==
          "sendmsg\ncall-command: execute\nexecute-app-name: speak\nContent-Type: text/plain\n"
          "Content-Length: 28\n\nflite|kal|line one\r\nline two");
  }
}

TEST_CASE("esl commands refuse what would break the framing", "[proto][esl][command][hostile]") {
  SECTION("CR or LF where a line would end early: injection") {
    CHECK(mentions(refused(esl::api{"status\n\nauth x"}), "CR, LF or NUL"));
    CHECK(mentions(refused(esl::api{"status\r"}), "CR, LF or NUL"));
    CHECK(refused(esl::bgapi{"status\nexit"}) == errc::invalid_argument);
    CHECK(mentions(refused(esl::bgapi{.command = "status", .job_uuid = "j\nexit"}), "Job-UUID"));
    CHECK(refused(esl::auth{"pw\n\nexit"}) == errc::invalid_argument);
    CHECK(refused(esl::userauth{"u", "d", "pw\nexit"}) == errc::invalid_argument);
    CHECK(refused(esl::filter{"Event-Name", "X\n\nexit"}) == errc::invalid_argument);
    CHECK(refused(esl::sendevent{.name = "CUSTOM", .headers = {{"X", "a\r\nb"}}}) == errc::invalid_argument);
    CHECK(refused(esl::execute{.app = "set", .event_uuid = "e\n"}) == errc::invalid_argument);
    CHECK(refused(esl::hangup{.cause = "NORMAL\nCLEARING"}) == errc::invalid_argument);
    CHECK(refused(esl::unicast{.transport = "udp\n"}) == errc::invalid_argument);
  }
  SECTION("a NUL, which FreeSWITCH would cut a line or body at") {
    CHECK(refused(esl::api{std::string_view{"sta\0tus", 7}}) == errc::invalid_argument);
    CHECK(mentions(refused(esl::sendevent{.name = "CUSTOM", .body = std::string_view{"a\0b", 3}}), "NUL"));
    CHECK(refused(esl::execute{.app = "set", .arg = std::string_view{"a\0b", 3}}) == errc::invalid_argument);
  }
  SECTION("words that must be one word") {
    CHECK(mentions(refused(esl::events{.names = {"CHANNEL ANSWER"}}), "not one word"));
    CHECK(mentions(refused(esl::events{}), "without an event name"));
    CHECK(refused(esl::nixevent{}) == errc::invalid_argument);
    CHECK(refused(esl::nixevent{{""}}) == errc::invalid_argument);
    CHECK(refused(esl::myevents{"a b"}) == errc::invalid_argument);
    CHECK(refused(esl::filter{"Event Name", "X"}) == errc::invalid_argument);
    CHECK(refused(esl::filter_delete{""}) == errc::invalid_argument);
    CHECK(refused(esl::execute{.app = ""}) == errc::invalid_argument);
    CHECK(refused(esl::execute{.uuid = "u 1", .app = "answer"}) == errc::invalid_argument);
    CHECK(refused(esl::hangup{.uuid = "u\t1"}) == errc::invalid_argument);
    CHECK(refused(esl::nomedia{}) == errc::invalid_argument);
    CHECK(refused(esl::sendevent{.name = "CUSTOM EVENT"}) == errc::invalid_argument);
  }
  SECTION("empty or ill-formed arguments") {
    using namespace std::chrono_literals;
    CHECK(refused(esl::auth{""}) == errc::invalid_argument);
    CHECK(refused(esl::api{""}) == errc::invalid_argument);
    CHECK(refused(esl::bgapi{""}) == errc::invalid_argument);
    CHECK(refused(esl::filter{"Event-Name", ""}) == errc::invalid_argument);
    CHECK(refused(esl::userauth{"a@b", "d", "p"}) == errc::invalid_argument);
    CHECK(refused(esl::userauth{"u", "d:x", "p"}) == errc::invalid_argument);
    CHECK(refused(esl::userauth{"u", "", "p"}) == errc::invalid_argument);
    CHECK(refused(esl::userauth{"u", "d", ""}) == errc::invalid_argument);
    CHECK(refused(esl::linger{0s}) == errc::invalid_argument);
    CHECK(refused(esl::linger{-5s}) == errc::invalid_argument);
  }
  SECTION("header keys and the Content-Length that body() writes") {
    CHECK(
        mentions(refused(esl::sendevent{.name = "CUSTOM", .headers = {{"Content-Length", "3"}}}), "body() writes it"));
    CHECK(mentions(refused(esl::sendevent{.name = "CUSTOM", .headers = {{"Bad Key", "x"}}}), "not a token"));
    CHECK(refused(esl::sendevent{.name = "CUSTOM", .headers = {{"Key:", "x"}}}) == errc::invalid_argument);
    CHECK(refused(esl::sendevent{.name = "CUSTOM", .headers = {{"", "x"}}}) == errc::invalid_argument);
  }
}

TEST_CASE("esl command_writer: raw commands through the same path", "[proto][esl][command]") {
  std::string out;
  REQUIRE(esl::command_writer(out, "log").arg("DEBUG").finish());
  CHECK(out == "log DEBUG\n\n");
  REQUIRE(esl::command_writer(out, "sendmsg")
              .arg("u-1")
              .header("call-command", "xferext")
              .header("application", "playback ivr/menu.wav")
              .finish());
  CHECK(out == "log DEBUG\n\nsendmsg u-1\ncall-command: xferext\napplication: playback ivr/menu.wav\n\n");

  SECTION("misuse leaves out as it was") {
    std::string kept = out;
    CHECK_FALSE(esl::command_writer(out, "").finish());
    CHECK_FALSE(esl::command_writer(out, "api\nexit").finish());
    CHECK_FALSE(esl::command_writer(out, "sendmsg").header("a", "b").arg("late").finish());
    CHECK_FALSE(esl::command_writer(out, "sendevent X").body("", "b").header("a", "b").finish());
    CHECK_FALSE(esl::command_writer(out, "sendevent X").body("", "a").body("", "b").finish());
    CHECK(out == kept);
  }
}
