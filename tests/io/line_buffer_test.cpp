#include <costrix/io/line_buffer.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using costrix::errc;
using costrix::io::line_buffer;

namespace {
void put(line_buffer& b, std::string_view bytes) {
  while (!bytes.empty()) {
    auto space = b.prepare();
    REQUIRE(!space.empty());
    std::size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    b.commit(n);
    bytes.remove_prefix(n);
  }
}
std::optional<std::string> next(line_buffer& b) {
  auto l = b.next_line();
  REQUIRE(l);
  if (!*l) return std::nullopt;
  return std::string(**l);
}
}  // namespace

TEST_CASE("line_buffer returns lines ended by LF and CRLF", "[io][line_buffer]") {
  line_buffer b;
  put(b, "200 result=0\r\nHANGUP\n\npartial");
  CHECK(next(b) == "200 result=0");
  CHECK(next(b) == "HANGUP");
  CHECK(next(b) == "");
  CHECK(next(b) == std::nullopt);
  put(b, " line\n");
  CHECK(next(b) == "partial line");
}

TEST_CASE("line_buffer reassembles a line split at every byte", "[io][line_buffer]") {
  const std::string text = "agi_request: agi://127.0.0.1/basic?x=1\r\nagi_channel: Local/s@agi-test-00000002;2\n";
  line_buffer b(8192, 16);
  std::vector<std::string> lines;
  for (char c : text) {
    put(b, std::string_view(&c, 1));
    while (auto l = next(b)) lines.push_back(*l);
  }
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "agi_request: agi://127.0.0.1/basic?x=1");
  CHECK(lines[1] == "agi_channel: Local/s@agi-test-00000002;2");
}

TEST_CASE("line_buffer grows for a long line and refuses one over the limit", "[io][line_buffer]") {
  line_buffer b(100, 16);
  put(b, std::string(100, 'x') + "\r\n");
  CHECK(next(b) == std::string(100, 'x'));
  CHECK(b.capacity() <= 102);

  line_buffer tight(100, 16);
  std::string big(1 << 20, 'y');  // 1 MiB without a line end
  std::size_t fed = 0;
  costrix::result<std::optional<std::string_view>> r = std::optional<std::string_view>{};
  while (fed < big.size()) {
    auto space = tight.prepare();
    if (space.empty()) break;
    std::size_t n = std::min(space.size(), big.size() - fed);
    std::memcpy(space.data(), big.data() + fed, n);
    tight.commit(n);
    fed += n;
    r = tight.next_line();
    if (!r) break;
  }
  REQUIRE(!r);
  CHECK(r.error() == errc::limit_exceeded);
  CHECK(fed <= 102);            // it stopped reading at the limit
  CHECK(tight.capacity() <= 102);  // and never grew past it
}

TEST_CASE("line_buffer: a line of exactly max_line bytes passes - one more byte fails", "[io][line_buffer]") {
  line_buffer ok(10, 4);
  put(ok, "0123456789\n");
  CHECK(next(ok) == "0123456789");
  line_buffer over(10, 4);
  put(over, "0123456789A\n");
  auto r = over.next_line();
  REQUIRE(!r);
  CHECK(r.error() == errc::limit_exceeded);
}

TEST_CASE("line_buffer keeps NUL and other bytes inside a line", "[io][line_buffer]") {
  line_buffer b;
  put(b, std::string("a\0b\xff\n", 5));
  CHECK(next(b) == std::string("a\0b\xff", 4));
}

TEST_CASE("line_buffer allocates nothing per line once warm", "[io][line_buffer]") {
  line_buffer b(8192, 64);
  put(b, "warm up line\n");
  (void)next(b);
  auto cap = b.capacity();
  for (int i = 0; i < 1000; ++i) {
    put(b, "200 result=0 endpos=44160\n");
    CHECK(next(b) == "200 result=0 endpos=44160");
  }
  CHECK(b.capacity() == cap);
}

TEST_CASE("line_buffer shrinks back after a long line", "[io][line_buffer]") {
  line_buffer b(8192, 64);
  put(b, std::string(5000, 'z') + "\n");
  CHECK(next(b)->size() == 5000);
  CHECK(b.capacity() > 64);
  b.shrink();
  CHECK(b.capacity() == 64);
  put(b, "after\n");
  CHECK(next(b) == "after");
}
