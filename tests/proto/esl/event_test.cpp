// proto::esl::event_decoder and owned_event: plain, JSON and header events.
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>

#include "alloc_counter.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::esl;

namespace {

bool mentions(const costrix::error& e, std::string_view text) { return e.message.find(text) != std::string::npos; }

costrix::error plain_failure(std::string_view body, event_limits l = {}) {
  event_decoder d(l);
  auto r = d.decode_plain(body);
  REQUIRE_FALSE(r);
  return r.error();
}

costrix::error json_failure(std::string_view body) {
  event_decoder d;
  auto r = d.decode_json(body);
  REQUIRE_FALSE(r);
  return r.error();
}

std::vector<std::string> values(const event& e, std::string_view key) {
  std::vector<std::string> v;
  for (const auto& h : e.headers())
    if (h.key == key) v.emplace_back(h.value);
  return v;
}

}  // namespace

TEST_CASE("esl event: plain - URL-decoded", "[proto][esl][event]") {
  event_decoder d;
  auto e = d.decode_plain(
      "Event-Name: CHANNEL_ANSWER\nCaller-Callee-ID-Name: Outbound%20Call\nDTMF-Digit: %23\n"
      "variable_sip_h_X: a%3Ab%0Ac\nEmpty: \n\n");
  REQUIRE(e);
  CHECK(e->name() == "CHANNEL_ANSWER");
  CHECK(e->subclass().empty());
  CHECK(e->get("caller-callee-id-name") == "Outbound Call");
  CHECK(e->get("DTMF-Digit") == "#");
  CHECK(e->get("variable_sip_h_X") == "a:b\nc");
  REQUIRE(e->get("Empty"));
  CHECK(e->get("Empty")->empty());
  CHECK_FALSE(e->get("Nope"));
  CHECK(e->headers().size() == 5);
  CHECK(e->headers()[1].key == "Caller-Callee-ID-Name");
  CHECK(e->body().empty());

  SECTION("%00 is a NUL kept in the value; '+' is a space") {
    auto n = d.decode_plain("Event-Name: X\nA: a%00b\nB: 1+1\n\n");
    REQUIRE(n);
    CHECK(n->get("A") == std::string_view{"a\0b", 3});
    CHECK(n->get("B") == "1 1");
  }
  SECTION("\\r\\n line endings") {
    auto n = d.decode_plain("Event-Name: HEARTBEAT\r\nUp-Time: 0%20years\r\n\r\n");
    REQUIRE(n);
    CHECK(n->get("Up-Time") == "0 years");
  }
}

TEST_CASE("esl event: CUSTOM with a subclass and a body", "[proto][esl][event]") {
  event_decoder d;
  auto e = d.decode_plain(
      "Event-Name: CUSTOM\nEvent-Subclass: costrix%3A%3Atest\nX-Costrix: hello%20world\n"
      "Content-Length: 11\n\nbody text\n\n");
  REQUIRE(e);
  CHECK(e->name() == "CUSTOM");
  CHECK(e->subclass() == "costrix::test");
  CHECK(e->body() == "body text\n\n");  // the body is not URL-decoded
  CHECK(e->get("Content-Length") == "11");
}

TEST_CASE("esl event: BACKGROUND_JOB's result is its body", "[proto][esl][event]") {
  std::string inner = "Event-Name: BACKGROUND_JOB\nJob-UUID: 7f4d\nJob-Command: status\nContent-Length: 8\n\n+OK 100%";
  std::string wire = "Content-Length: " + std::to_string(inner.size()) + "\nContent-Type: text/event-plain\n\n" + inner;
  message_parser p;
  auto r = p.parse(wire);
  REQUIRE(r);
  REQUIRE(*r);
  event_decoder d;
  auto e = d.decode((*r)->msg);
  REQUIRE(e);
  CHECK(e->name() == "BACKGROUND_JOB");
  CHECK(e->get("Job-UUID") == "7f4d");
  CHECK(e->body() == "+OK 100%");  // a '%' in the body is no escape
}

TEST_CASE("esl event: JSON - with the same accessors", "[proto][esl][event][json]") {
  event_decoder d;
  auto e = d.decode_json(
      R"({"Event-Name":"CUSTOM","Event-Subclass":"sofia::register","Caller-Callee-ID-Name":"Outbound Call",)"
      R"("Percent":"100%20","Count":3,"Flag":true,"Nothing":null,"Multi":["a","b"],"Content-Length":"4","_body":"ok\n\u0001"})");
  REQUIRE(e);
  CHECK(e->name() == "CUSTOM");
  CHECK(e->subclass() == "sofia::register");
  CHECK(e->get("Caller-Callee-ID-Name") == "Outbound Call");
  CHECK(e->get("Percent") == "100%20");  // JSON values are not URL-encoded
  CHECK(e->get("Count") == "3");
  CHECK(e->get("Flag") == "true");
  CHECK(e->get("Nothing") == "null");
  CHECK(values(*e, "Multi") == std::vector<std::string>{"a", "b"});
  CHECK(e->body() == "ok\n\x01");
  CHECK_FALSE(e->get("_body"));

  SECTION("plain and JSON forms of one event read alike") {
    event_decoder q;
    auto plain = q.decode_plain(
        "Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\nCaller-Callee-ID-Name: "
        "Outbound%20Call\nContent-Length: 4\n\nok\n\x01");
    REQUIRE(plain);
    CHECK(plain->name() == e->name());
    CHECK(plain->subclass() == e->subclass());
    CHECK(plain->get("Caller-Callee-ID-Name") == e->get("Caller-Callee-ID-Name"));
    CHECK(plain->body() == e->body());
  }
}

TEST_CASE("esl event: decode() picks the form from the message", "[proto][esl][event]") {
  auto decode = [](std::string wire) {
    message_parser p;
    auto r = p.parse(wire);
    REQUIRE(r);
    REQUIRE(*r);
    event_decoder d;
    auto e = d.decode((*r)->msg);
    return e ? std::string{e->name()} : "error: " + e.error().what();
  };
  CHECK(decode("Content-Length: 28\nContent-Type: text/event-plain\n\nEvent-Name: CHANNEL_CREATE\n\n") ==
        "CHANNEL_CREATE");
  CHECK(decode("Content-Length: 29\nContent-Type: text/event-json\n\n{\"Event-Name\":\"CHANNEL_HOLD\"}") ==
        "CHANNEL_HOLD");
  CHECK(decode("Event-Name: CHANNEL_DATA\nContent-Type: command/reply\nReply-Text: %2BOK%0A\n\n") == "CHANNEL_DATA");
  CHECK(decode("Content-Type: command/reply\nReply-Text: +OK\n\n").starts_with("error: invalid argument"));
  CHECK(decode("Content-Length: 7\nContent-Type: text/event-xml\n\n<event>").starts_with("error: invalid argument"));
}

TEST_CASE("esl event: malformed plain events are errc::protocol", "[proto][esl][event][hostile]") {
  SECTION("bad URL escapes name the header") {
    for (const char* v : {"%", "%2", "%G1", "%2G", "ab%", "100%!"}) {
      INFO(v);
      auto e = plain_failure(std::string{"Event-Name: X\nBad-Value: "} + v + "\n\n");
      CHECK(e == errc::protocol);
      CHECK(mentions(e, "'%' not followed by two hex digits"));
      CHECK(mentions(e, "Bad-Value"));
    }
  }
  SECTION("not Key: Value, a NUL, no closing empty line") {
    CHECK(mentions(plain_failure("Event-Name: X\nno colon here\n\n"), "not a \"Key: Value\""));
    CHECK(mentions(plain_failure(std::string{"Event-Name: X\nA: \0\n\n", 19}), "NUL"));
    CHECK(mentions(plain_failure("Event-Name: X\nA: 1\n"), "not ended by an empty line"));
    CHECK(mentions(plain_failure("Event-Name: X"), "not ended by an empty line"));
    CHECK(mentions(plain_failure(""), "not ended by an empty line"));
  }
  SECTION("a body that disagrees with Content-Length") {
    CHECK(mentions(plain_failure("Event-Name: X\nContent-Length: 10\n\nshort"), "Content-Length is 10 but 5 bytes"));
    CHECK(mentions(plain_failure("Event-Name: X\nContent-Length: 1\n\nlonger"), "Content-Length is 1 but 6 bytes"));
    CHECK(mentions(plain_failure("Event-Name: X\n\nstray bytes"), "Content-Length is 0 but 11 bytes"));
    CHECK(mentions(plain_failure("Event-Name: X\nContent-Length: -1\n\n"), "not a decimal number"));
    CHECK(mentions(plain_failure("Event-Name: X\nContent-Length: 99999999999999999999\n\n"), "not a decimal number"));
  }
  SECTION("no Event-Name") {
    CHECK(mentions(plain_failure("Core-UUID: x\n\n"), "no Event-Name"));
    CHECK(mentions(plain_failure("\n"), "no Event-Name"));
  }
  SECTION("a header flood") {
    std::string flood = "Event-Name: X\n";
    for (int i = 0; i < 20; ++i) flood += "A: b\n";
    flood += "\n";
    auto e = plain_failure(flood, {.max_headers = 8});
    CHECK(e == errc::limit_exceeded);
    CHECK(mentions(e, "more than 8 headers"));
  }
}

TEST_CASE("esl event: malformed JSON events are errc::protocol", "[proto][esl][event][json][hostile]") {
  CHECK(mentions(json_failure("{\"Event-Name\":"), "not JSON"));
  CHECK(mentions(json_failure(""), "not JSON"));
  CHECK(mentions(json_failure("[1,2]"), "not a JSON object"));
  CHECK(mentions(json_failure("\"Event-Name\""), "not a JSON object"));
  CHECK(mentions(json_failure("{\"Bad Key\":\"x\",\"Event-Name\":\"X\"}"), "not a header key"));
  CHECK(mentions(json_failure("{\"A\":\"x\"}"), "no Event-Name"));
  CHECK(mentions(json_failure(std::string(100000, '[') + std::string(100000, ']')), "not JSON"));  // depth limit
  CHECK(mentions(json_failure("{\"Event-Name\":\"X\"} trailing"), "not JSON"));
}

TEST_CASE("esl owned_event keeps an event past its decoder", "[proto][esl][event]") {
  event_decoder d;
  auto e = d.decode_plain("Event-Name: CUSTOM\nEvent-Subclass: a%3A%3Ab\nX: 1\nContent-Length: 2\n\nhi");
  REQUIRE(e);
  owned_event kept{*e};
  REQUIRE(d.decode_plain("Event-Name: OTHER\nY: 2\n\n"));  // the decoder's storage is reused
  CHECK(kept.name() == "CUSTOM");
  CHECK(kept.subclass() == "a::b");
  CHECK(kept.get("X") == "1");
  CHECK(kept.body() == "hi");

  owned_event moved{std::move(kept)};
  CHECK(moved.name() == "CUSTOM");
  CHECK(moved.get("Event-Subclass") == "a::b");
  CHECK(kept.headers().empty());  // NOLINT: a moved-from owned_event is empty

  owned_event copy{moved};
  moved = owned_event{};
  CHECK(copy.subclass() == "a::b");
  CHECK(copy.body() == "hi");
  copy = copy;
  CHECK(copy.name() == "CUSTOM");
}

TEST_CASE("esl event decoder allocates nothing per plain event once warm", "[proto][esl][event][alloc]") {
  if (!costrix::test::counting_allocations) {
    WARN("allocation counting is off under sanitizers");
    return;
  }
  std::string body =
      "Event-Name: CHANNEL_EXECUTE\nCaller-Callee-ID-Name: Outbound%20Call\nEvent-Date-GMT: "
      "Mon,%2023%20Nov%202026%2010%3A29%3A15%20GMT\nApplication-Data: tone_stream%3A//%25(400,0,440)\n\n";
  event_decoder d;
  REQUIRE(d.decode_plain(body));  // warm
  std::size_t before = costrix::test::allocations();
  for (int i = 0; i < 100; ++i) REQUIRE(d.decode_plain(body));
  CHECK(costrix::test::allocations() - before == 0);
}
