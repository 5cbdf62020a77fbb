// Replays the real Asterisk 22 transcripts (../shared/transcripts) through the
// codec: every command's bytes, every reply's typed value, the environment block.
#include <costrix/proto/agi/commands.hpp>
#include <costrix/proto/agi/environment.hpp>

#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <span>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::agi;
using namespace std::chrono_literals;
using costrix::test::agi_exchange;
using costrix::test::load_agi_transcript;
using costrix::test::split_lines;

namespace {

template <class T>
std::vector<T> as_vector(std::span<const T> s) {
  return {s.begin(), s.end()};
}

enum class bytes {
  exact,             ///< our encoding is the transcript's command, byte for byte
  same_arguments,    ///< quoted differently, but Asterisk's parse_args reads the same arguments
  case_insensitive,  ///< the transcript used lower case ("answer"); Asterisk matches names case-insensitively
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Encodes `cmd` and compares it with the transcript's command; feeds the
// transcript's reply line by line and hands the typed value to `expect`.
template <command C, class Expect>
void replay(const agi_exchange& x, const C& cmd, Expect expect, bytes how = bytes::exact) {
  INFO("command: " << x.command);
  INFO("reply: " << x.reply);
  std::string out;
  REQUIRE(encode(cmd, out));
  REQUIRE(out.ends_with('\n'));
  std::string line = out.substr(0, out.size() - 1);
  switch (how) {
    case bytes::exact: CHECK(line == x.command); break;
    case bytes::same_arguments:
      CHECK(line != x.command);
      CHECK(split_command_line(line) == split_command_line(x.command));
      break;
    case bytes::case_insensitive:
      CHECK(line != x.command);
      CHECK(lower(line) == lower(x.command));
      break;
  }

  auto lines = split_lines(x.reply);
  REQUIRE_FALSE(lines.empty());
  reply_parser p;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto done = p.feed(lines[i]);
    REQUIRE(done);
    REQUIRE(*done == (i + 1 == lines.size()));
  }
  expect(decode<C>(p.get()));
}

auto succeeds = [](const auto& r) {
  if (!r) FAIL_CHECK(r.error().what());
};

template <class T>
auto gives(T expected) {
  return [expected](const auto& r) {
    if (!r) FAIL(r.error().what());
    CHECK(*r == expected);
  };
}

auto fails(errc e, std::string_view words = {}) {
  return [e, words](const auto& r) {
    REQUIRE_FALSE(r);
    CHECK(r.error() == e);
    if (!words.empty()) CHECK(r.error().message.find(words) != std::string::npos);
  };
}

const std::optional<std::string> foo_value{"value with spaces and \"quotes\""};
const std::optional<char> no_digit;

}  // namespace

TEST_CASE("transcript fastagi-basic: environment", "[proto][agi][transcript]") {
  auto t = load_agi_transcript("fastagi-basic.json");
  auto e = parse_environment(t.env);
  REQUIRE(e);
  CHECK(e->network());
  CHECK(e->network_script() == "basic?x=1&y=two%20words&y=3");
  CHECK(e->request() == "agi://127.0.0.1:4573/basic?x=1&y=two%20words&y=3");
  CHECK(e->script() == "basic");
  CHECK(as_vector(e->query()) == std::vector<query_param>{{"x", "1"}, {"y", "two words"}, {"y", "3"}});
  CHECK(e->param("y") == std::optional<std::string_view>{"two words"});
  CHECK(as_vector(e->args()) == std::vector<std::string_view>{"arg1", "arg 2"});
  CHECK(e->channel() == "Local/s@agi-test-00000002;2");
  CHECK(e->language() == "en");
  CHECK(e->type() == "Local");
  CHECK(e->uniqueid() == "1795416141.5");
  CHECK(e->version() == "22.10.1");
  CHECK(e->callerid() == "5551234");
  CHECK(e->calleridname() == "Cap Ture");
  CHECK(e->callingpres() == 0);
  CHECK(e->callingani2() == 0);
  CHECK(e->callington() == 0);
  CHECK(e->callingtns() == 0);
  CHECK(e->dnid() == "unknown");
  CHECK(e->rdnis() == "unknown");
  CHECK(e->context() == "agi-test");
  CHECK(e->extension() == "s");
  CHECK(e->priority() == "2");
  CHECK(e->enhanced() == "0.0");
  CHECK(e->accountcode().empty());
  CHECK(e->threadid() == "139897211934400");
  CHECK(e->unknown().empty());

  // The same block fed line by line, as the session reads it.
  environment_parser p;
  auto lines = split_lines(t.env);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto done = p.feed(lines[i]);
    REQUIRE(done);
    CHECK(*done == (i + 1 == lines.size()));
  }
  CHECK(std::ranges::equal(p.get().args(), e->args()));
}

TEST_CASE("transcript fastagi-basic: every exchange", "[proto][agi][transcript]") {
  auto t = load_agi_transcript("fastagi-basic.json");
  const auto& x = t.exchanges;
  REQUIRE(x.size() == 67);

  replay(x[0], answer{}, succeeds);
  replay(x[1], channel_status{}, gives(channel_state::up));
  replay(x[2], channel_status{"Local/nonexistent-123"}, fails(errc::not_found));
  replay(x[3], noop{}, succeeds);
  replay(x[4], verbose{"hello world", 3}, succeeds);
  replay(x[5], set_variable{"FOO", "value with spaces and \"quotes\""}, succeeds);
  replay(x[6], get_variable{"FOO"}, gives(foo_value));
  replay(x[7], get_variable{"UNSET_VAR_XYZ"}, gives(std::optional<std::string>{}));
  replay(x[8], get_full_variable{"${CHANNEL}"}, gives(std::optional<std::string>{"Local/s@agi-test-00000002;2"}));
  replay(x[9], get_full_variable{"${FOO}"}, gives(foo_value));
  replay(x[10], get_full_variable{"${UNSET_VAR_XYZ}"}, gives(std::optional<std::string>{""}));
  replay(x[11], database_put{"fam", "key1", "v 1"}, succeeds);
  replay(x[12], database_get{"fam", "key1"}, gives(std::optional<std::string>{"v 1"}));
  replay(x[13], database_get{"fam", "missing"}, gives(std::optional<std::string>{}));
  replay(x[14], database_del{"fam", "key1"}, succeeds);
  replay(x[15], database_del{"fam", "missing"}, succeeds);  // Asterisk 22 says 1 for a missing key too
  replay(x[16], database_put{"fam2", "a", "1"}, succeeds);
  replay(x[17], database_deltree{"fam2"}, gives(true));   // result=0: one entry deleted
  replay(x[18], database_deltree{"fam2"}, gives(false));  // result=1: nothing left to delete
  replay(x[19], exec{"Wait", "0"}, gives(0));
  replay(x[20], exec{"NoSuchApp", "foo"}, fails(errc::not_found));
  replay(x[21], exec{"Set", "X=1,2"}, gives(0));
  // The transcript wrote `"John Doe"<5551234>`, which parse_args reads as the
  // single argument `John Doe<5551234>`; we quote that argument whole.
  replay(x[22], set_callerid{"John Doe<5551234>"}, succeeds, bytes::same_arguments);
  replay(x[23], set_context{"agi-test"}, succeeds);
  replay(x[24], set_extension{"s"}, succeeds);
  replay(x[25], set_priority{"3"}, succeeds);
  replay(x[26], set_autohangup{0s}, succeeds);
  replay(x[27], set_music{true}, succeeds);
  replay(x[28], set_music{false}, succeeds);
  replay(x[29], set_music{true, "nosuchclass"}, succeeds);
  replay(x[30], set_music{false}, succeeds);
  replay(x[31], say_digits{"123"}, gives(no_digit));
  replay(x[32], say_number{42}, gives(no_digit));
  replay(x[33], say_number{42, "", "f"}, gives(no_digit));
  replay(x[34], say_alpha{"abc"}, gives(no_digit));
  replay(x[35], say_phonetic{"ab"}, gives(no_digit));
  replay(x[36], say_date{1700000000}, gives(no_digit));
  replay(x[37], say_time{1700000000}, gives(no_digit));
  replay(x[38], say_datetime{1700000000, "", "ABdY", "UTC"}, gives(no_digit));
  replay(x[39], stream_file{"demo-thanks"}, gives(playback{{}, 44160}));
  replay(x[40], stream_file{"demo-thanks", "", 8000}, gives(playback{{}, 44160}));
  replay(x[41], stream_file{"no-such-file"}, fails(errc::failed, "-1"));
  replay(x[42], control_stream_file{"demo-thanks", "", 3000ms}, gives(playback{{}, -1}));
  replay(x[43], get_option{"demo-thanks", "", 100ms}, gives(playback{{}, 44160}));
  replay(x[44], get_data{"beep", 100ms, 2}, gives(digits{"", true}));
  replay(x[45], wait_for_digit{100ms}, gives(no_digit));
  replay(x[46], record_file{"/tmp/capture/rec1", "wav", "#", 500ms},
         gives(recording{recording::ended_by::timeout, {}, 0}));
  replay(x[47], record_file{"/tmp/capture/rec2", "wav", "#", 500ms, {}, true, 1s},
         gives(recording{recording::ended_by::timeout, {}, 0}));
  replay(x[48], record_file{"/tmp/capture/rec3", "nosuchformat", "#", 500ms}, fails(errc::failed, "writefile"));
  replay(x[49], receive_char{100ms}, fails(errc::failed, "hangup"));
  replay(x[50], receive_text{100ms}, fails(errc::failed));
  // The transcript quoted a word that needs no quotes; the arguments are the same.
  replay(x[51], send_text{"hello"}, succeeds, bytes::same_arguments);
  replay(x[52], send_image{"logo"}, succeeds);
  replay(x[53], tdd_mode{tdd_setting::on}, fails(errc::failed));  // a Local channel has no TDD
  replay(x[54], tdd_mode{tdd_setting::off}, fails(errc::failed));
  replay(x[55], speech_create{"nosuchengine"}, fails(errc::failed));
  replay(x[56], gosub{"agi-sub", "s", "1"}, succeeds);
  replay(x[57], gosub{"agi-sub", "s", "1", "arg1,arg2"}, succeeds);
  replay(x[58], asyncagi_break{}, succeeds);
  replay(x[59], raw{"FOO BAR"}, fails(errc::invalid_command, "Invalid or unknown command"));
  replay(x[60], raw{"STREAM FILE"}, [](const auto& r) {
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::usage);
    CHECK(r.error().message.starts_with("Send the given file, allowing playback to be interrupted"));
    CHECK(r.error().message.ends_with("    <value>SUCCESS</value>\n    <value>FAILED</value>"));
    CHECK(r.error().message.find("Proper usage follows") == std::string::npos);
  });
  replay(x[61], raw{"GET DATA"},
         fails(errc::usage, "Stream the given <replaceable>file</replaceable>, and receive DTMF data.\n"
                            "Returns the digits received from the channel at the other end."));
  replay(x[62], raw{"SAY NUMBER abc \"\""}, fails(errc::usage, "Say a given number"));
  replay(x[63], answer{}, succeeds, bytes::case_insensitive);
  replay(x[64], hangup{}, succeeds);
  replay(x[65], noop{}, fails(errc::hangup));  // "HANGUP" ahead of the reply
  replay(x[66], get_variable{"FOO"}, gives(foo_value));
}

TEST_CASE("transcript fastagi-hangup: environment and exchanges", "[proto][agi][transcript]") {
  auto t = load_agi_transcript("fastagi-hangup.json");
  auto e = parse_environment(t.env);
  REQUIRE(e);
  CHECK(e->script() == "hangup");
  CHECK(as_vector(e->query()) == std::vector<query_param>{{"scen", "hangup"}});
  CHECK(e->param("scen") == std::optional<std::string_view>{"hangup"});
  CHECK(e->args().empty());
  CHECK(e->extension() == "hangup");
  CHECK(e->channel() == "Local/hangup@agi-test-00000004;2");

  const auto& x = t.exchanges;
  REQUIRE(x.size() == 5);
  replay(x[0], answer{}, succeeds);
  // The caller hung up during playback: -1 with the position reached.
  replay(x[1], stream_file{"demo-instruct"}, fails(errc::failed, "Asterisk reported -1"));
  replay(x[2], noop{}, fails(errc::hangup));
  replay(x[3], get_variable{"FOO"}, gives(std::optional<std::string>{}));
  replay(x[4], noop{}, succeeds);

  // The reply to STREAM FILE carried endpos even though it failed.
  auto r = parse_reply_line(split_lines(x[1].reply).at(0));
  REQUIRE(r);
  CHECK(r->endpos == 8000);
}
