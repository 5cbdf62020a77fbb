// Every AGI command through the whole stack: the typed session API, the FastAGI
// server on a runtime, loopback TCP, and the Asterisk simulator.
#include <costrix/fastagi/server.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace agi = costrix::agi;
namespace asio = boost::asio;

namespace {

// "ok", "ok:<value>" or the error's name, for one command's result.
template <class T>
std::string outcome(const costrix::result<T>& r) {
  if (!r) return r.error().code.message();
  if constexpr (std::is_void_v<T>) {
    return "ok";
  } else if constexpr (std::is_same_v<T, std::optional<char>>) {
    return *r ? "ok:" + std::string(1, **r) : "ok:none";
  } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
    return *r ? "ok:" + **r : "ok:absent";
  } else if constexpr (std::is_same_v<T, agi::playback>) {
    return "ok:" + (r->digit ? std::string(1, *r->digit) : "-") + "@" + std::to_string(r->endpos);
  } else if constexpr (std::is_same_v<T, agi::digits>) {
    return "ok:" + r->value + (r->timed_out ? " (timeout)" : "");
  } else if constexpr (std::is_same_v<T, agi::channel_state>) {
    return "ok:" + std::to_string(static_cast<int>(*r));
  } else if constexpr (std::is_same_v<T, agi::recording>) {
    return "ok:" + std::to_string(static_cast<int>(r->reason)) + (r->digit ? std::string(1, *r->digit) : "-");
  } else if constexpr (std::is_same_v<T, agi::speech>) {
    std::string s = "ok:" + std::to_string(static_cast<int>(r->reason));
    for (const auto& h : r->results) s += " " + h.text + "/" + h.grammar + "/" + std::to_string(h.score);
    if (r->digit) s += " digit " + std::string(1, *r->digit);
    return s;
  } else if constexpr (std::is_same_v<T, costrix::proto::agi::raw_reply>) {
    return "ok:" + std::to_string(r->code) + " " + r->result;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "ok:" + *r;
  } else if constexpr (std::is_same_v<T, bool>) {
    return *r ? "ok:true" : "ok:false";
  } else {
    return "ok:" + std::to_string(*r);
  }
}

using log_t = std::vector<std::pair<std::string, std::string>>;

awaitable<void> every_command(agi::session& s, log_t& out) {
  auto note = [&](std::string what, const auto& r) { out.emplace_back(std::move(what), outcome(r)); };
  note("ANSWER", co_await s.answer());
  note("CHANNEL STATUS", co_await s.channel_status());
  note("CHANNEL STATUS other", co_await s.channel_status("PJSIP/nobody"));
  note("WAIT FOR DIGIT", co_await s.wait_for_digit(2000ms));
  note("STREAM FILE", co_await s.stream_file("demo-thanks", "#"));
  note("STREAM FILE missing", co_await s.stream_file("no-such-file"));
  note("CONTROL STREAM FILE", co_await s.control_stream_file("demo-thanks", "*", 3000ms));
  note("GET OPTION", co_await s.get_option("demo-thanks", "9", 100ms));
  note("GET DATA", co_await s.get_data("menu", 3000ms, 4));
  note("GET DATA timeout", co_await s.get_data("menu", 100ms, 2));
  note("SAY DIGITS", co_await s.say_digits("123", "0"));
  note("SAY NUMBER", co_await s.say_number(42, "", "f"));
  note("SAY ALPHA", co_await s.say_alpha("abc"));
  note("SAY PHONETIC", co_await s.say_phonetic("ab"));
  note("SAY DATE", co_await s.say_date(1700000000));
  note("SAY TIME", co_await s.say_time(1700000000));
  note("SAY DATETIME", co_await s.say_datetime(1700000000, "", "ABdY", "UTC"));
  note("RECORD FILE", co_await s.record_file("/tmp/rec", "wav", "#", 500ms, {}, true, 1s));
  note("RECORD FILE bad format", co_await s.record_file("/tmp/rec", "nosuchformat", "#", 500ms));
  note("SET VARIABLE", co_await s.set_variable("FOO", "value with spaces and \"quotes\""));
  note("GET VARIABLE", co_await s.get_variable("FOO"));
  note("GET VARIABLE unset", co_await s.get_variable("UNSET"));
  note("GET FULL VARIABLE", co_await s.get_full_variable("${FOO}/${CALLERID(num)}"));
  note("DATABASE PUT", co_await s.database_put("fam", "key", "v 1"));
  note("DATABASE GET", co_await s.database_get("fam", "key"));
  note("DATABASE DEL", co_await s.database_del("fam", "key"));
  note("DATABASE GET missing", co_await s.database_get("fam", "key"));
  note("DATABASE PUT 2", co_await s.database_put("fam2", "a", "1"));
  note("DATABASE DELTREE", co_await s.database_deltree("fam2"));
  note("DATABASE DELTREE empty", co_await s.database_deltree("fam2"));
  note("EXEC", co_await s.exec("Set", "X=1,2"));
  note("EXEC missing", co_await s.exec("NoSuchApp", "foo"));
  note("GET VARIABLE X", co_await s.get_variable("X"));
  note("GOSUB", co_await s.gosub("agi-sub", "s", "1", "arg1,arg2"));
  note("NOOP", co_await s.noop("checkpoint"));
  note("VERBOSE", co_await s.verbose("hello world", 3));
  note("RECEIVE CHAR", co_await s.receive_char(100ms));
  note("RECEIVE TEXT", co_await s.receive_text(100ms));
  note("SEND TEXT", co_await s.send_text("hello"));
  note("SEND IMAGE", co_await s.send_image("logo"));
  note("TDD MODE", co_await s.tdd_mode(costrix::proto::agi::tdd_setting::on));
  note("SET AUTOHANGUP", co_await s.set_autohangup(0s));
  note("SET CALLERID", co_await s.set_callerid("\"John Doe\" <5551234>"));
  note("SET CONTEXT", co_await s.set_context("agi-test"));
  note("SET EXTENSION", co_await s.set_extension("s"));
  note("SET PRIORITY", co_await s.set_priority("3"));
  note("SET MUSIC on", co_await s.set_music(true, "default"));
  note("SET MUSIC off", co_await s.set_music(false));
  note("SPEECH CREATE nosuchengine", co_await s.speech_create("nosuchengine"));
  note("SPEECH CREATE", co_await s.speech_create("sim"));
  note("SPEECH SET", co_await s.speech_set("confidence", "500"));
  note("SPEECH LOAD GRAMMAR", co_await s.speech_load_grammar("yesno", "/grammars/yesno.gram"));
  note("SPEECH ACTIVATE GRAMMAR", co_await s.speech_activate_grammar("yesno"));
  note("SPEECH RECOGNIZE", co_await s.speech_recognize("question", 5s));
  note("SPEECH DEACTIVATE GRAMMAR", co_await s.speech_deactivate_grammar("yesno"));
  note("SPEECH UNLOAD GRAMMAR", co_await s.speech_unload_grammar("yesno"));
  note("SPEECH DESTROY", co_await s.speech_destroy());
  note("raw FOO BAR", co_await s.raw("FOO BAR"));
  note("raw NOOP", co_await s.raw("NOOP"));
  note("ASYNCAGI BREAK", co_await s.asyncagi_break());
  note("HANGUP", co_await s.hangup());
  note("NOOP after hangup", co_await s.noop());
}

}  // namespace

TEST_CASE("fastagi: every AGI command round-trips through server and simulator", "[fastagi][commands]") {
  costrix::runtime rt{{.threads = 2}};
  costrix::fastagi::server srv{rt, {.listen = "127.0.0.1:0"}};
  log_t seen;
  srv.route("all", [&](agi::session& s) { return every_command(s, seen); });
  REQUIRE(srv.start());
  rt.start();

  asio::io_context client;
  // Keys: 5 for WAIT FOR DIGIT, # stops STREAM FILE, * stops CONTROL STREAM FILE,
  // 12# for GET DATA; none left for the rest.
  costrix::sim::agi_call call{.script = "all", .callerid = "5551234", .dtmf = "5#*12#"};
  asio::ip::tcp::endpoint server{asio::ip::make_address("127.0.0.1"), srv.port()};
  auto report = costrix::test::run(client, costrix::sim::call_fastagi(server, call));
  REQUIRE(report);
  // The handler has ended (Asterisk saw the connection close); stopping the
  // server also orders its writes to `seen` before the reads below.
  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();

  std::map<std::string, std::string> got(seen.begin(), seen.end());
  const std::map<std::string, std::string> expected{
      {"ANSWER", "ok"},
      {"CHANNEL STATUS", "ok:6"},
      {"CHANNEL STATUS other", "not found"},
      {"WAIT FOR DIGIT", "ok:5"},
      {"STREAM FILE", "ok:#@22080"},
      {"STREAM FILE missing", "failed"},
      {"CONTROL STREAM FILE", "ok:*@-1"},
      {"GET OPTION", "ok:-@44160"},
      {"GET DATA", "ok:12"},
      {"GET DATA timeout", "ok: (timeout)"},
      {"SAY DIGITS", "ok:none"},
      {"SAY NUMBER", "ok:none"},
      {"SAY ALPHA", "ok:none"},
      {"SAY PHONETIC", "ok:none"},
      {"SAY DATE", "ok:none"},
      {"SAY TIME", "ok:none"},
      {"SAY DATETIME", "ok:none"},
      {"RECORD FILE", "ok:1-"},
      {"RECORD FILE bad format", "failed"},
      {"SET VARIABLE", "ok"},
      {"GET VARIABLE", "ok:value with spaces and \"quotes\""},
      {"GET VARIABLE unset", "ok:absent"},
      {"GET FULL VARIABLE", "ok:value with spaces and \"quotes\"/5551234"},
      {"DATABASE PUT", "ok"},
      {"DATABASE GET", "ok:v 1"},
      {"DATABASE DEL", "ok"},
      {"DATABASE GET missing", "ok:absent"},
      {"DATABASE PUT 2", "ok"},
      {"DATABASE DELTREE", "ok:true"},
      {"DATABASE DELTREE empty", "ok:false"},
      {"EXEC", "ok:0"},
      {"EXEC missing", "not found"},
      {"GET VARIABLE X", "ok:1,2"},
      {"GOSUB", "ok"},
      {"NOOP", "ok"},
      {"VERBOSE", "ok"},
      {"RECEIVE CHAR", "failed"},  // Asterisk writes "(hangup)" for any failure, even on a live channel
      {"RECEIVE TEXT", "failed"},
      {"SEND TEXT", "ok"},
      {"SEND IMAGE", "ok"},
      {"TDD MODE", "failed"},
      {"SET AUTOHANGUP", "ok"},
      {"SET CALLERID", "ok"},
      {"SET CONTEXT", "ok"},
      {"SET EXTENSION", "ok"},
      {"SET PRIORITY", "ok"},
      {"SET MUSIC on", "ok"},
      {"SET MUSIC off", "ok"},
      {"SPEECH CREATE nosuchengine", "failed"},
      {"SPEECH CREATE", "ok"},
      {"SPEECH SET", "ok"},
      {"SPEECH LOAD GRAMMAR", "ok"},
      {"SPEECH ACTIVATE GRAMMAR", "ok"},
      {"SPEECH RECOGNIZE", "ok:0 yes/yesno/1000"},
      {"SPEECH DEACTIVATE GRAMMAR", "ok"},
      {"SPEECH UNLOAD GRAMMAR", "ok"},
      {"SPEECH DESTROY", "ok"},
      {"raw FOO BAR", "invalid command"},
      {"raw NOOP", "ok:200 0"},
      {"ASYNCAGI BREAK", "ok"},
      {"HANGUP", "ok"},
      {"NOOP after hangup", "hangup"},
  };
  for (const auto& [what, result] : expected) {
    INFO(what);
    CHECK(got[what] == result);
  }
  CHECK(got.size() == expected.size());
  CHECK(report->exchanges.size() == expected.size());  // every command was sent, and answered
}
