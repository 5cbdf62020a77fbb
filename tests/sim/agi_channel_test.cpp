// The simulator answers as the real Asterisk 22 did in the recorded transcripts.
#include <costrix/sim/agi_caller.hpp>

#include "transcripts.hpp"

#include <catch2/catch.hpp>

using costrix::sim::agi_call;
using costrix::sim::agi_channel;

TEST_CASE("sim: replies match Asterisk 22's for the commands the simulator models alike", "[sim]") {
  auto t = costrix::test::load_agi_transcript("fastagi-basic.json");
  // The recorded call: a Local channel, answered, FOO set by the script.
  agi_channel ch{agi_call{.channel = "Local/s@agi-test-00000002;2", .file_samples = 44160}};
  std::size_t compared = 0;
  for (const auto& ex : t.exchanges) {
    const std::string& c = ex.command;
    std::string reply = ch.reply(c);
    INFO(c);
    if (ex.reply.starts_with("520-")) {
      // Usage texts are Asterisk's documentation; the simulator keeps the framing.
      CHECK(reply.starts_with("520-Invalid command syntax.  Proper usage follows:\n"));
      CHECK(reply.ends_with("\n520 End of proper usage.\n"));
      continue;
    }
    CHECK(reply == ex.reply);
    ++compared;
  }
  CHECK(compared == t.exchanges.size() - 3);  // all but the three usage replies
}

TEST_CASE("sim: the caller hanging up mid-command - as in the hangup transcript", "[sim]") {
  auto t = costrix::test::load_agi_transcript("fastagi-hangup.json");
  agi_channel ch{agi_call{.hangup_during = 1, .file_samples = 32000}};
  REQUIRE(t.exchanges.size() >= 3);
  CHECK(ch.reply(t.exchanges[0].command) == t.exchanges[0].reply);  // ANSWER
  CHECK(ch.reply(t.exchanges[1].command) == t.exchanges[1].reply);  // STREAM FILE: result=-1 endpos=8000
  CHECK(ch.reply(t.exchanges[2].command) == t.exchanges[2].reply);  // NOOP: HANGUP first
  CHECK(ch.hung_up());
}

TEST_CASE("sim: commands not allowed on a dead channel get 511 after the hangup", "[sim]") {
  agi_channel ch{agi_call{}};
  CHECK(ch.reply("HANGUP") == "200 result=1\n");
  CHECK(ch.reply("STREAM FILE x \"\"") == "HANGUP\n511 Command Not Permitted on a dead channel or intercepted channel\n");
  CHECK(ch.reply("GET VARIABLE X") == "200 result=0\n");
}

TEST_CASE("sim: keys are taken by the commands that wait for them", "[sim]") {
  agi_channel ch{agi_call{.dtmf = "12#9*"}};
  CHECK(ch.reply("GET DATA menu 3000 4") == "200 result=12\n");  // '#' ends input
  CHECK(ch.reply("STREAM FILE x \"123\"") == "200 result=0 endpos=44160\n");  // '9' is not an escape digit
  CHECK(ch.reply("WAIT FOR DIGIT 100") == "200 result=57\n");
  CHECK(ch.reply("STREAM FILE x \"*\"") == "200 result=42 endpos=22080\n");
  CHECK(ch.reply("GET DATA menu 3000 4") == "200 result= (timeout)\n");
}

TEST_CASE("sim: the environment block carries the call", "[sim]") {
  agi_channel ch{agi_call{.script = "ivr?lang=en", .args = {"a", "b c"}, .callerid = "999"}};
  auto env = ch.environment();
  CHECK(env.find("agi_network_script: ivr?lang=en\n") != std::string::npos);
  CHECK(env.find("agi_callerid: 999\n") != std::string::npos);
  CHECK(env.find("agi_arg_2: b c\n") != std::string::npos);
  CHECK(env.ends_with("\n\n"));
}
