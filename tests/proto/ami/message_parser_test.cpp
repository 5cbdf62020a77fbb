#include <costrix/proto/ami/message_parser.hpp>

#include "alloc_counter.hpp"
#include "feed.hpp"
#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace costrix;
using namespace costrix::proto::ami;
using namespace std::string_literals;
using costrix::test::feed;
using costrix::test::same;
using costrix::test::strings;
using sv_list = std::vector<std::string>;
using first = message_parser::first;

namespace {

// The one message at the front of `bytes` (which must be complete).
parsed one(message_parser& p, std::string_view bytes) {
  auto r = p.parse(bytes);
  if (!r) FAIL(r.error().what());
  REQUIRE(r->has_value());
  return **r;
}

message_parser no_banner(limits l = {}) { return message_parser(l, first::message); }

// The error parsing `bytes` gives (the stream must fail).
costrix::error error_of(std::string_view bytes, limits l = {}, first f = first::message) {
  message_parser p(l, f);
  auto r = feed(p, bytes);
  REQUIRE(r.error.has_value());
  return *r.error;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

TEST_CASE("ami parser: a response's headers are views into the input", "[proto][ami][parser]") {
  const std::string bytes = "Response: Success\r\nActionID: ping-1\r\nPing: Pong\r\n\r\nEvent: X\r\n";
  auto p = no_banner();
  auto r = one(p, bytes);
  CHECK(r.consumed == 51);
  const message& m = r.msg;
  CHECK(m.kind() == message_kind::response);
  CHECK(m.name() == "Success");
  CHECK(m.action_id() == "ping-1");
  CHECK(m.get("Ping") == "Pong");
  REQUIRE(m.headers().size() == 3);
  CHECK(m.headers()[0] == header{"Response", "Success"});
  for (const auto& h : m.headers()) {
    CHECK(inside(h.key, bytes));
    CHECK(inside(h.value, bytes));
  }
  // The rest is an incomplete event: more bytes are needed.
  auto rest = p.parse(std::string_view{bytes}.substr(r.consumed));
  REQUIRE(rest);
  CHECK_FALSE(rest->has_value());
}

TEST_CASE("ami parser: line endings - key forms and values", "[proto][ami][parser]") {
  auto p = no_banner();
  SECTION("bare \\n and mixed endings") {
    auto m = one(p, "Event: Hangup\nChannel: PJSIP/1\r\nCause: 16\n\r\n").msg;
    CHECK(m.kind() == message_kind::event);
    CHECK(m.name() == "Hangup");
    CHECK(m.get("Channel") == "PJSIP/1");
    CHECK(m.get("Cause") == "16");
  }
  SECTION("Key: with an empty value, Key:value without the space, one space dropped only") {
    auto m = one(p, "Event: E\r\nEmpty:\r\nEmpty2: \r\nTight:value\r\nWide:   three\r\nTrail: x  \r\n\r\n").msg;
    CHECK(m.get("Empty") == "");
    CHECK(m.get("Empty2") == "");
    CHECK(m.get("Tight") == "value");
    CHECK(m.get("Wide") == "  three");
    CHECK(m.get("Trail") == "x  ");
  }
  SECTION("a value holding ': ' is split at the first ':'") {
    auto m = one(p, "Response: Error\r\nMessage: Invalid/unknown command: X. Use Action: ListCommands\r\n\r\n").msg;
    CHECK(m.get("Message") == "Invalid/unknown command: X. Use Action: ListCommands");
  }
  SECTION("repeated keys kept in order, keys compared case-insensitively") {
    auto m = one(p,
                 "Event: Newchannel\r\nChanVariable: A=1\r\nchanvariable: B=2\r\nVariable: v\r\n"
                 "CHANVARIABLE: C=3\r\n\r\n")
                 .msg;
    CHECK(strings(m.all("ChanVariable")) == sv_list{"A=1", "B=2", "C=3"});
    CHECK(strings(m.all("variable")) == sv_list{"v"});
    CHECK(m.all("Nope").empty());
    CHECK(m.get("chanVARIABLE") == "A=1");
    CHECK_FALSE(m.get("Chan").has_value());
    CHECK(std::ranges::distance(m.all("ChanVariable")) == 3);
    auto values = m.all("ChanVariable");
    std::vector<std::string_view> v(values.begin(), values.end());
    CHECK(v.size() == 3);
  }
  SECTION("kinds") {
    CHECK(one(p, "Action: Ping\r\nActionID: 1\r\n\r\n").msg.kind() == message_kind::action);
    auto other = one(p, "Foo: bar\r\n\r\n").msg;
    CHECK(other.kind() == message_kind::other);
    CHECK(other.name().empty());
    CHECK(one(p, "response: Success\r\n\r\n").msg.kind() == message_kind::response);
  }
  SECTION("tabs, non-ASCII bytes and lone CRs stay in values") {
    auto m = one(p, "Event: E\r\nText: a\tb \xc3\xa9 c\rd\r\n\r\n").msg;
    CHECK(m.get("Text") == "a\tb \xc3\xa9 c\rd");
  }
}

TEST_CASE("ami parser: empty lines between messages are skipped", "[proto][ami][parser]") {
  auto p = no_banner();
  const std::string bytes = "\r\n\n\r\nEvent: A\r\n\r\n\r\n";
  auto r = one(p, bytes);
  CHECK(r.consumed == 5 + 10 + 2);
  CHECK(r.msg.name() == "A");
  auto rest = p.parse(std::string_view{bytes}.substr(r.consumed));
  REQUIRE(rest);
  CHECK_FALSE(rest->has_value());  // only an empty line is left: need more
}

TEST_CASE("ami parser: the banner comes first", "[proto][ami][parser][banner]") {
  message_parser p;
  SECTION("banner and a message in one read") {
    const std::string bytes = "Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\n";
    auto b = one(p, bytes);
    CHECK(b.consumed == 30);
    CHECK(b.msg.kind() == message_kind::banner);
    CHECK(b.msg.name() == "Asterisk Call Manager");
    CHECK(b.msg.version() == "11.0.0");
    CHECK(b.msg.headers().empty());
    CHECK(b.msg.action_id().empty());
    auto m = one(p, std::string_view{bytes}.substr(b.consumed));
    CHECK(m.msg.kind() == message_kind::response);
  }
  SECTION("older versions, bare \\n, in pieces") {
    auto r = feed(p, "Asterisk Call Manager/2.10.3\nEvent: X\n\n", [] { return std::size_t{1}; });
    REQUIRE_FALSE(r.error);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].version() == "2.10.3");
  }
  SECTION("a missing banner is an error") {
    for (std::string_view bad : {"Response: Success\r\n\r\n", "\r\n", "Asterisk Call Manager/\r\n",
                                 "Asterisk Call Manager 11.0.0\r\n", "Welcome/1.0\r\n", "HTTP/1.1 200 OK\r\n"}) {
      INFO(bad);
      auto e = error_of(bad, {}, first::banner);
      CHECK(e == errc::protocol);
      CHECK(e.message.find("expected the banner") != std::string::npos);
    }
  }
  SECTION("a banner is not taken from a stream without one") {
    auto e = error_of("Asterisk Call Manager/11.0.0\r\n");
    CHECK(e == errc::protocol);
    CHECK(e.message.find("not a \"Key: Value\" line") != std::string::npos);
  }
  SECTION("reset() expects a banner again") {
    one(p, "Asterisk Call Manager/11.0.0\r\n");
    p.reset();
    CHECK(one(p, "Asterisk Call Manager/11.0.0\r\n").msg.kind() == message_kind::banner);
  }
}

TEST_CASE("ami parser: Command output in both framings", "[proto][ami][parser][command]") {
  auto p = no_banner();
  SECTION("Asterisk >= 14: Output headers") {
    auto m = one(p,
                 "Response: Success\r\nActionID: c1\r\nMessage: Command output follows\r\n"
                 "Output: Channel   Location\r\nOutput:   indented\r\nOutput: \r\n\r\n")
                 .msg;
    CHECK(strings(m.output()) == sv_list{"Channel   Location", "  indented", ""});
    CHECK(m.action_id() == "c1");
  }
  SECTION("older Asterisk: Response: Follows and a raw body") {
    const std::string bytes =
        "Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n"
        "\n  * Name       : 100\nCallerid: \"Bob\" <100>\n\nlast line\n--END COMMAND--\r\n\r\n";
    auto r = one(p, bytes);
    CHECK(r.consumed == bytes.size());
    const message& m = r.msg;
    CHECK(m.kind() == message_kind::response);
    CHECK(m.name() == "Follows");
    CHECK(m.action_id() == "c1");
    CHECK(m.get("Privilege") == "Command");
    CHECK(strings(m.output()) == sv_list{"", "  * Name       : 100", "Callerid: \"Bob\" <100>", "", "last line"});
    CHECK_FALSE(m.get("Callerid").has_value());  // a body line is not a header
    REQUIRE(m.headers().size() == 8);
    CHECK(m.headers()[3] == header{"", ""});
    CHECK(m.headers()[4] == header{"", "  * Name       : 100"});
  }
  SECTION("the end marker after the last line's text, no ActionID, CRLF body lines") {
    auto m = one(p, "Response: Follows\r\nPrivilege: Command\r\nfirst\r\nNo such command 'x'--END COMMAND--\r\n\r\n").msg;
    CHECK(strings(m.output()) == sv_list{"first", "No such command 'x'"});
    CHECK(m.action_id().empty());
  }
  SECTION("an empty output; ActionID ahead of Privilege") {
    auto m = one(p, "Response: Follows\r\nActionID: 5\r\nPrivilege: Command\r\n--END COMMAND--\r\n\r\n").msg;
    CHECK(m.output().empty());
    CHECK(m.action_id() == "5");
  }
  SECTION("without a Privilege header the first line that is not a header starts the body") {
    auto m = one(p, "Response: Follows\r\nActionID: 7\r\nsome output\nmore\n--END COMMAND--\r\n\r\n").msg;
    CHECK(strings(m.output()) == sv_list{"some output", "more"});
    CHECK(m.action_id() == "7");
  }
  SECTION("both framings give the same output, whole or byte by byte") {
    const std::string stream =
        "Response: Follows\r\nPrivilege: Command\r\nActionID: a\r\nline 1\nline 2\n--END COMMAND--\r\n\r\n"
        "Response: Success\r\nActionID: b\r\nMessage: Command output follows\r\nOutput: line 1\r\n"
        "Output: line 2\r\n\r\n";
    for (bool bytewise : {false, true}) {
      auto q = no_banner();
      auto r = bytewise ? feed(q, stream, [] { return std::size_t{1}; }) : feed(q, stream);
      REQUIRE_FALSE(r.error);
      REQUIRE(r.messages.size() == 2);
      CHECK(strings(r.messages[0].output()) == sv_list{"line 1", "line 2"});
      CHECK(strings(r.messages[1].output()) == strings(r.messages[0].output()));
    }
  }
  SECTION("after the end marker only headers or the empty line may follow") {
    auto e = error_of("Response: Follows\r\nPrivilege: Command\r\n--END COMMAND--\r\nstray text\r\n\r\n");
    CHECK(e == errc::protocol);
    auto m = one(p, "Response: Follows\r\nPrivilege: Command\r\nx\n--END COMMAND--\r\nExtra: 1\r\n\r\n").msg;
    CHECK(m.get("Extra") == "1");
    CHECK(strings(m.output()) == sv_list{"x"});
  }
  SECTION("an event named Follows has no body") {
    auto e = error_of("Event: Follows\r\nPrivilege: Command\r\nnot a header\r\n\r\n");
    CHECK(e == errc::protocol);
  }
}

TEST_CASE("ami parser: resumes a partial message - even when the buffer moves", "[proto][ami][parser]") {
  const std::string msg = "Event: Newchannel\r\nChannel: PJSIP/100-00000001\r\nUniqueid: 1.1\r\n\r\n";
  auto p = no_banner();
  // Every prefix needs more bytes; each call is given a fresh copy at a new address.
  for (std::size_t n = 0; n < msg.size(); ++n) {
    std::string copy = msg.substr(0, n);
    auto r = p.parse(copy);
    REQUIRE(r);
    CHECK_FALSE(r->has_value());
  }
  std::string whole = msg + "Event: Next\r\n";
  auto r = one(p, whole);
  CHECK(r.consumed == msg.size());
  CHECK(r.msg.get("Channel") == "PJSIP/100-00000001");
  CHECK(inside(r.msg.get("Uniqueid").value(), whole));

  SECTION("input shorter than last time is read afresh") {
    auto q = no_banner();
    REQUIRE(q.parse("Event: A\r\nKey: 1\r\n"));
    auto again = one(q, "Event: B\r\n\r\n");
    CHECK(again.msg.name() == "B");
    CHECK(again.msg.headers().size() == 1);
  }
}

TEST_CASE("ami parser: malformed input is a protocol error that quotes the line", "[proto][ami][parser][errors]") {
  struct bad_case {
    std::string bytes;
    std::string words;
  };
  const std::vector<bad_case> cases = {
      {"Response: Success\r\nthis is not a header\r\n\r\n", "not a \"Key: Value\" line: \"this is not a header\""},
      {"Response: Success\r\n: no key\r\n\r\n", "\": no key\""},
      {"Response: Success\r\nBad Key: x\r\n\r\n", "\"Bad Key: x\""},
      {"Response: Success\r\n Indented: x\r\n\r\n", "\" Indented: x\""},
      {"Response: Success\r\nCtl\x01Key: x\r\n\r\n", "\"Ctl?Key: x\""},
      {"no colon at all\r\n\r\n", "\"no colon at all\""},
      {"Event: X\r\nKey: a\0b\r\n\r\n"s, "NUL byte"},
      {"Event: X\0\r\n\r\n"s, "NUL byte"},
      {"Response: Follows\r\nPrivilege: Command\r\nout\0put\n--END COMMAND--\r\n\r\n"s, "NUL byte"},
  };
  for (const auto& c : cases) {
    INFO(c.bytes);
    auto e = error_of(c.bytes);
    CHECK(e == errc::protocol);
    CHECK(e.message.starts_with("AMI: "));
    CHECK(e.message.find(c.words) != std::string::npos);
  }
}

TEST_CASE("ami parser: limits", "[proto][ami][parser][limits]") {
  SECTION("a line of max_line_bytes passes, one byte more fails") {
    limits l{.max_line_bytes = 16};
    auto p = no_banner(l);
    CHECK(one(p, "Event: X\r\nKey: 0123456789a\r\n\r\n").msg.get("Key") == "0123456789a");  // 16 bytes
    auto e = error_of("Event: X\r\nKey: 0123456789ab\r\n\r\n", l);
    CHECK(e == errc::limit_exceeded);
    CHECK(e.message.find("a line longer than 16 bytes") != std::string::npos);
    CHECK(error_of("Event: X\nKey: 0123456789ab\n\n", l) == errc::limit_exceeded);
  }
  SECTION("an unterminated line fails as soon as it is too long, not when it ends") {
    limits l{.max_line_bytes = 16};
    auto p = no_banner(l);
    std::string line = "Event: " + std::string(10, 'x');  // 17 bytes and no line ending yet
    auto r = p.parse(line);
    REQUIRE(r);  // 16 bytes and a '\r' could still end in "\n": wait
    CHECK_FALSE(r->has_value());
    line += 'x';
    auto r2 = p.parse(line);
    REQUIRE_FALSE(r2);
    CHECK(r2.error() == errc::limit_exceeded);
  }
  SECTION("a message of max_message_bytes passes, one byte more fails") {
    const std::string msg = "Event: X\r\nKey: value\r\n\r\n";  // 24 bytes
    limits l{.max_message_bytes = msg.size()};
    auto p = no_banner(l);
    CHECK(one(p, msg + "Event: Y\r\n").consumed == msg.size());
    auto e = error_of("Event: X\r\nKey: value1\r\n\r\n", l);
    CHECK(e == errc::limit_exceeded);
    CHECK(e.message.find("a message longer than 24 bytes") != std::string::npos);
  }
  SECTION("an unfinished message fails once its bytes reach the limit") {
    limits l{.max_message_bytes = 64};
    auto p = no_banner(l);
    std::string bytes = "Event: X\r\n";
    bool failed = false;
    for (int i = 0; i < 100 && !failed; ++i) {
      bytes += "K: v\r\n";
      auto r = p.parse(bytes);
      if (!r) {
        CHECK(r.error() == errc::limit_exceeded);
        failed = true;
      } else {
        CHECK_FALSE(r->has_value());
      }
    }
    CHECK(failed);
    CHECK(bytes.size() <= 64 + 6);
  }
  SECTION("empty lines count towards the message: a flood of them fails") {
    limits l{.max_message_bytes = 1024};
    CHECK(error_of(std::string(2000, '\n'), l) == errc::limit_exceeded);
  }
  SECTION("max_headers counts headers and Command body lines") {
    limits l{.max_headers = 3};
    auto p = no_banner(l);
    CHECK(one(p, "Event: X\r\nA: 1\r\nB: 2\r\n\r\n").msg.headers().size() == 3);
    auto e = error_of("Event: X\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", l);
    CHECK(e == errc::limit_exceeded);
    CHECK(e.message.find("more than 3 headers") != std::string::npos);
    CHECK(error_of("Response: Follows\r\nPrivilege: Command\r\na\nb\n--END COMMAND--\r\n\r\n", l) ==
          errc::limit_exceeded);
  }
  SECTION("defaults") {
    limits l;
    CHECK(l.max_message_bytes == 256 * 1024);
    CHECK(l.max_line_bytes == 64 * 1024);
    CHECK(l.max_headers == 4096);
  }
}

TEST_CASE("ami parser: after an error the stream stays broken until reset()", "[proto][ami][parser][errors]") {
  auto p = no_banner();
  auto bad = p.parse("garbage\r\n\r\n");
  REQUIRE_FALSE(bad);
  auto again = p.parse("Event: X\r\n\r\n");
  REQUIRE_FALSE(again);
  CHECK(again.error() == errc::protocol);
  CHECK(again.error().message == bad.error().message);
  p.reset();
  CHECK(one(p, "Event: X\r\n\r\n").msg.name() == "X");
}

TEST_CASE("ami parser: hostile input never crashes and never needs unbounded memory", "[proto][ami][parser][hostile]") {
  const limits l{.max_message_bytes = 4096, .max_line_bytes = 512, .max_headers = 64};
  SECTION("an endless line, an endless message, an endless Command body") {
    for (std::string unit : {"x"s, "K: v\r\n"s, "line\n"s}) {
      message_parser p(l, first::message);
      std::string buf = unit == "line\n" ? "Response: Follows\r\nPrivilege: Command\r\n" : "Event: E\r\n";
      bool failed = false;
      for (int i = 0; i < 100000 && !failed; ++i) {
        buf += unit;
        auto r = p.parse(buf);
        failed = !r;
        if (r) CHECK_FALSE(r->has_value());
      }
      INFO(unit);
      CHECK(failed);
      CHECK(buf.size() <= l.max_message_bytes + unit.size());
    }
  }
  SECTION("every truncation of a real stream needs more bytes, never fails") {
    auto steps = costrix::test::load_steps("ami-session.json");
    std::string stream = steps[0].received + steps[3].received + steps[13].received;
    for (std::size_t n = 0; n < stream.size(); ++n) {
      message_parser p;
      auto r = feed(p, std::string_view{stream}.substr(0, n));
      REQUIRE_FALSE(r.error);
      CHECK(r.messages.size() <= 6);
    }
  }
  SECTION("random bytes and random mutations of real messages") {
    auto steps = costrix::test::load_steps("ami-session.json");
    const std::string sample = steps[14].received;
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
      std::string bytes = sample.substr(0, rng() % sample.size());
      for (int k = 0; k < 8; ++k)
        if (!bytes.empty()) bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256);
      if (round % 3 == 0)
        for (auto& c : bytes) c = static_cast<char>(rng() % 256);
      for (auto f : {first::banner, first::message}) {
        message_parser whole(l, f);
        auto a = feed(whole, bytes);
        message_parser pieces(l, f);
        auto b = feed(pieces, bytes, [&] { return rng() % 50; }, true);
        // The same verdict and the same messages, however the bytes arrive.
        CHECK(a.error.has_value() == b.error.has_value());
        if (a.error && b.error) CHECK(a.error->code == b.error->code);
        REQUIRE(a.messages.size() == b.messages.size());
        for (std::size_t i = 0; i < a.messages.size(); ++i) CHECK(same(a.messages[i], b.messages[i]));
      }
    }
  }
}

TEST_CASE("ami parser allocates nothing per message once warm", "[proto][ami][parser][alloc]") {
  if (!costrix::test::counting_allocations) {
    WARN("allocation counting is off under sanitizers");
    return;
  }
  auto steps = costrix::test::load_steps("ami-session.json");
  std::string stream;
  for (std::size_t i = 0; i < 22; ++i) stream += steps[i].received;
  stream += "Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\none\ntwo\n--END COMMAND--\r\n\r\n";

  message_parser p;
  auto run = [&] {
    std::size_t messages = 0;
    std::string_view rest = stream;
    for (;;) {
      auto r = p.parse(rest);
      if (!r || !*r) break;
      ++messages;
      rest.remove_prefix((*r)->consumed);
    }
    return messages;
  };
  CHECK(run() == 61);  // warm-up: the header storage grows to the largest message
  p.reset();
  std::size_t before = costrix::test::allocations();
  std::size_t messages = run();
  std::size_t allocations = costrix::test::allocations() - before;
  CHECK(messages == 61);
  CHECK(allocations == 0);
}
