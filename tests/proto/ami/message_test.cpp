#include <costrix/proto/ami/message_parser.hpp>
#include <costrix/proto/ami/url_decode.hpp>

#include "alloc_counter.hpp"
#include "feed.hpp"

#include <catch2/catch.hpp>

#include <iterator>
#include <memory>
#include <ranges>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::ami;
using namespace std::string_literals;
using costrix::test::same;
using costrix::test::strings;
using sv_list = std::vector<std::string>;
using first = message_parser::first;

static_assert(std::forward_iterator<value_range::iterator>);
static_assert(std::ranges::forward_range<value_range>);

namespace {
// A message parsed from `bytes` (which must stay alive while it is used).
message parse_one(message_parser& p, std::string_view bytes) {
  auto r = p.parse(bytes);
  REQUIRE(r);
  REQUIRE(r->has_value());
  return (*r)->msg;
}
}  // namespace

TEST_CASE("ami iequals compares ASCII case-insensitively", "[proto][ami][message]") {
  CHECK(iequals("ActionID", "actionid"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("ActionID", "ActionI"));
  CHECK_FALSE(iequals("a", "b"));
  CHECK_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // no Unicode folding: Asterisk's strcasecmp does none
}

TEST_CASE("owned_message outlives the receive buffer - in one allocation", "[proto][ami][message][owned]") {
  message_parser p({}, first::message);
  auto buffer = std::make_unique<std::string>(
      "Event: Newchannel\r\nChannel: PJSIP/100-00000001\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n"
      "AccountCode: \r\nActionID: 42\r\n\r\n");
  message view = parse_one(p, *buffer);

  std::size_t before = costrix::test::allocations();
  owned_message owned(view);
  std::size_t allocations = costrix::test::allocations() - before;
  if (costrix::test::counting_allocations) CHECK(allocations == 1);
  CHECK(same(owned, view));
  CHECK(owned.allocated_bytes() == 6 * sizeof(header) + 91);  // keys and values, no ": " or line endings

  std::fill(buffer->begin(), buffer->end(), 'X');  // the received bytes are overwritten, then freed
  buffer.reset();
  CHECK(owned.kind() == message_kind::event);
  CHECK(owned.name() == "Newchannel");
  CHECK(owned.action_id() == "42");
  CHECK(owned.get("channel") == "PJSIP/100-00000001");
  CHECK(owned.get("AccountCode") == "");
  CHECK(strings(owned.all("ChanVariable")) == sv_list{"A=1", "B=2"});

  SECTION("a copy has its own block") {
    owned_message copy(owned);
    CHECK(same(copy, owned));
    CHECK(copy.get("Channel")->data() != owned.get("Channel")->data());
    owned_message assigned;
    assigned = copy;
    CHECK(same(assigned, owned));
    assigned = assigned;  // self-assignment keeps it
    CHECK(same(assigned, owned));
  }
  SECTION("a move keeps the views and empties the source") {
    const char* channel = owned.get("Channel")->data();
    owned_message moved(std::move(owned));
    CHECK(moved.get("Channel")->data() == channel);
    CHECK(moved.name() == "Newchannel");
    CHECK(owned.headers().empty());  // NOLINT(bugprone-use-after-move): a moved-from message is empty
    CHECK(owned.allocated_bytes() == 0);
    owned_message target;
    target = std::move(moved);
    CHECK(target.get("Channel")->data() == channel);
    CHECK(moved.headers().empty());  // NOLINT(bugprone-use-after-move)
  }
  SECTION("a vector of owned messages can grow") {
    std::vector<owned_message> queue;
    for (int i = 0; i < 50; ++i) queue.push_back(owned);
    for (const auto& m : queue) CHECK(m.get("ChanVariable") == "A=1");
  }
}

TEST_CASE("owned_message keeps a banner - a Command body and an empty message", "[proto][ami][message][owned]") {
  message_parser p;
  std::string bytes =
      "Asterisk Call Manager/11.0.0\r\n"
      "Response: Follows\r\nPrivilege: Command\r\nActionID: 1\r\none\n\ntwo\n--END COMMAND--\r\n\r\n";
  auto b = p.parse(bytes);
  REQUIRE(b);
  owned_message banner((*b)->msg);
  auto c = p.parse(std::string_view{bytes}.substr((*b)->consumed));
  REQUIRE(c);
  owned_message command((*c)->msg);
  bytes.assign(bytes.size(), '?');

  CHECK(banner.kind() == message_kind::banner);
  CHECK(banner.name() == "Asterisk Call Manager");
  CHECK(banner.version() == "11.0.0");
  CHECK(strings(command.output()) == sv_list{"one", "", "two"});
  CHECK(command.action_id() == "1");

  std::size_t before = costrix::test::allocations();
  owned_message empty{message{}};
  owned_message empty_copy(empty);
  if (costrix::test::counting_allocations) CHECK(costrix::test::allocations() == before);
  CHECK(empty.headers().empty());
  CHECK(empty.kind() == message_kind::other);
  CHECK(empty.name().empty());
  CHECK_FALSE(empty.get("Response"));
}

TEST_CASE("ami url_decode reads AsyncAGI's encoded values", "[proto][ami][url]") {
  CHECK(url_decode("200%20result%3D1%20(Local%2Fs%40async-test-000000f0%3B2)%0A") ==
        "200 result=1 (Local/s@async-test-000000f0;2)\n");
  CHECK(url_decode("a%2Bb") == "a+b");  // Asterisk writes a '+' as %2B ...
  CHECK(url_decode("a+b") == "a b");    // ... so a bare '+' is a space (legacy encoding)
  CHECK(url_decode("%00") == "\0"s);
  CHECK(url_decode("100%") == "100%");  // malformed escapes kept
  CHECK(url_decode("%zz%4") == "%zz%4");
  CHECK(url_decode("") == "");
}
