// proto::esl::message_parser: framing, limits and hostile input.
#include <costrix/proto/esl/message_parser.hpp>

#include "alloc_counter.hpp"
#include "feed.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace costrix;
using namespace costrix::proto::esl;
using costrix::test::esl::feed;

namespace {

// The one message in `bytes`, which must be all of it.
parsed one(message_parser& p, std::string_view bytes) {
  auto r = p.parse(bytes);
  INFO((r ? std::string{} : r.error().what()));
  REQUIRE(r);
  REQUIRE(r->has_value());
  CHECK((*r)->consumed == bytes.size());
  return **r;
}

// The error `bytes` gives, which must be one.
costrix::error failure(message_parser& p, std::string_view bytes) {
  auto r = p.parse(bytes);
  REQUIRE_FALSE(r);
  return r.error();
}

costrix::error failure(std::string_view bytes, limits l = {}) {
  message_parser p(l);
  return failure(p, bytes);
}

bool mentions(const costrix::error& e, std::string_view text) { return e.message.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("esl parser: a header block and a body of Content-Length bytes", "[proto][esl][parser]") {
  message_parser p;
  SECTION("no body") {
    auto m = one(p, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n").msg;
    CHECK(m.type() == content_type::command_reply);
    CHECK(m.get("reply-text") == "+OK accepted");  // keys match case-insensitively
    CHECK(m.body().empty());
    CHECK(m.headers().size() == 2);
    CHECK(m.ok());
  }
  SECTION("a body, and what follows it is the next message") {
    std::string bytes = "Content-Type: api/response\nContent-Length: 5\n\n+OK\n\nContent-Type: auth/request\n\n";
    auto r = p.parse(bytes);
    REQUIRE(r);
    REQUIRE(*r);
    CHECK((*r)->msg.body() == "+OK\n\n");  // the body's own empty line is body
    CHECK((*r)->msg.ok());
    CHECK((*r)->consumed == 51);
    auto next = one(p, std::string_view{bytes}.substr((*r)->consumed));
    CHECK(next.msg.type() == content_type::auth_request);
  }
  SECTION("\\r\\n line endings, spaces after the colon, empty lines between messages") {
    auto m = one(p, "\r\n\nContent-Type:   text/disconnect-notice\r\nContent-Length:2\r\n\r\nhi").msg;
    CHECK(m.type() == content_type::disconnect_notice);
    CHECK(m.get("Content-Type") == "text/disconnect-notice");
    CHECK(m.body() == "hi");
  }
  SECTION("a value keeps its colons, an empty value is present") {
    auto m = one(p, "Content-Type: command/reply\nReply-Text: +OK Job-UUID: x:y\nEmpty:\n\n").msg;
    CHECK(m.get("Reply-Text") == "+OK Job-UUID: x:y");
    REQUIRE(m.get("Empty"));
    CHECK(m.get("Empty")->empty());
    CHECK_FALSE(m.get("Missing"));
  }
  SECTION("Content-Length: 0 is no body") {
    auto m = one(p, "Content-Type: text/disconnect-notice\nContent-Disposition: linger\nContent-Length: 0\n\n").msg;
    CHECK(m.body().empty());
    CHECK(m.get("Content-Disposition") == "linger");
  }
  SECTION("a body may hold any byte, NUL included") {
    std::string bytes = "Content-Type: api/response\nContent-Length: 3\n\n";
    bytes += std::string{"a\0b", 3};
    CHECK(one(p, bytes).msg.body() == std::string_view{"a\0b", 3});
  }
  SECTION("every content type") {
    struct row {
      const char* text;
      content_type type;
    };
    for (auto [text, type] :
         {row{"auth/request", content_type::auth_request}, row{"command/reply", content_type::command_reply},
          row{"api/response", content_type::api_response}, row{"text/event-plain", content_type::event_plain},
          row{"text/event-json", content_type::event_json}, row{"TEXT/EVENT-XML", content_type::event_xml},
          row{"text/disconnect-notice", content_type::disconnect_notice},
          row{"text/rude-rejection", content_type::rude_rejection}, row{"log/data", content_type::log_data},
          row{"text/something-else", content_type::other}}) {
      INFO(text);
      message_parser q;
      CHECK(one(q, std::string{"Content-Type: "} + text + "\n\n").msg.type() == type);
    }
    message_parser q;
    CHECK(one(q, "Reply-Text: +OK\n\n").msg.type() == content_type::none);
  }
  SECTION("a rude rejection, as FreeSWITCH sends it to a denied address") {
    auto m =
        one(p, "Content-Type: text/rude-rejection\nContent-Length: 33\n\nAccess Denied, go away.\n\n\n\n\n\n\n\n\n\n")
            .msg;
    CHECK(m.type() == content_type::rude_rejection);
    CHECK(m.body().starts_with("Access Denied"));
  }
  SECTION("ok(): -ERR and -USAGE api bodies fail, a command/reply needs +OK") {
    CHECK_FALSE(one(p, "Content-Type: api/response\nContent-Length: 11\n\n-USAGE: foo").msg.ok());
    CHECK(one(p, "Content-Type: api/response\nContent-Length: 0\n\n").msg.ok());
    CHECK_FALSE(one(p, "Content-Type: command/reply\nReply-Text: huh\n\n").msg.ok());
    CHECK_FALSE(one(p, "Content-Type: command/reply\n\n").msg.ok());
    CHECK(one(p, "Content-Type: command/reply\nReply-Text: %2bOK\n\n").msg.ok());
  }
}

TEST_CASE("esl parser: need more bytes - then resume", "[proto][esl][parser]") {
  message_parser p;
  std::string bytes = "Content-Type: api/response\nContent-Length: 10\n\n0123";
  auto r = p.parse(bytes);
  REQUIRE(r);
  CHECK_FALSE(*r);  // the body has not all arrived: a truncated message is only "need more"
  bytes += "456789";
  auto m = one(p, bytes);
  CHECK(m.msg.body() == "0123456789");

  SECTION("a header block cut anywhere") {
    std::string whole = "Content-Type: command/reply\r\nReply-Text: +OK\r\n\r\n";
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
      message_parser q;
      auto part = q.parse(whole.substr(0, cut));
      REQUIRE(part);
      CHECK_FALSE(*part);
      CHECK(one(q, whole).msg.get("Reply-Text") == "+OK");
    }
  }
  SECTION("other bytes than last time (shorter): read afresh") {
    message_parser q;
    REQUIRE(q.parse("Content-Type: command/reply-with-a-long-name\nReply-Te"));
    CHECK(one(q, "Content-Type: auth/request\n\n").msg.type() == content_type::auth_request);
  }
}

TEST_CASE("esl parser: malformed input is errc::protocol", "[proto][esl][parser][hostile]") {
  SECTION("a line without a colon") {
    auto e = failure("Content-Type: command/reply\nReply-Text +OK\n\n");
    CHECK(e == errc::protocol);
    CHECK(mentions(e, "not a \"Key: Value\" header line"));
    CHECK(mentions(e, "Reply-Text +OK"));
  }
  SECTION("a key with a space or empty") {
    CHECK(failure("Bad Key: x\n\n") == errc::protocol);
    CHECK(failure(": x\n\n") == errc::protocol);
    CHECK(failure("\tKey: x\n\n") == errc::protocol);
  }
  SECTION("a NUL byte in a header") {
    auto e = failure(std::string{"Content-Type: comm\0and/reply\n\n", 30});
    CHECK(e == errc::protocol);
    CHECK(mentions(e, "NUL"));
  }
  SECTION("Content-Length that is not a decimal number") {
    for (const char* v : {"-5", "+5", "abc", "5 ", "0x10", "1e3", "", "5\t", "٣"}) {
      INFO(v);
      auto e = failure(std::string{"Content-Type: api/response\nContent-Length: "} + v + "\n\nhello");
      CHECK(e == errc::protocol);
      CHECK(mentions(e, "Content-Length"));
    }
  }
  SECTION("two Content-Length headers") {
    auto e = failure("Content-Length: 1\ncontent-length: 1\n\nx");
    CHECK(e == errc::protocol);
    CHECK(mentions(e, "second Content-Length"));
  }
  SECTION("errors are sticky until reset()") {
    message_parser p;
    auto e = failure(p, "garbage\n\n");
    auto again = p.parse("Content-Type: auth/request\n\n");
    REQUIRE_FALSE(again);
    CHECK(again.error().message == e.message);
    p.reset();
    CHECK(one(p, "Content-Type: auth/request\n\n").msg.type() == content_type::auth_request);
  }
}

TEST_CASE("esl parser: limits are errc::limit_exceeded", "[proto][esl][parser][hostile]") {
  SECTION("a Content-Length over max_body_bytes, refused before its body arrives") {
    auto e = failure("Content-Type: api/response\nContent-Length: 16777217\n\n");
    CHECK(e == errc::limit_exceeded);
    CHECK(mentions(e, "a body longer than 16777216 bytes"));
    message_parser small({.max_body_bytes = 10});
    CHECK(one(small, "Content-Length: 10\n\n0123456789").msg.body().size() == 10);
    CHECK(failure(small, "Content-Length: 11\n\n") == errc::limit_exceeded);
  }
  SECTION("a huge Content-Length does not overflow") {
    for (const char* v : {"18446744073709551616", "99999999999999999999999999999999", "18446744073709551615"}) {
      INFO(v);
      CHECK(failure(std::string{"Content-Length: "} + v + "\n\n") == errc::limit_exceeded);
    }
    // digits past the limit are still checked: not a number wins
    CHECK(failure("Content-Length: 99999999999999999999999x\n\n") == errc::protocol);
  }
  SECTION("a header count flood") {
    std::string flood;
    for (int i = 0; i < 5000; ++i) flood += "X: y\n";
    auto e = failure(flood);
    CHECK(e == errc::limit_exceeded);
    CHECK(mentions(e, "more than 4096 headers"));
    message_parser few({.max_headers = 2});
    CHECK(one(few, "A: 1\nB: 2\n\n").msg.headers().size() == 2);
    CHECK(failure(few, "A: 1\nB: 2\nC: 3\n\n") == errc::limit_exceeded);
  }
  SECTION("a line too long, with or without its end") {
    limits l{.max_line_bytes = 16};
    CHECK(failure("Key: 0123456789abcdef\n\n", l) == errc::limit_exceeded);
    CHECK(failure("Key: 0123456789abcdef", l) == errc::limit_exceeded);  // no '\n' yet: refused all the same
    message_parser p(l);
    CHECK(one(p, "Key: 0123456789a\r\n\r\n").msg.get("Key") == "0123456789a");  // 16 bytes and "\r\n"
  }
  SECTION("a header block too long, empty lines in front included") {
    limits l{.max_header_bytes = 32};
    CHECK(failure("A: 1\nB: 2\nC: 3\nD: 4\nE: 5\nF: 6\nG: 7\n\n", l) == errc::limit_exceeded);
    CHECK(failure(std::string(40, '\n'), l) == errc::limit_exceeded);
    message_parser p(l);
    CHECK(one(p, "A: 1\n\n").msg.get("A") == "1");
  }
  SECTION("a body never counts against the header limits") {
    message_parser p({.max_header_bytes = 64, .max_line_bytes = 24});
    std::string body(1000, 'x');
    CHECK(one(p, "Content-Length: 1000\n\n" + body).msg.body() == body);
  }
}

TEST_CASE("esl parser: fed in pieces gives the same messages", "[proto][esl][parser]") {
  std::string stream =
      "Content-Type: auth/request\n\n"
      "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
      "Content-Type: api/response\nContent-Length: 4\n\n+OK\n"
      "Content-Length: 42\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\nUp-Time: 0%20years\n\n";
  message_parser whole;
  auto a = feed(whole, stream);
  REQUIRE_FALSE(a.error);
  REQUIRE(a.messages.size() == 4);
  for (std::size_t n : {1u, 2u, 3u, 7u, 13u}) {
    message_parser p;
    auto b = feed(
        p, stream, [n] { return n; }, true);
    REQUIRE_FALSE(b.error);
    CHECK(b.messages == a.messages);
    CHECK(b.left == 0);
  }
}

TEST_CASE("esl parser allocates nothing per message once warm", "[proto][esl][parser][alloc]") {
  if (!costrix::test::counting_allocations) {
    WARN("allocation counting is off under sanitizers");
    return;
  }
  std::string bytes =
      "Content-Length: 42\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\nUp-Time: 0%20years\n\n";
  message_parser p;
  REQUIRE(p.parse(bytes));  // warm
  std::size_t before = costrix::test::allocations();
  for (int i = 0; i < 100; ++i) {
    auto r = p.parse(bytes);
    REQUIRE(r);
    REQUIRE(*r);
  }
  CHECK(costrix::test::allocations() - before == 0);
}
