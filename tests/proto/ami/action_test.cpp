#include <costrix/proto/ami/action.hpp>
#include <costrix/proto/ami/message_parser.hpp>

#include "alloc_counter.hpp"
#include "feed.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::ami;
using namespace std::string_literals;

namespace {
std::string encoded(const action& a, std::string_view id) {
  std::string out;
  auto r = encode(a, id, out);
  if (!r) FAIL(r.error().what());
  return out;
}

costrix::error refusal(const action& a, std::string_view id = "1") {
  std::string out = "previous bytes";
  auto r = encode(a, id, out);
  REQUIRE_FALSE(r);
  CHECK(out == "previous bytes");  // left as it was
  CHECK(r.error().message.starts_with("AMI action: "));
  return r.error();
}
}  // namespace

TEST_CASE("ami encode: name - headers in order - ActionID - empty line", "[proto][ami][action]") {
  CHECK(encoded({"Ping"}, "p1") == "Action: Ping\r\nActionID: p1\r\n\r\n");
  action originate{"Originate", {{"Channel", "PJSIP/100"}, {"Context", "out"}, {"Exten", "200"}}};
  originate.add("Priority", "1").add("Timeout", "30000").add("Variable", "a=1").add("Variable", "b=2");
  CHECK(encoded(originate, "o-7") ==
        "Action: Originate\r\nChannel: PJSIP/100\r\nContext: out\r\nExten: 200\r\nPriority: 1\r\n"
        "Timeout: 30000\r\nVariable: a=1\r\nVariable: b=2\r\nActionID: o-7\r\n\r\n");
  CHECK(encoded({"Getvar", {{"Variable", "X"}, {"Empty", ""}}}, "g") ==
        "Action: Getvar\r\nVariable: X\r\nEmpty: \r\nActionID: g\r\n\r\n");
  CHECK(encoded({"Setvar", {{"Value", "a: b \"c\" \t"}}}, "s") ==
        "Action: Setvar\r\nValue: a: b \"c\" \t\r\nActionID: s\r\n\r\n");

  SECTION("appends to what is already there") {
    std::string out = "Action: Ping\r\nActionID: 1\r\n\r\n";
    REQUIRE(encode({"Logoff"}, "2", out));
    CHECK(out == "Action: Ping\r\nActionID: 1\r\n\r\nAction: Logoff\r\nActionID: 2\r\n\r\n");
  }
  SECTION("the writer, for actions built without an action value") {
    std::string out;
    action_writer w(out, "Hangup");
    w.header("Channel", "PJSIP/100-00000001").header("Cause", "16");
    REQUIRE(w.finish("h1"));
    CHECK(out == "Action: Hangup\r\nChannel: PJSIP/100-00000001\r\nCause: 16\r\nActionID: h1\r\n\r\n");
  }
}

TEST_CASE("ami encode refuses header injection and bad names", "[proto][ami][action]") {
  SECTION("CR, LF or NUL in a value") {
    for (std::string v : {"a\r\nAction: Originate"s, "a\nb"s, "a\rb"s, "a\0b"s, "\r\n"s}) {
      auto e = refusal({"Setvar", {{"Variable", "X"}, {"Value", v}}});
      CHECK(e == errc::invalid_argument);
      CHECK(e.message.find("the value of Value holds a CR, LF or NUL byte") != std::string::npos);
    }
  }
  SECTION("a secret is not repeated in the error") {
    auto e = refusal({"Login", {{"Username", "admin"}, {"Secret", "hunter2\r\n"}}});
    CHECK(e.message.find("hunter2") == std::string::npos);
  }
  SECTION("keys must be tokens") {
    for (std::string k : {""s, "Two words"s, "Colon:"s, "Tab\t"s, "Ctl\x01"s, "Line\n"s, "Nul\0"s, "\x7f"s}) {
      INFO(k);
      auto e = refusal({"Setvar", {{k, "v"}}});
      CHECK(e == errc::invalid_argument);
      CHECK(e.message.find("is not a token") != std::string::npos);
    }
  }
  SECTION("so must the action's name") {
    for (std::string n : {""s, "Ping\r\nAction: Originate"s, "Ping Pong"s, "A:B"s}) {
      INFO(n);
      CHECK(refusal({n}) == errc::invalid_argument);
    }
  }
  SECTION("the ActionID: present, one line, written by encode() only") {
    CHECK(refusal({"Ping"}, "").message.find("empty ActionID") != std::string::npos);
    CHECK(refusal({"Ping"}, "a\r\nb").message.find("ActionID holds a CR, LF or NUL") != std::string::npos);
    CHECK(refusal({"Ping", {{"ActionID", "mine"}}}).message.find("\"ActionID\" header") != std::string::npos);
    CHECK(refusal({"Ping", {{"actionid", "mine"}}}) == errc::invalid_argument);
    CHECK(refusal({"Ping", {{"Action", "Originate"}}}) == errc::invalid_argument);
  }
}

TEST_CASE("ami encode: what it writes reads back unchanged", "[proto][ami][action]") {
  action a{"UserEvent", {{"UserEvent", "Dialer"}, {"Status", "  leading spaces"}, {"Empty", ""}}};
  a.add("Variable", "x=1").add("Variable", "x=2").add("Data", "ends with space ");
  std::string out;
  REQUIRE(encode(a, "u-1", out));
  message_parser p({}, message_parser::first::message);
  auto r = p.parse(out);
  REQUIRE(r);
  REQUIRE(r->has_value());
  const message& m = (*r)->msg;
  CHECK((*r)->consumed == out.size());
  CHECK(m.kind() == message_kind::action);
  CHECK(m.name() == "UserEvent");
  CHECK(m.action_id() == "u-1");
  REQUIRE(m.headers().size() == a.headers.size() + 2);
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    CHECK(m.headers()[i + 1].key == a.headers[i].first);
    CHECK(m.headers()[i + 1].value == a.headers[i].second);
  }
}

TEST_CASE("ami encode allocates nothing into a warm buffer", "[proto][ami][action][alloc]") {
  if (!costrix::test::counting_allocations) return;
  action a{"Originate", {{"Channel", "PJSIP/100"}, {"Context", "out"}, {"Exten", "200"}, {"Priority", "1"}}};
  std::string out;
  REQUIRE(encode(a, "o-1", out));
  std::size_t before = costrix::test::allocations();
  for (int i = 0; i < 10; ++i) {
    out.clear();
    REQUIRE(encode(a, "o-1", out));
  }
  CHECK(costrix::test::allocations() == before);
}
