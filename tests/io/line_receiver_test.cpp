// io::line_receiver over a socketpair: lines across reads, what is kept between
// reads, limits, end of stream, and no allocation for lines that arrive whole.
#include <costrix/io/line_receiver.hpp>

#include "alloc_counter.hpp"
#include "scripted_peer.hpp"

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using costrix::errc;
using costrix::result;
using costrix::io::line_receiver;
using costrix::test::peer_io;
using costrix::test::socket_pair;

namespace {

struct fixture {
  boost::asio::io_context ctx;
  socket_pair pair;
  costrix::io::stream stream = costrix::io::stream::duplicate(ctx.get_executor(), pair.near(), pair.near());
  peer_io peer{pair.far()};
  fixture() { pair.close_near(); }
};

// Takes lines until `stop_after` have been taken (0: never satisfied).
struct collector {
  std::vector<std::string> lines;
  std::size_t stop_after = 0;
  result<bool> operator()(std::string_view line) {
    lines.emplace_back(line);
    return stop_after != 0 && lines.size() >= stop_after;
  }
};

}  // namespace

TEST_CASE("line_receiver hands out lines ended by LF or CRLF - across reads", "[io][line_receiver]") {
  fixture f;
  line_receiver r;
  collector c;
  auto nothing = r.drain(f.stream, c);
  REQUIRE(nothing);
  CHECK(*nothing == false);  // nothing sent yet: wait for readability
  CHECK(r.held() == 0);

  f.peer.send("200 result=0\r\nHANG");
  auto first = r.drain(f.stream, c);
  REQUIRE(first);
  CHECK(*first == false);
  CHECK(c.lines == std::vector<std::string>{"200 result=0"});
  CHECK(r.held() == 4);  // "HANG", kept until its line ends

  f.peer.send("UP\n\n");
  auto second = r.drain(f.stream, c);
  REQUIRE(second);
  CHECK(c.lines == std::vector<std::string>{"200 result=0", "HANGUP", ""});
  CHECK(r.held() == 0);
}

TEST_CASE("line_receiver keeps what follows the line its consumer wanted", "[io][line_receiver]") {
  fixture f;
  line_receiver r;
  f.peer.send("one\ntwo\nthr");
  collector first{.stop_after = 1};
  auto done = r.drain(f.stream, first);
  REQUIRE(done);
  CHECK(*done == true);
  CHECK(first.lines == std::vector<std::string>{"one"});
  CHECK(r.held() == 7);  // "two\nthr"

  // The kept complete line is handed out without reading the stream.
  collector second{.stop_after = 1};
  auto again = r.drain(f.stream, second);
  REQUIRE(again);
  CHECK(*again == true);
  CHECK(second.lines == std::vector<std::string>{"two"});

  f.peer.send("ee\n");
  collector third{.stop_after = 1};
  auto last = r.drain(f.stream, third);
  REQUIRE(last);
  CHECK(third.lines == std::vector<std::string>{"three"});
  CHECK(r.held() == 0);
}

TEST_CASE("line_receiver refuses a line over max_line - whole or in pieces", "[io][line_receiver]") {
  fixture f;
  line_receiver r{16};
  collector c;
  f.peer.send(std::string(16, 'x') + "\n");  // exactly the limit: fine
  auto fits = r.drain(f.stream, c);
  REQUIRE(fits);
  REQUIRE(c.lines.size() == 1);

  f.peer.send(std::string(10, 'y'));
  auto partial = r.drain(f.stream, c);
  REQUIRE(partial);  // 10 bytes kept, still under the limit
  f.peer.send(std::string(10, 'y'));
  auto over = r.drain(f.stream, c);
  REQUIRE(!over);
  CHECK(over.error() == errc::limit_exceeded);
}

TEST_CASE("line_receiver reports the end of the stream - even mid-line", "[io][line_receiver]") {
  fixture f;
  line_receiver r;
  collector c;
  f.peer.send("200 result=");
  f.pair.close_far();
  auto ended = r.drain(f.stream, c);
  REQUIRE(!ended);
  CHECK(ended.error() == errc::disconnected);
  CHECK(r.at_eof());
  CHECK(c.lines.empty());
}

TEST_CASE("line_receiver passes on its consumer's error", "[io][line_receiver]") {
  fixture f;
  line_receiver r;
  f.peer.send("garbage\n");
  auto refused = r.drain(f.stream, [](std::string_view) -> result<bool> {
    return costrix::fail(errc::protocol, "not a reply");
  });
  REQUIRE(!refused);
  CHECK(refused.error() == errc::protocol);
}

TEST_CASE("line_receiver allocates nothing for lines that arrive whole", "[io][line_receiver][alloc]") {
  if (!costrix::test::counting_allocations) return;
  fixture f;
  line_receiver r;
  std::size_t lines = 0;
  auto count = [&](std::string_view) -> result<bool> { return ++lines % 2 == 0; };
  f.peer.send("100 result=0 Trying...\n200 result=0\n");
  auto warm = r.drain(f.stream, count);  // the thread's buffer is made once
  REQUIRE(warm);
  std::size_t before = costrix::test::allocations();
  for (int i = 0; i < 100; ++i) {
    f.peer.send("100 result=0 Trying...\n200 result=0\n");
    auto done = r.drain(f.stream, count);
    REQUIRE(done);
    CHECK(*done == true);
  }
  CHECK(costrix::test::allocations() == before);
  CHECK(r.held() == 0);
}
