#include <costrix/proto/agi/commands.hpp>

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::agi;
using namespace std::chrono_literals;
using std::optional;
using std::string;

namespace {

template <command C>
string enc(const C& c) {
  string out;
  auto r = encode(c, out);
  REQUIRE(r);
  return out;
}

// Parses the reply lines and decodes them as the reply to C.
template <command C>
result<typename C::reply_type> dec(std::initializer_list<std::string_view> lines) {
  reply_parser p;
  std::size_t i = 0;
  for (auto line : lines) {
    auto done = p.feed(line);
    REQUIRE(done);
    REQUIRE(*done == (++i == lines.size()));
  }
  return decode<C>(p.get());
}

template <class R>
errc error_of(const R& r) {
  REQUIRE_FALSE(r);
  for (int e = 1; e <= static_cast<int>(errc::invalid_argument); ++e)
    if (r.error() == static_cast<errc>(e)) return static_cast<errc>(e);
  FAIL("not a costrix error");
  return errc::protocol;
}

}  // namespace

TEST_CASE("ANSWER", "[proto][agi][commands]") {
  CHECK(enc(answer{}) == "ANSWER\n");
  CHECK(dec<answer>({"200 result=0"}));
  CHECK(error_of(dec<answer>({"200 result=-1"})) == errc::failed);
}

TEST_CASE("ASYNCAGI BREAK", "[proto][agi][commands]") {
  CHECK(enc(asyncagi_break{}) == "ASYNCAGI BREAK\n");
  CHECK(dec<asyncagi_break>({"200 result=0"}));
}

TEST_CASE("CHANNEL STATUS", "[proto][agi][commands]") {
  CHECK(enc(channel_status{}) == "CHANNEL STATUS\n");
  CHECK(enc(channel_status{"PJSIP/100-00000001"}) == "CHANNEL STATUS PJSIP/100-00000001\n");
  CHECK(dec<channel_status>({"200 result=6"}).value() == channel_state::up);
  CHECK(dec<channel_status>({"200 result=0"}).value() == channel_state::down);
  CHECK(static_cast<int>(dec<channel_status>({"200 result=10"}).value()) == 10);  // a state added later
  CHECK(error_of(dec<channel_status>({"200 result=-1"})) == errc::not_found);
  CHECK(error_of(dec<channel_status>({"200 result=-5"})) == errc::protocol);
  CHECK(error_of(dec<channel_status>({"200 result=up"})) == errc::protocol);
}

TEST_CASE("CONTROL STREAM FILE", "[proto][agi][commands]") {
  CHECK(enc(control_stream_file{"demo"}) == "CONTROL STREAM FILE demo \"\"\n");
  CHECK(enc(control_stream_file{"demo", "", 3000ms}) == "CONTROL STREAM FILE demo \"\" 3000\n");
  CHECK(enc(control_stream_file{"demo", "0", {}, "6"}) == "CONTROL STREAM FILE demo \"0\" 3000 \"6\"\n");
  CHECK(enc(control_stream_file{"demo", "0", 5s, "", "", "5"}) == "CONTROL STREAM FILE demo \"0\" 5000 \"\" \"\" \"5\"\n");
  CHECK(enc(control_stream_file{"demo", "", {}, "", "", "", 1500ms}) ==
        "CONTROL STREAM FILE demo \"\" 3000 \"\" \"\" \"\" 1500\n");
  CHECK(dec<control_stream_file>({"200 result=0 endpos=-1"}).value() == playback{{}, -1});
  CHECK(dec<control_stream_file>({"200 result=48 endpos=1234"}).value() == playback{'0', 1234});
  CHECK(error_of(dec<control_stream_file>({"200 result=-1 endpos=0"})) == errc::failed);
}

TEST_CASE("DATABASE DEL / DELTREE / GET / PUT", "[proto][agi][commands]") {
  CHECK(enc(database_del{"fam", "key 1"}) == "DATABASE DEL fam \"key 1\"\n");
  CHECK(dec<database_del>({"200 result=1"}));
  CHECK(error_of(dec<database_del>({"200 result=0"})) == errc::failed);

  CHECK(enc(database_deltree{"fam"}) == "DATABASE DELTREE fam\n");
  CHECK(enc(database_deltree{"fam", "sub/tree"}) == "DATABASE DELTREE fam sub/tree\n");
  CHECK(dec<database_deltree>({"200 result=0"}).value() == true);
  CHECK(dec<database_deltree>({"200 result=1"}).value() == false);
  CHECK(error_of(dec<database_deltree>({"200 result=2"})) == errc::protocol);

  CHECK(enc(database_get{"fam", "key1"}) == "DATABASE GET fam key1\n");
  CHECK(dec<database_get>({"200 result=1 (v 1)"}).value() == optional<string>{"v 1"});
  CHECK(dec<database_get>({"200 result=0"}).value() == std::nullopt);
  CHECK(error_of(dec<database_get>({"200 result=-1"})) == errc::failed);

  CHECK(enc(database_put{"fam", "key1", "v 1"}) == "DATABASE PUT fam key1 \"v 1\"\n");
  CHECK(enc(database_put{"fam", "key1", ""}) == "DATABASE PUT fam key1 \"\"\n");
  CHECK(dec<database_put>({"200 result=1"}));
  CHECK(error_of(dec<database_put>({"200 result=0"})) == errc::failed);
}

TEST_CASE("EXEC", "[proto][agi][commands]") {
  CHECK(enc(exec{"Wait", "0"}) == "EXEC Wait 0\n");
  CHECK(enc(exec{"Answer"}) == "EXEC Answer\n");
  CHECK(enc(exec{"Set", "X=1,2"}) == "EXEC Set \"X=1,2\"\n");
  CHECK(enc(exec{"Dial", "PJSIP/100,30,tT"}) == "EXEC Dial \"PJSIP/100,30,tT\"\n");
  CHECK(enc(exec{"Playback", "say \"hi\""}) == "EXEC Playback \"say \\\"hi\\\"\"\n");
  CHECK(dec<exec>({"200 result=0"}).value() == 0);
  CHECK(dec<exec>({"200 result=-1"}).value() == -1);
  CHECK(error_of(dec<exec>({"200 result=-2"})) == errc::not_found);
  CHECK(error_of(dec<exec>({"200 result=99999999999"})) == errc::protocol);
}

TEST_CASE("GET DATA", "[proto][agi][commands]") {
  CHECK(enc(get_data{"beep"}) == "GET DATA beep\n");
  CHECK(enc(get_data{"beep", 100ms, 2}) == "GET DATA beep 100 2\n");
  CHECK(enc(get_data{"beep", 5s}) == "GET DATA beep 5000\n");
  CHECK(enc(get_data{"beep", {}, 4}) == "GET DATA beep 0 4\n");
  CHECK(dec<get_data>({"200 result= (timeout)"}).value() == digits{"", true});
  CHECK(dec<get_data>({"200 result=12 (timeout)"}).value() == digits{"12", true});
  CHECK(dec<get_data>({"200 result=1234"}).value() == digits{"1234", false});
  CHECK(dec<get_data>({"200 result=*0#"}).value() == digits{"*0#", false});
  CHECK(dec<get_data>({"200 result="}).value() == digits{"", false});
  CHECK(error_of(dec<get_data>({"200 result=-1"})) == errc::failed);
}

TEST_CASE("GET FULL VARIABLE / GET VARIABLE", "[proto][agi][commands]") {
  CHECK(enc(get_full_variable{"${CALLERID(num)}"}) == "GET FULL VARIABLE ${CALLERID(num)}\n");
  CHECK(enc(get_full_variable{"${X} ${Y}", "PJSIP/1"}) == "GET FULL VARIABLE \"${X} ${Y}\" PJSIP/1\n");
  CHECK(dec<get_full_variable>({"200 result=1 ()"}).value() == optional<string>{""});
  CHECK(dec<get_full_variable>({"200 result=1 (a (b) c)"}).value() == optional<string>{"a (b) c"});
  CHECK(dec<get_full_variable>({"200 result=0"}).value() == std::nullopt);

  CHECK(enc(get_variable{"FOO"}) == "GET VARIABLE FOO\n");
  CHECK(dec<get_variable>({"200 result=1 (value with spaces and \"quotes\")"}).value() ==
        optional<string>{"value with spaces and \"quotes\""});
  CHECK(dec<get_variable>({"200 result=0"}).value() == std::nullopt);
  CHECK(dec<get_variable>({"200 result=1"}).value() == optional<string>{""});
  CHECK(error_of(dec<get_variable>({"200 result=7"})) == errc::protocol);
  CHECK(error_of(dec<get_variable>({"200 result=x"})) == errc::protocol);
}

TEST_CASE("GET OPTION", "[proto][agi][commands]") {
  CHECK(enc(get_option{"demo-thanks"}) == "GET OPTION demo-thanks \"\"\n");
  CHECK(enc(get_option{"demo-thanks", "12", 100ms}) == "GET OPTION demo-thanks \"12\" 100\n");
  CHECK(dec<get_option>({"200 result=0 endpos=44160"}).value() == playback{{}, 44160});
  CHECK(dec<get_option>({"200 result=50 endpos=100"}).value() == playback{'2', 100});
  CHECK(error_of(dec<get_option>({"200 result=-1 endpos=0"})) == errc::failed);
}

TEST_CASE("GOSUB", "[proto][agi][commands]") {
  CHECK(enc(gosub{"agi-sub", "s", "1"}) == "GOSUB agi-sub s 1\n");
  CHECK(enc(gosub{"agi-sub", "s", "start", "arg1,arg 2"}) == "GOSUB agi-sub s start \"arg1,arg 2\"\n");
  CHECK(dec<gosub>({"100 result=0 Trying...", "200 result=0 Gosub complete"}));
  auto bad = dec<gosub>({"200 result=-1 Gosub label not found"});
  CHECK(error_of(bad) == errc::failed);
  CHECK(bad.error().message.find("Gosub label not found") != string::npos);
  CHECK(error_of(dec<gosub>({"503 result=-2 Memory allocation failure"})) == errc::failed);
}

TEST_CASE("HANGUP", "[proto][agi][commands]") {
  CHECK(enc(hangup{}) == "HANGUP\n");
  CHECK(enc(hangup{"PJSIP/1-1"}) == "HANGUP PJSIP/1-1\n");
  CHECK(dec<hangup>({"200 result=1"}));
  CHECK(error_of(dec<hangup>({"200 result=-1"})) == errc::not_found);
  CHECK(error_of(dec<hangup>({"200 result=0"})) == errc::protocol);
}

TEST_CASE("NOOP", "[proto][agi][commands]") {
  CHECK(enc(noop{}) == "NOOP\n");
  CHECK(enc(noop{"a note"}) == "NOOP \"a note\"\n");
  CHECK(dec<noop>({"200 result=0"}));
  CHECK(error_of(dec<noop>({"HANGUP", "200 result=0"})) == errc::hangup);
}

TEST_CASE("RECEIVE CHAR / RECEIVE TEXT", "[proto][agi][commands]") {
  CHECK(enc(receive_char{100ms}) == "RECEIVE CHAR 100\n");
  CHECK(dec<receive_char>({"200 result=65"}).value() == optional<char>{'A'});
  CHECK(dec<receive_char>({"200 result=0 (timeout)"}).value() == std::nullopt);
  auto h = dec<receive_char>({"200 result=-1 (hangup)"});
  CHECK(error_of(h) == errc::failed);
  CHECK(h.error().message == "Asterisk reported -1 (hangup)");

  CHECK(enc(receive_text{0ms}) == "RECEIVE TEXT 0\n");
  CHECK(dec<receive_text>({"200 result=1 (hello there)"}).value() == "hello there");
  CHECK(error_of(dec<receive_text>({"200 result=-1"})) == errc::failed);
  CHECK(error_of(dec<receive_text>({"200 result=3"})) == errc::protocol);
}

TEST_CASE("RECORD FILE", "[proto][agi][commands]") {
  CHECK(enc(record_file{"/tmp/r", "wav"}) == "RECORD FILE /tmp/r wav \"\" -1\n");
  CHECK(enc(record_file{"/tmp/capture/rec1", "wav", "#", 500ms}) == "RECORD FILE /tmp/capture/rec1 wav \"#\" 500\n");
  CHECK(enc(record_file{"/tmp/capture/rec2", "wav", "#", 500ms, {}, true, 1s}) ==
        "RECORD FILE /tmp/capture/rec2 wav \"#\" 500 BEEP s=1\n");
  CHECK(enc(record_file{"f", "gsm", "", 10s, 8000, false, 3s}) == "RECORD FILE f gsm \"\" 10000 8000 s=3\n");
  CHECK(enc(record_file{"f", "gsm", "", 10s, 8000, true}) == "RECORD FILE f gsm \"\" 10000 8000 BEEP\n");

  using e = recording::ended_by;
  CHECK(dec<record_file>({"200 result=0 (timeout) endpos=0"}).value() == recording{e::timeout, {}, 0});
  CHECK(dec<record_file>({"200 result=35 (dtmf) endpos=8000"}).value() == recording{e::dtmf, '#', 8000});
  CHECK(dec<record_file>({"200 result=-1 (hangup) endpos=1600"}).value() == recording{e::hangup, {}, 1600});
  auto w = dec<record_file>({"200 result=-1 (writefile)"});
  CHECK(error_of(w) == errc::failed);
  CHECK(w.error().message.find("writefile") != string::npos);
  CHECK(error_of(dec<record_file>({"200 result=-1 (randomerror) endpos=0"})) == errc::failed);
  CHECK(error_of(dec<record_file>({"200 result=-1 (waitfor) endpos=0"})) == errc::failed);
  CHECK(error_of(dec<record_file>({"200 result=-1"})) == errc::failed);
  CHECK(error_of(dec<record_file>({"200 result=0 (dtmf) endpos=0"})) == errc::protocol);
}

TEST_CASE("SAY commands", "[proto][agi][commands]") {
  CHECK(enc(say_alpha{"abc"}) == "SAY ALPHA abc \"\"\n");
  CHECK(enc(say_date{1700000000}) == "SAY DATE 1700000000 \"\"\n");
  CHECK(enc(say_datetime{1700000000, "", "ABdY", "UTC"}) == "SAY DATETIME 1700000000 \"\" ABdY UTC\n");
  CHECK(enc(say_datetime{1700000000, "#"}) == "SAY DATETIME 1700000000 \"#\"\n");
  CHECK(enc(say_datetime{1700000000, "", "", "Europe/Paris"}) ==
        "SAY DATETIME 1700000000 \"\" \"ABdY 'digits/at' IMp\" Europe/Paris\n");
  CHECK(enc(say_digits{"123", "12"}) == "SAY DIGITS 123 \"12\"\n");
  CHECK(enc(say_number{42}) == "SAY NUMBER 42 \"\"\n");
  CHECK(enc(say_number{-42, "", "f"}) == "SAY NUMBER -42 \"\" f\n");
  CHECK(enc(say_phonetic{"ab"}) == "SAY PHONETIC ab \"\"\n");
  CHECK(enc(say_time{1700000000, "*#"}) == "SAY TIME 1700000000 \"*#\"\n");

  CHECK(dec<say_alpha>({"200 result=0"}).value() == std::nullopt);
  CHECK(dec<say_date>({"200 result=49"}).value() == optional<char>{'1'});
  CHECK(dec<say_datetime>({"200 result=35"}).value() == optional<char>{'#'});
  CHECK(dec<say_digits>({"200 result=42"}).value() == optional<char>{'*'});
  CHECK(dec<say_number>({"200 result=0"}).value() == std::nullopt);
  CHECK(dec<say_phonetic>({"200 result=0"}).value() == std::nullopt);
  CHECK(dec<say_time>({"200 result=0"}).value() == std::nullopt);
  auto f = dec<say_number>({"200 result=-1"});
  CHECK(error_of(f) == errc::failed);
  CHECK(f.error().message == "Asterisk reported -1 (error or hangup)");
  CHECK(error_of(dec<say_number>({"200 result=300"})) == errc::protocol);
}

TEST_CASE("SEND IMAGE / SEND TEXT", "[proto][agi][commands]") {
  CHECK(enc(send_image{"logo"}) == "SEND IMAGE logo\n");
  CHECK(dec<send_image>({"200 result=0"}));
  CHECK(error_of(dec<send_image>({"200 result=-1"})) == errc::failed);
  CHECK(enc(send_text{"hello world"}) == "SEND TEXT \"hello world\"\n");
  CHECK(enc(send_text{"hello"}) == "SEND TEXT hello\n");
  CHECK(dec<send_text>({"200 result=0"}));
  CHECK(error_of(dec<send_text>({"200 result=-1"})) == errc::failed);
}

TEST_CASE("SET commands", "[proto][agi][commands]") {
  CHECK(enc(set_autohangup{0s}) == "SET AUTOHANGUP 0\n");
  CHECK(enc(set_autohangup{std::chrono::minutes{2}}) == "SET AUTOHANGUP 120\n");
  CHECK(dec<set_autohangup>({"200 result=0"}));
  CHECK(enc(set_callerid{"\"John Doe\" <5551234>"}) == "SET CALLERID \"\\\"John Doe\\\" <5551234>\"\n");
  CHECK(enc(set_callerid{"5551234"}) == "SET CALLERID 5551234\n");
  CHECK(dec<set_callerid>({"200 result=1"}));
  CHECK(enc(set_context{"agi-test"}) == "SET CONTEXT agi-test\n");
  CHECK(dec<set_context>({"200 result=0"}));
  CHECK(enc(set_extension{"s"}) == "SET EXTENSION s\n");
  CHECK(dec<set_extension>({"200 result=0"}));
  CHECK(enc(set_music{true}) == "SET MUSIC on\n");
  CHECK(enc(set_music{false}) == "SET MUSIC off\n");
  CHECK(enc(set_music{true, "jazz"}) == "SET MUSIC on jazz\n");
  CHECK(dec<set_music>({"200 result=0"}));
  CHECK(enc(set_priority{"3"}) == "SET PRIORITY 3\n");
  CHECK(enc(set_priority{"my label"}) == "SET PRIORITY \"my label\"\n");
  CHECK(dec<set_priority>({"200 result=0"}));
  CHECK(enc(set_variable{"FOO", "bar"}) == "SET VARIABLE FOO bar\n");
  CHECK(enc(set_variable{"FOO", ""}) == "SET VARIABLE FOO \"\"\n");
  CHECK(dec<set_variable>({"200 result=1"}));
  CHECK(error_of(dec<set_variable>({"200 result=0"})) == errc::failed);
}

TEST_CASE("SPEECH setup commands", "[proto][agi][commands]") {
  CHECK(enc(speech_create{"lumenvox"}) == "SPEECH CREATE lumenvox\n");
  CHECK(dec<speech_create>({"200 result=1"}));
  CHECK(error_of(dec<speech_create>({"200 result=0"})) == errc::failed);
  CHECK(enc(speech_set{"confidence", "0.5"}) == "SPEECH SET confidence 0.5\n");
  CHECK(dec<speech_set>({"200 result=1"}));
  CHECK(enc(speech_destroy{}) == "SPEECH DESTROY\n");
  CHECK(dec<speech_destroy>({"200 result=1"}));
  CHECK(error_of(dec<speech_destroy>({"200 result=0"})) == errc::failed);
  CHECK(enc(speech_load_grammar{"yesno", "/g/yesno.gram"}) == "SPEECH LOAD GRAMMAR yesno /g/yesno.gram\n");
  CHECK(dec<speech_load_grammar>({"200 result=1"}));
  CHECK(enc(speech_unload_grammar{"yesno"}) == "SPEECH UNLOAD GRAMMAR yesno\n");
  CHECK(dec<speech_unload_grammar>({"200 result=1"}));
  CHECK(enc(speech_activate_grammar{"yesno"}) == "SPEECH ACTIVATE GRAMMAR yesno\n");
  CHECK(dec<speech_activate_grammar>({"200 result=1"}));
  CHECK(enc(speech_deactivate_grammar{"yesno"}) == "SPEECH DEACTIVATE GRAMMAR yesno\n");
  CHECK(dec<speech_deactivate_grammar>({"200 result=1"}));
  CHECK(error_of(dec<speech_deactivate_grammar>({"200 result=0"})) == errc::failed);
}

TEST_CASE("SPEECH RECOGNIZE", "[proto][agi][commands]") {
  CHECK(enc(speech_recognize{"prompt", 5s}) == "SPEECH RECOGNIZE prompt 5\n");
  CHECK(enc(speech_recognize{"prompt", 5s, 800}) == "SPEECH RECOGNIZE prompt 5 800\n");

  using e = speech::ended_by;
  auto s = dec<speech_recognize>(
      {"200 result=1 (speech) endpos=1200 results=2 score0=900 text0=\"call \"home\" (now)\" grammar0=dial "
       "score1=400 text1=\"\" grammar1=my grammar"});
  REQUIRE(s);
  CHECK(s->reason == e::speech);
  CHECK(s->endpos == 1200);
  CHECK(s->results == std::vector<speech_result>{{900, "call \"home\" (now)", "dial"}, {400, "", "my grammar"}});

  s = dec<speech_recognize>({"200 result=1 (speech) endpos=0 results=0 "});
  REQUIRE(s);
  CHECK(s->reason == e::speech);
  CHECK(s->results.empty());

  s = dec<speech_recognize>({"200 result=1 (digit) digit=5 endpos=320"});
  REQUIRE(s);
  CHECK(s->reason == e::dtmf);
  CHECK(s->digit == '5');
  CHECK(s->endpos == 320);

  s = dec<speech_recognize>({"200 result=1 (dtmf) digit=# endpos=0"});
  REQUIRE(s);
  CHECK(s->digit == '#');

  s = dec<speech_recognize>({"200 result=1 (timeout) endpos=77"});
  REQUIRE(s);
  CHECK(s->reason == e::timeout);
  CHECK(s->endpos == 77);

  s = dec<speech_recognize>({"200 result=1 (hangup) endpos=0"});
  REQUIRE(s);
  CHECK(s->reason == e::hangup);

  CHECK(error_of(dec<speech_recognize>({"200 result=0"})) == errc::failed);
  CHECK(error_of(dec<speech_recognize>({"200 result=0 endpos=0"})) == errc::failed);
  CHECK(error_of(dec<speech_recognize>({"200 result=1 (speech) endpos=0 results=2 score0=1 text0=\"a\" grammar0=g"})) ==
        errc::protocol);
  CHECK(error_of(dec<speech_recognize>({"200 result=1 (speech) endpos=0 results=1 score0=x text0=\"a\" grammar0=g"})) ==
        errc::protocol);
  CHECK(error_of(dec<speech_recognize>({"200 result=1 (speech) endpos=0 results=1 score0=1 text0=\"a grammar0=g"})) ==
        errc::protocol);
  CHECK(error_of(dec<speech_recognize>({"200 result=1 (speech) endpos=0"})) == errc::protocol);
  CHECK(error_of(dec<speech_recognize>({"200 result=1 (digit) endpos=0"})) == errc::protocol);
  CHECK(error_of(dec<speech_recognize>({"200 result=1 (weird) endpos=0"})) == errc::protocol);
  CHECK(error_of(dec<speech_recognize>({"200 result=1"})) == errc::protocol);
}

TEST_CASE("STREAM FILE", "[proto][agi][commands]") {
  CHECK(enc(stream_file{"demo-thanks"}) == "STREAM FILE demo-thanks \"\"\n");
  CHECK(enc(stream_file{"demo-thanks", "", 8000}) == "STREAM FILE demo-thanks \"\" 8000\n");
  CHECK(enc(stream_file{"my file", "0123456789*#"}) == "STREAM FILE \"my file\" \"0123456789*#\"\n");
  CHECK(dec<stream_file>({"200 result=0 endpos=44160"}).value() == playback{{}, 44160});
  CHECK(dec<stream_file>({"200 result=49 endpos=100"}).value() == playback{'1', 100});
  CHECK(dec<stream_file>({"200 result=0"}).value() == playback{{}, 0});
  auto f = dec<stream_file>({"200 result=-1 endpos=0"});
  CHECK(error_of(f) == errc::failed);
  CHECK(f.error().message == "Asterisk reported -1 (error or hangup)");
}

TEST_CASE("TDD MODE", "[proto][agi][commands]") {
  CHECK(enc(tdd_mode{tdd_setting::on}) == "TDD MODE on\n");
  CHECK(enc(tdd_mode{tdd_setting::off}) == "TDD MODE off\n");
  CHECK(enc(tdd_mode{tdd_setting::tdd}) == "TDD MODE tdd\n");
  CHECK(enc(tdd_mode{tdd_setting::mate}) == "TDD MODE mate\n");
  CHECK(dec<tdd_mode>({"200 result=1"}));
  CHECK(error_of(dec<tdd_mode>({"200 result=0"})) == errc::failed);
}

TEST_CASE("VERBOSE", "[proto][agi][commands]") {
  CHECK(enc(verbose{"hello world", 3}) == "VERBOSE \"hello world\" 3\n");
  CHECK(enc(verbose{"hi"}) == "VERBOSE hi\n");
  CHECK(dec<verbose>({"200 result=1"}));
}

TEST_CASE("WAIT FOR DIGIT", "[proto][agi][commands]") {
  CHECK(enc(wait_for_digit{}) == "WAIT FOR DIGIT -1\n");
  CHECK(enc(wait_for_digit{100ms}) == "WAIT FOR DIGIT 100\n");
  CHECK(enc(wait_for_digit{std::chrono::seconds{2}}) == "WAIT FOR DIGIT 2000\n");
  CHECK(dec<wait_for_digit>({"200 result=0"}).value() == std::nullopt);
  CHECK(dec<wait_for_digit>({"200 result=55"}).value() == optional<char>{'7'});
  CHECK(error_of(dec<wait_for_digit>({"200 result=-1"})) == errc::failed);
}

TEST_CASE("raw", "[proto][agi][commands]") {
  CHECK(enc(raw{"FOO BAR"}) == "FOO BAR\n");
  CHECK(enc(raw{"STREAM FILE x \"12\""}) == "STREAM FILE x \"12\"\n");
  for (std::string_view bad : {std::string_view{""}, std::string_view{"NOOP\nNOOP"}, std::string_view{"NOOP\r"}}) {
    string out;
    auto r = encode(raw{bad}, out);
    CHECK(error_of(r) == errc::invalid_argument);
    CHECK(out.empty());
  }
  auto r = dec<raw>({"200 result=1 (x) endpos=3"});
  REQUIRE(r);
  CHECK(*r == raw_reply{200, "1", "x", 3, ""});
  r = dec<raw>({"200 result=0 Gosub complete"});
  REQUIRE(r);
  CHECK(*r == raw_reply{200, "0", std::nullopt, std::nullopt, "Gosub complete"});
  CHECK(error_of(dec<raw>({"510 Invalid or unknown command"})) == errc::invalid_command);
}

TEST_CASE("every command: reply codes are checked before the command's reading", "[proto][agi][commands]") {
  auto all = [](std::initializer_list<std::string_view> lines, errc expected) {
    CHECK(error_of(dec<answer>(lines)) == expected);
    CHECK(error_of(dec<stream_file>(lines)) == expected);
    CHECK(error_of(dec<get_variable>(lines)) == expected);
    CHECK(error_of(dec<speech_recognize>(lines)) == expected);
    CHECK(error_of(dec<record_file>(lines)) == expected);
    CHECK(error_of(dec<get_data>(lines)) == expected);
  };
  all({"510 Invalid or unknown command"}, errc::invalid_command);
  all({"511 Command Not Permitted on a dead channel or intercepted channel"}, errc::dead_channel);
  all({"520 Invalid command syntax.  Proper usage not available."}, errc::usage);
  all({"520-Invalid command syntax.  Proper usage follows:", "text", "520 End of proper usage."}, errc::usage);
  all({"HANGUP", "200 result=0"}, errc::hangup);
  all({"404 result=0"}, errc::protocol);
}

TEST_CASE("an argument with a line break is refused by every writer path", "[proto][agi][commands]") {
  string out;
  CHECK(error_of(encode(set_variable{"X", "a\nNOOP"}, out)) == errc::invalid_argument);
  CHECK(error_of(encode(stream_file{"f", "1\n"}, out)) == errc::invalid_argument);
  CHECK(error_of(encode(exec{"Set", "A=1\r"}, out)) == errc::invalid_argument);
  CHECK(error_of(encode(exec{"Set", std::string_view{"A\0", 2}}, out)) == errc::invalid_argument);
  CHECK(out.empty());
}
