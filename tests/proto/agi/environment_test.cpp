#include <costrix/proto/agi/environment.hpp>

#include "result_value.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace costrix;
using namespace costrix::proto::agi;
using namespace std::string_literals;

using costrix::test::val;

namespace {
const std::string block =
    "agi_network: yes\n"
    "agi_network_script: ivr/main?lang=en&x=a%20b\n"
    "agi_request: agi://127.0.0.1/ivr/main?lang=en&x=a%20b\n"
    "agi_channel: PJSIP/100-00000001\n"
    "agi_language: en\n"
    "agi_type: PJSIP\n"
    "agi_uniqueid: 1700000000.1\n"
    "agi_version: 22.10.1\n"
    "agi_callerid: 100\n"
    "agi_calleridname: Alice\n"
    "agi_callingpres: 67\n"
    "agi_callingani2: 0\n"
    "agi_callington: 33\n"
    "agi_callingtns: 0\n"
    "agi_dnid: 200\n"
    "agi_rdnis: unknown\n"
    "agi_context: default\n"
    "agi_extension: 200\n"
    "agi_priority: 1\n"
    "agi_enhanced: 0.0\n"
    "agi_accountcode: \n"
    "agi_threadid: 140000\n"
    "agi_arg_1: one\n"
    "agi_arg_2: two words\n"
    "\n";
}  // namespace

TEST_CASE("environment: a full block parses into every field", "[proto][agi][environment]") {
  auto r = parse_environment(block);
  REQUIRE(r);
  const environment& e = *r;
  CHECK(e.network);
  CHECK(e.network_script == "ivr/main?lang=en&x=a%20b");
  CHECK(e.request == "agi://127.0.0.1/ivr/main?lang=en&x=a%20b");
  CHECK(e.channel == "PJSIP/100-00000001");
  CHECK(e.language == "en");
  CHECK(e.type == "PJSIP");
  CHECK(e.uniqueid == "1700000000.1");
  CHECK(e.version == "22.10.1");
  CHECK(e.callerid == "100");
  CHECK(e.calleridname == "Alice");
  CHECK(e.callingpres == 67);
  CHECK(e.callingani2 == 0);
  CHECK(e.callington == 33);
  CHECK(e.callingtns == 0);
  CHECK(e.dnid == "200");
  CHECK(e.rdnis == "unknown");
  CHECK(e.context == "default");
  CHECK(e.extension == "200");
  CHECK(e.priority == "1");
  CHECK(e.enhanced == "0.0");
  CHECK(e.accountcode.empty());
  CHECK(e.threadid == "140000");
  CHECK(e.args == std::vector<std::string>{"one", "two words"});
  CHECK(e.script == "ivr/main");
  CHECK(e.query == std::vector<query_param>{{"lang", "en"}, {"x", "a b"}});
  CHECK(e.param("x") == std::optional<std::string_view>{"a b"});
  CHECK_FALSE(e.param("missing"));
  CHECK(e.unknown.empty());
}

TEST_CASE("environment: line by line, CRLF, empty values", "[proto][agi][environment]") {
  environment_parser p;
  CHECK(val(p.feed("agi_request: x.agi\r")) == false);
  CHECK(val(p.feed("agi_accountcode:")) == false);
  CHECK(val(p.feed("agi_calleridname: ")) == false);
  CHECK(val(p.feed("agi_callerid:  two spaces")) == false);
  CHECK(val(p.feed("agi_context: a: b")) == false);
  auto done = p.feed("\r");
  REQUIRE(done);
  CHECK(*done);
  CHECK(p.get().request == "x.agi");
  CHECK(p.get().accountcode.empty());
  CHECK(p.get().calleridname.empty());
  CHECK(p.get().callerid == " two spaces");  // only the one space after ':' is the separator
  CHECK(p.get().context == "a: b");
  CHECK(p.get().script.empty());  // classic AGI: no network script
  // The block is over: more lines are a protocol error.
  auto more = p.feed("agi_request: y");
  REQUIRE_FALSE(more);
  CHECK(more.error() == errc::protocol);
}

TEST_CASE("environment: unknown keys, out-of-order arguments, bad integers", "[proto][agi][environment]") {
  auto r = parse_environment(
      "agi_arg_1: a\n"
      "agi_arg_3: c\n"       // skips 2: kept in unknown
      "agi_arg_2: b\n"
      "agi_arg_03: z\n"      // leading zero: unknown
      "agi_arg_x: y\n"       // not a number: unknown
      "agi_arg_: e\n"
      "agi_future_key: v\n"
      "agi_callingpres: abc\n"
      "agi_callington: 99999999999999999999\n"
      "agi_callingani2: -3\n"
      "agi_network: no\n"
      "\n");
  REQUIRE(r);
  CHECK(r->args == std::vector<std::string>{"a", "b"});
  using kv = std::pair<std::string, std::string>;
  CHECK(r->unknown == std::vector<kv>{{"agi_arg_3", "c"}, {"agi_arg_03", "z"}, {"agi_arg_x", "y"},
                                      {"agi_arg_", "e"}, {"agi_future_key", "v"}});
  CHECK(r->callingpres == 0);
  CHECK(r->callington == 0);
  CHECK(r->callingani2 == -3);
  CHECK_FALSE(r->network);
}

TEST_CASE("environment: malformed lines are protocol errors", "[proto][agi][environment]") {
  for (std::string bad : {"agi_request x\n\n"s, "request: x\n\n"s, "garbage\n\n"s, "AGI_request: x\n\n"s,
                          ": x\n\n"s, "agi_: x\n\n"s, "agi_re quest: x\n\n"s, "agi_requ\"est: x\n\n"s,
                          "agi_request: a\0b\n\n"s, "\xff\xfe\x00\x01\n\n"s, "agi_\n\n"s}) {
    CAPTURE(bad);
    auto r = parse_environment(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::protocol);
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("environment: truncated blocks and trailing bytes", "[proto][agi][environment]") {
  for (std::string bad : {""s, "agi_request: x"s, "agi_request: x\n"s, "agi_request: x\n\nagi_more: y\n"s}) {
    CAPTURE(bad);
    auto r = parse_environment(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::protocol);
  }
  auto empty = parse_environment("\n");
  REQUIRE(empty);
  CHECK(empty->request.empty());
}

TEST_CASE("environment: limits", "[proto][agi][environment]") {
  SECTION("too many lines") {
    std::string many;
    for (int i = 0; i < 300; ++i) many += "agi_x: y\n";
    many += "\n";
    auto r = parse_environment(many);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
  }
  SECTION("too many bytes") {
    std::string huge = "agi_request: " + std::string(20000, 'a') + "\n\n";
    auto r = parse_environment(huge);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
  }
  SECTION("custom limits, counted as lines arrive") {
    environment_parser p({.max_bytes = 20, .max_lines = 2});
    CHECK(val(p.feed("agi_a: 123456789")) == false);  // 17 bytes with '\n'
    auto r = p.feed("agi_b: 1");
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
  }
  SECTION("exactly at the limit is fine") {
    auto r = parse_environment("agi_a: 1\n\n", {.max_bytes = 10, .max_lines = 2});
    CHECK(r);
  }
}

TEST_CASE("environment: split_script and url_decode", "[proto][agi][environment]") {
  std::string path;
  std::vector<query_param> q;
  split_script("basic?x=1&y=two%20words&y=3", path, q);
  CHECK(path == "basic");
  CHECK(q == std::vector<query_param>{{"x", "1"}, {"y", "two words"}, {"y", "3"}});

  q.clear();
  split_script("a%2Fb+c?flag&&k=&=v&p=a+b%2", path, q);
  CHECK(path == "a/b+c");  // '+' is literal in a path
  CHECK(q == std::vector<query_param>{{"flag", ""}, {"k", ""}, {"", "v"}, {"p", "a b%2"}});

  q.clear();
  split_script("", path, q);
  CHECK(path.empty());
  CHECK(q.empty());

  q.clear();
  split_script("?", path, q);
  CHECK(path.empty());
  CHECK(q.empty());

  CHECK(url_decode("a%20b+c") == "a b c");
  CHECK(url_decode("%") == "%");
  CHECK(url_decode("%4") == "%4");
  CHECK(url_decode("%zz%41") == "%zzA");
  CHECK(url_decode("%e2%82%AC") == "\xe2\x82\xac");
  CHECK(url_decode("%00") == std::string(1, '\0'));
  CHECK(url_decode("") == "");
}
