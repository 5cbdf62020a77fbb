#include <costrix/proto/agi/reply.hpp>

#include "result_value.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::agi;
using namespace std::string_literals;

using costrix::test::val;

namespace {
// Feeds lines until the reply is complete; the reply must complete on the last
// line. The lines are literals, so the reply's views stay valid.
result<reply> feed_all(reply_parser& p, std::initializer_list<std::string_view> lines) {
  std::size_t i = 0;
  for (auto line : lines) {
    auto done = p.feed(line);
    if (!done) return fail(std::move(done).error());
    if (*done != (++i == lines.size())) return fail(errc::protocol, "completed on the wrong line");
  }
  return p.get();
}
}  // namespace

TEST_CASE("reply: success forms", "[proto][agi][reply]") {
  SECTION("plain") {
    auto r = parse_reply_line("200 result=0");
    REQUIRE(r);
    CHECK(r->code == 200);
    CHECK(r->result == "0");
    CHECK(r->number() == 0);
    CHECK_FALSE(r->data);
    CHECK_FALSE(r->endpos);
    CHECK(r->extra.empty());
    CHECK_FALSE(r->hangup);
    CHECK(check(*r));
  }
  SECTION("negative") {
    auto r = parse_reply_line("200 result=-1");
    REQUIRE(r);
    CHECK(r->number() == -1);
  }
  SECTION("data with parentheses inside") {
    auto r = parse_reply_line("200 result=1 (value with (parens) inside)");
    REQUIRE(r);
    CHECK(r->data == "value with (parens) inside");
    CHECK(r->extra.empty());
  }
  SECTION("a value that is itself unbalanced") {
    auto r = parse_reply_line("200 result=1 (a)b)");
    REQUIRE(r);
    CHECK(r->data == "a)b");
    r = parse_reply_line("200 result=1 (a (b c)");
    REQUIRE(r);
    CHECK(r->data == "a (b c");
  }
  SECTION("a value that looks like endpos") {
    auto r = parse_reply_line("200 result=1 (x) endpos=5)");
    REQUIRE(r);
    CHECK(r->data == "x) endpos=5");
    CHECK_FALSE(r->endpos);
  }
  SECTION("empty data") {
    auto r = parse_reply_line("200 result=1 ()");
    REQUIRE(r);
    CHECK(r->data == "");
  }
  SECTION("endpos") {
    auto r = parse_reply_line("200 result=0 endpos=44160");
    REQUIRE(r);
    CHECK(r->endpos == 44160);
    CHECK(r->extra.empty());
    r = parse_reply_line("200 result=0 endpos=-1");
    REQUIRE(r);
    CHECK(r->endpos == -1);
  }
  SECTION("empty result with data") {
    auto r = parse_reply_line("200 result= (timeout)");
    REQUIRE(r);
    CHECK(r->result == "");
    CHECK_FALSE(r->number());
    CHECK(r->data == "timeout");
  }
  SECTION("empty result alone (GET DATA with nothing entered)") {
    auto r = parse_reply_line("200 result=");
    REQUIRE(r);
    CHECK(r->result == "");
    CHECK_FALSE(r->data);
  }
  SECTION("data then endpos") {
    auto r = parse_reply_line("200 result=0 (timeout) endpos=0");
    REQUIRE(r);
    CHECK(r->data == "timeout");
    CHECK(r->endpos == 0);
    CHECK(r->extra.empty());
  }
  SECTION("record file forms") {
    auto r = parse_reply_line("200 result=-1 (writefile)");
    REQUIRE(r);
    CHECK(r->data == "writefile");
    r = parse_reply_line("200 result=-1 (hangup) endpos=1234");
    REQUIRE(r);
    CHECK(r->data == "hangup");
    CHECK(r->endpos == 1234);
    r = parse_reply_line("200 result=35 (dtmf) endpos=800");
    REQUIRE(r);
    CHECK(r->number() == 35);
    CHECK(r->data == "dtmf");
    r = parse_reply_line("200 result=-1 (randomerror) endpos=0");
    REQUIRE(r);
    CHECK(r->data == "randomerror");
  }
  SECTION("text after the result") {
    auto r = parse_reply_line("200 result=0 Gosub complete");
    REQUIRE(r);
    CHECK(r->extra == "Gosub complete");
    CHECK_FALSE(r->data);
  }
  SECTION("speech") {
    auto r = parse_reply_line("200 result=1 (speech) endpos=1200 results=1 score0=900 text0=\"call (home)\" grammar0=g");
    REQUIRE(r);
    CHECK(r->data == "speech");
    CHECK(r->endpos == 1200);
    CHECK(r->extra == "results=1 score0=900 text0=\"call (home)\" grammar0=g");
    r = parse_reply_line("200 result=1 (digit) digit=5 endpos=0");
    REQUIRE(r);
    CHECK(r->data == "digit");
    CHECK(r->endpos == 0);
    CHECK(r->extra == "digit=5");
    r = parse_reply_line("200 result=1 (speech) endpos=0 results=0 ");
    REQUIRE(r);
    CHECK(r->extra == "results=0");
  }
  SECTION("a malformed endpos stays in extra") {
    auto r = parse_reply_line("200 result=0 endpos=abc");
    REQUIRE(r);
    CHECK_FALSE(r->endpos);
    CHECK(r->extra == "endpos=abc");
  }
  SECTION("CRLF") {
    auto r = parse_reply_line("200 result=1 (x)\r");
    REQUIRE(r);
    CHECK(r->data == "x");
  }
}

TEST_CASE("reply: error codes", "[proto][agi][reply]") {
  auto r = parse_reply_line("510 Invalid or unknown command");
  REQUIRE(r);
  CHECK(r->code == 510);
  CHECK(r->extra == "Invalid or unknown command");
  auto c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::invalid_command);
  CHECK(c.error().message == "Invalid or unknown command");

  r = parse_reply_line("511 Command Not Permitted on a dead channel or intercepted channel");
  REQUIRE(r);
  c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::dead_channel);
  CHECK(c.error().message == "Command Not Permitted on a dead channel or intercepted channel");

  r = parse_reply_line("520 Invalid command syntax.  Proper usage not available.");
  REQUIRE(r);
  CHECK(r->usage.empty());
  c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::usage);
  CHECK(c.error().message == "Invalid command syntax.  Proper usage not available.");

  r = parse_reply_line("503 result=-2 Memory allocation failure");
  REQUIRE(r);
  CHECK(r->result == "-2");
  c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::failed);
  CHECK(c.error().message == "Memory allocation failure");

  r = parse_reply_line("999 what");
  REQUIRE(r);
  c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::protocol);

  r = parse_reply_line("510");
  REQUIRE(r);
  CHECK(r->code == 510);
}

TEST_CASE("reply: multi-line usage", "[proto][agi][reply]") {
  reply_parser p;
  auto r = feed_all(p, {"520-Invalid command syntax.  Proper usage follows:", "Line one.", "", "  Line three.",
                        "520 End of proper usage."});
  REQUIRE(r);
  CHECK(r->code == 520);
  CHECK(r->usage == "Line one.\n\n  Line three.");
  CHECK(r->extra == "End of proper usage.");
  auto c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::usage);
  CHECK(c.error().message == "Line one.\n\n  Line three.");

  SECTION("the parser starts over after a complete reply") {
    auto next = feed_all(p, {"200 result=0"});
    REQUIRE(next);
    CHECK(next->code == 200);
    CHECK(next->usage.empty());
  }
  SECTION("reset keeps nothing") {
    p.reset();
    auto next = feed_all(p, {"HANGUP", "200 result=0"});
    REQUIRE(next);
    CHECK(next->hangup);
    CHECK(next->usage.empty());
  }
}

TEST_CASE("reply: 100 lines are skipped - HANGUP is noted", "[proto][agi][reply]") {
  reply_parser p;
  auto r = feed_all(p, {"100 result=0 Trying...", "200 result=0 Gosub complete"});
  REQUIRE(r);
  CHECK(r->code == 200);
  CHECK(r->extra == "Gosub complete");

  p.reset();
  r = feed_all(p, {"HANGUP", "200 result=0"});
  REQUIRE(r);
  CHECK(r->hangup);
  auto c = check(*r);
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::hangup);

  p.reset();
  r = feed_all(p, {"HANGUP", "HANGUP", "100 result=0 Trying...", "511 Command Not Permitted on a dead channel"});
  REQUIRE(r);
  CHECK(r->hangup);
  CHECK(r->code == 511);
}

TEST_CASE("reply: views point into the last line fed", "[proto][agi][reply]") {
  reply_parser p;
  std::string first = "100 result=0 Trying...";
  std::string last = "200 result=1 (v) endpos=3";
  REQUIRE(val(p.feed(first)) == false);
  REQUIRE(val(p.feed(last)) == true);
  const reply& r = p.get();
  auto inside = [&](std::string_view v) { return v.data() >= last.data() && v.data() + v.size() <= last.data() + last.size(); };
  CHECK(inside(r.result));
  CHECK(inside(*r.data));
}

TEST_CASE("reply: malformed lines are clear errors", "[proto][agi][reply]") {
  for (std::string bad : {""s, "200"s, "2000 result=1"s, "20 result=1"s, "abc result=1"s, "200result=1"s,
                          "200 result=1 (unterminated"s, "200 result=1 ((x) y"s, "200 OK"s, " 200 result=1"s,
                          "200 result=1 (a\0b)"s, "\0"s, "\xff\xfe\xfd"s, "hangup"s, "HANGUP now"s, "200-result=1"s,
                          "200\tresult=1"s, "-200 result=1"s, "2x0 result=1"s}) {
    CAPTURE(bad);
    auto r = parse_reply_line(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::protocol);
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("reply: incomplete replies on their own", "[proto][agi][reply]") {
  for (std::string partial : {"HANGUP"s, "100 result=0 Trying..."s, "520-Invalid command syntax.  Proper usage follows:"s}) {
    CAPTURE(partial);
    auto r = parse_reply_line(partial);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::protocol);
  }
}

TEST_CASE("reply: usage limits", "[proto][agi][reply]") {
  SECTION("10,000 usage lines") {
    reply_parser p;
    REQUIRE(val(p.feed("520-Invalid command syntax.  Proper usage follows:")) == false);
    result<bool> r = false;
    int fed = 0;
    for (; fed < 10000; ++fed) {
      r = p.feed("usage line " + std::to_string(fed));
      if (!r) break;
      REQUIRE(*r == false);
    }
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
    CHECK(fed < 10000);
    CHECK(p.get().usage.size() <= reply_parser::default_max_usage);
  }
  SECTION("a huge usage line") {
    reply_parser p(100);
    REQUIRE(val(p.feed("520-x")) == false);
    auto r = p.feed(std::string(101, 'u'));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
  }
  SECTION("exactly at the limit") {
    reply_parser p(9);
    REQUIRE(val(p.feed("520-x")) == false);
    REQUIRE(val(p.feed("abcd")) == false);
    REQUIRE(val(p.feed("efgh")) == false);
    REQUIRE(val(p.feed("520 End of proper usage.")) == true);
    CHECK(p.get().usage == "abcd\nefgh");
  }
  SECTION("huge lines elsewhere are parsed, not copied") {
    std::string big = "200 result=1 (" + std::string(1 << 20, 'v') + ")";
    auto r = parse_reply_line(big);
    REQUIRE(r);
    CHECK(r->data->size() == (1u << 20));
  }
}

TEST_CASE("reply: garbage never crashes", "[proto][agi][reply]") {
  // Every prefix of some tricky lines, fed after a reset: either a value or an error.
  std::vector<std::string> lines = {"200 result=1 (speech) endpos=1 results=2 score0=1 text0=\"a\" grammar0=b",
                                    "200 result=0 (timeout) endpos=0", "520-x", "200 result=1 (a (b) c)"};
  for (const auto& line : lines)
    for (std::size_t n = 0; n <= line.size(); ++n) {
      reply_parser p;
      auto r = p.feed(std::string_view{line}.substr(0, n));
      if (r && *r) (void)check(p.get());
    }
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t i = 0; i + 8 <= bytes.size(); ++i) {
    reply_parser p;
    (void)p.feed(std::string_view{bytes}.substr(i, 8));
  }
  SUCCEED();
}
