#include <costrix/proto/agi/environment.hpp>

#include "alloc_counter.hpp"
#include "result_value.hpp"
#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace costrix;
using namespace costrix::proto::agi;
using namespace std::string_literals;

using costrix::test::val;

namespace {
template <class T>
std::vector<T> as_vector(std::span<const T> s) {
  return {s.begin(), s.end()};
}

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
  CHECK(e.network());
  CHECK(e.network_script() == "ivr/main?lang=en&x=a%20b");
  CHECK(e.request() == "agi://127.0.0.1/ivr/main?lang=en&x=a%20b");
  CHECK(e.channel() == "PJSIP/100-00000001");
  CHECK(e.language() == "en");
  CHECK(e.type() == "PJSIP");
  CHECK(e.uniqueid() == "1700000000.1");
  CHECK(e.version() == "22.10.1");
  CHECK(e.callerid() == "100");
  CHECK(e.calleridname() == "Alice");
  CHECK(e.callingpres() == 67);
  CHECK(e.callingani2() == 0);
  CHECK(e.callington() == 33);
  CHECK(e.callingtns() == 0);
  CHECK(e.dnid() == "200");
  CHECK(e.rdnis() == "unknown");
  CHECK(e.context() == "default");
  CHECK(e.extension() == "200");
  CHECK(e.priority() == "1");
  CHECK(e.enhanced() == "0.0");
  CHECK(e.accountcode().empty());
  CHECK(e.threadid() == "140000");
  CHECK(as_vector(e.args()) == std::vector<std::string_view>{"one", "two words"});
  CHECK(e.script() == "ivr/main");
  CHECK(as_vector(e.query()) == std::vector<query_param>{{"lang", "en"}, {"x", "a b"}});
  CHECK(e.param("x") == std::optional<std::string_view>{"a b"});
  CHECK_FALSE(e.param("missing"));
  CHECK(e.unknown().empty());
}

TEST_CASE("environment: line by line - CRLF - empty values", "[proto][agi][environment]") {
  environment_parser p;
  CHECK(val(p.feed("agi_request: x.agi\r")) == false);
  CHECK(val(p.feed("agi_accountcode:")) == false);
  CHECK(val(p.feed("agi_calleridname: ")) == false);
  CHECK(val(p.feed("agi_callerid:  two spaces")) == false);
  CHECK(val(p.feed("agi_context: a: b")) == false);
  auto done = p.feed("\r");
  REQUIRE(done);
  CHECK(*done);
  CHECK(p.get().request() == "x.agi");
  CHECK(p.get().accountcode().empty());
  CHECK(p.get().calleridname().empty());
  CHECK(p.get().callerid() == " two spaces");  // only the one space after ':' is the separator
  CHECK(p.get().context() == "a: b");
  CHECK(p.get().script().empty());  // classic AGI: no network script
  // The block is over: more lines are a protocol error.
  auto more = p.feed("agi_request: y");
  REQUIRE_FALSE(more);
  CHECK(more.error() == errc::protocol);
}

TEST_CASE("environment: unknown keys - out-of-order arguments - bad integers", "[proto][agi][environment]") {
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
  CHECK(as_vector(r->args()) == std::vector<std::string_view>{"a", "b"});
  using kv = std::pair<std::string_view, std::string_view>;
  CHECK(as_vector(r->unknown()) == std::vector<kv>{{"agi_arg_3", "c"}, {"agi_arg_03", "z"}, {"agi_arg_x", "y"},
                                                   {"agi_arg_", "e"}, {"agi_future_key", "v"}});
  CHECK(r->callingpres() == 0);
  CHECK(r->callington() == 0);
  CHECK(r->callingani2() == -3);
  CHECK_FALSE(r->network());
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
  CHECK(empty->request().empty());
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
  SECTION("max_bytes is capped at max_block_bytes") {
    const environment_limits generous{.max_bytes = 1 << 20, .max_lines = 100000};
    std::string over = "agi_request: " + std::string(environment_limits::max_block_bytes, 'a') + "\n\n";
    auto r = parse_environment(over, generous);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
    CHECK(r.error().message.find("32768 bytes") != std::string::npos);

    // Line by line: refused as soon as the block passes the cap.
    environment_parser p(generous);
    const std::string line = "agi_x: " + std::string(1000, 'b');
    std::size_t lines = 0;
    for (;;) {
      auto fed = p.feed(line);
      ++lines;
      if (!fed) {
        CHECK(fed.error() == errc::limit_exceeded);
        break;
      }
      REQUIRE_FALSE(*fed);
    }
    CHECK(lines == environment_limits::max_block_bytes / (line.size() + 1) + 1);
  }
  SECTION("a block at the cap: text past 32 KiB (values and the decoded script) reads right") {
    const environment_limits generous{.max_bytes = 1 << 20, .max_lines = 100000};
    // A 16 KiB network script, decoded again into the text, and 16 KiB of unknown lines: about 48 KiB of text.
    const std::string path(8000, 'p');
    const std::string value(8000, 'v');
    std::string b = "agi_network_script: " + path + "?k=" + value + "\n";
    for (int i = 0; b.size() < environment_limits::max_block_bytes - 200; ++i)
      b += "agi_u" + std::to_string(i % 10) + ": " + std::string(90, static_cast<char>('a' + i % 26)) + "\n";
    b += "agi_channel: last\nagi_arg_1: one\n\n";
    REQUIRE(b.size() <= environment_limits::max_block_bytes);
    auto r = parse_environment(b, generous);
    REQUIRE(r);
    auto check = [&](const environment& e) {
      CHECK(e.channel() == "last");
      CHECK(e.script() == path);
      CHECK(e.param("k") == std::optional<std::string_view>{value});
      CHECK(e.network_script().size() == path.size() + 3 + value.size());
      REQUIRE(e.args().size() == 1);
      CHECK(e.args()[0] == "one");
      REQUIRE(e.unknown().size() > 150);
      CHECK(e.unknown().back().first == "agi_u" + std::to_string((e.unknown().size() - 1) % 10));
      CHECK(e.unknown().back().second == std::string(90, static_cast<char>('a' + (e.unknown().size() - 1) % 26)));
    };
    check(*r);
    environment copy(*r);
    *r = environment{};
    check(copy);
  }
}

TEST_CASE("environment: split_script and url_decode", "[proto][agi][environment]") {
  std::string out;
  std::string_view path;
  std::vector<query_param> q;
  auto split = [&](std::string_view script) {
    out.assign(script.size(), '#');  // decoding never lengthens
    path = "not set";
    q.clear();
    return split_script(script, out, path, q);
  };

  CHECK(split("basic?x=1&y=two%20words&y=3") == 19);
  CHECK(path == "basic");
  CHECK(q == std::vector<query_param>{{"x", "1"}, {"y", "two words"}, {"y", "3"}});
  CHECK(out.substr(0, 19) == "basicx1ytwo wordsy3");  // every piece decoded into `out`, in order
  CHECK(path.data() == out.data());

  split("a%2Fb+c?flag&&k=&=v&p=a+b%2");
  CHECK(path == "a/b+c");  // '+' is literal in a path
  CHECK(q == std::vector<query_param>{{"flag", ""}, {"k", ""}, {"", "v"}, {"p", "a b%2"}});

  CHECK(split("") == 0);
  CHECK(path.empty());
  CHECK(q.empty());

  CHECK(split("?") == 0);
  CHECK(path.empty());
  CHECK(q.empty());

  SECTION("the output must hold the decoded bytes") {
    char exact[4];
    CHECK(split_script("%41?b=%43", exact, path, q) == 3);
    CHECK(path == "A");
    CHECK(q.back() == query_param{"b", "C"});
    CHECK_THROWS_AS(split_script("%41?b=%43", std::span<char>(exact, 2), path, q), std::length_error);
  }

  CHECK(url_decode("a%20b+c") == "a b c");
  CHECK(url_decode("%") == "%");
  CHECK(url_decode("%4") == "%4");
  CHECK(url_decode("%zz%41") == "%zzA");
  CHECK(url_decode("%e2%82%AC") == "\xe2\x82\xac");
  CHECK(url_decode("%00") == std::string(1, '\0'));
  CHECK(url_decode("") == "");
}

namespace {
// Every view of `e` and of its arrays' elements, to check where they point.
std::vector<std::string_view> all_views(const environment& e) {
  std::vector<std::string_view> v{e.request(),  e.channel(),   e.language(),     e.type(),     e.uniqueid(),
                                  e.version(),  e.callerid(),  e.calleridname(), e.dnid(),     e.rdnis(),
                                  e.context(),  e.extension(), e.priority(),     e.enhanced(), e.accountcode(),
                                  e.threadid(), e.network_script(), e.script()};
  for (const auto& p : e.query()) v.insert(v.end(), {p.key, p.value});
  v.insert(v.end(), e.args().begin(), e.args().end());
  for (const auto& [k, val] : e.unknown()) v.insert(v.end(), {k, val});
  return v;
}

bool overlaps(std::string_view a, std::string_view b) {
  return !a.empty() && !b.empty() && a.data() < b.data() + b.size() && b.data() < a.data() + a.size();
}

// No non-empty view of `a` shares a byte with one of `b`.
bool independent(const environment& a, const environment& b) {
  for (auto x : all_views(a))
    for (auto y : all_views(b))
      if (overlaps(x, y)) return false;
  return true;
}

const std::string with_unknown = block.substr(0, block.size() - 1) +
                                 "agi_arg_5: five\n"
                                 "agi_future: f%20uture\n"
                                 "\n";

void check_values(const environment& e) {
  CHECK(e.network());
  CHECK(e.network_script() == "ivr/main?lang=en&x=a%20b");
  CHECK(e.request() == "agi://127.0.0.1/ivr/main?lang=en&x=a%20b");
  CHECK(e.channel() == "PJSIP/100-00000001");
  CHECK(e.uniqueid() == "1700000000.1");
  CHECK(e.calleridname() == "Alice");
  CHECK(e.callingpres() == 67);
  CHECK(e.callington() == 33);
  CHECK(e.threadid() == "140000");
  CHECK(e.accountcode().empty());
  CHECK(e.script() == "ivr/main");
  CHECK(as_vector(e.query()) == std::vector<query_param>{{"lang", "en"}, {"x", "a b"}});
  CHECK(e.param("x") == std::optional<std::string_view>{"a b"});
  CHECK(as_vector(e.args()) == std::vector<std::string_view>{"one", "two words"});
  using kv = std::pair<std::string_view, std::string_view>;
  CHECK(as_vector(e.unknown()) == std::vector<kv>{{"agi_arg_5", "five"}, {"agi_future", "f%20uture"}});
}

bool empty(const environment& e) {
  for (auto v : all_views(e))
    if (!v.empty()) return false;
  return e.query().empty() && e.args().empty() && e.unknown().empty() && !e.network() && e.callingpres() == 0 &&
         e.callington() == 0;
}
}  // namespace

TEST_CASE("environment: moved and copied - the views stay right", "[proto][agi][environment]") {
  auto parsed = parse_environment(with_unknown);
  REQUIRE(parsed);
  auto original = std::make_unique<environment>(std::move(*parsed));
  CHECK(empty(*parsed));  // moved from: empty
  check_values(*original);

  SECTION("move construction and assignment keep the block") {
    const char* channel = original->channel().data();
    environment moved(std::move(*original));
    CHECK(empty(*original));
    check_values(moved);
    CHECK(moved.channel().data() == channel);  // the same bytes: nothing copied

    environment assigned;
    assigned = std::move(moved);
    CHECK(empty(moved));
    check_values(assigned);
    CHECK(assigned.channel().data() == channel);

    // Many moves while a vector grows.
    std::vector<environment> many;
    for (int i = 0; i < 20; ++i) many.push_back(assigned);
    many.push_back(std::move(assigned));
    for (const auto& e : many) check_values(e);
    CHECK(many.back().channel().data() == channel);

    auto& self = many.back();
    self = std::move(self);
    check_values(many.back());
  }

  SECTION("a copy has its own block and outlives the original") {
    environment copy(*original);
    CHECK(independent(copy, *original));
    environment assigned;
    assigned = *original;
    CHECK(independent(assigned, *original));
    CHECK(independent(assigned, copy));
    assigned = copy;  // over a non-empty one
    CHECK(independent(assigned, copy));
    original.reset();
    check_values(copy);
    check_values(assigned);

    auto& self = assigned;
    assigned = self;
    check_values(assigned);
  }

  SECTION("the arrays and the texts share one block, arrays first") {
    auto check_layout = [](const environment& e) {
      const char* args = reinterpret_cast<const char*>(e.args().data());
      const char* query = reinterpret_cast<const char*>(e.query().data());
      const char* unknown = reinterpret_cast<const char*>(e.unknown().data());
      CHECK(query == args + e.args().size_bytes());
      CHECK(unknown == query + e.query().size_bytes());
      const char* text = unknown + e.unknown().size_bytes();
      std::less<const char*> before;
      for (auto v : all_views(e))
        if (!v.empty()) CHECK_FALSE(before(v.data(), text));
    };
    check_layout(*original);
    environment copy(*original);
    check_layout(copy);
    CHECK(independent(copy, *original));
    CHECK(copy.args().data() != original->args().data());
  }

  SECTION("an empty environment copies and moves without allocating") {
    environment e;
    CHECK(empty(e));
    std::size_t before = costrix::test::allocations();
    environment copy(e);
    environment moved(std::move(copy));
    copy = moved;
    std::size_t allocations = costrix::test::allocations() - before;
    CHECK(empty(copy));
    CHECK(empty(moved));
    if (costrix::test::counting_allocations) CHECK(allocations == 0);
  }
}

TEST_CASE("environment: the transcript's environment is one block", "[proto][agi][environment]") {
  auto t = costrix::test::load_agi_transcript("fastagi-basic.json");
  auto lines = costrix::test::split_lines(t.env);
  REQUIRE(lines.size() > 1);
  REQUIRE(lines.back().empty());

  environment_parser p;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) REQUIRE(val(p.feed(lines[i])) == false);
  std::size_t before = costrix::test::allocations();
  REQUIRE(val(p.feed(lines.back())) == true);  // the closing empty line builds the environment
  std::size_t built = costrix::test::allocations() - before;

  environment e = std::move(p.get());
  CHECK(e.script() == "basic");
  CHECK(e.channel() == "Local/s@agi-test-00000002;2");
  CHECK_FALSE(e.query().empty());  // the arrays are in the one block too
  CHECK_FALSE(e.args().empty());
  CHECK(e.unknown().empty());

  before = costrix::test::allocations();
  environment moved(std::move(e));
  std::size_t on_move = costrix::test::allocations() - before;

  before = costrix::test::allocations();
  environment copy(moved);
  std::size_t on_copy = costrix::test::allocations() - before;
  CHECK(copy.param("y") == std::optional<std::string_view>{"two words"});
  CHECK(as_vector(copy.args()) == as_vector(moved.args()));

  if (!costrix::test::counting_allocations) {
    WARN("allocation counting is off under sanitizers");
  } else {
    CHECK(built == 1);
    CHECK(on_move == 0);
    CHECK(on_copy == 1);
  }
}

TEST_CASE("environment: small inline", "[proto][agi][environment]") {
  // The block's pointer, 18 16-bit slices, four ints, four 16-bit counts and a bool.
  STATIC_REQUIRE(sizeof(environment) <= 112);
}
