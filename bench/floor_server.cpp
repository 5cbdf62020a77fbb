// floor_server: the plain-Asio FastAGI baseline costrix's fastagi_demo is benchmarked against.
// Same architecture as costrix: one io_context per thread (concurrency hint 1), one SO_REUSEPORT
// listener per thread, a connection stays on the thread that accepted it. No costrix, no heap
// buffers per call (a fixed 2 KiB line buffer in the coroutine frame), no exceptions on the hot path.
//   floor_server [--listen 127.0.0.1:4573] [--threads N]
// Scripts: "demo" (ANSWER, GET VARIABLE, STREAM FILE, SET VARIABLE, HANGUP), "park" (WAIT FOR DIGIT -1,
// held by the caller until it hangs up); anything else is closed at once.
#include "floor_common.hpp"

#include <boost/asio/write.hpp>

#include <cstring>
#include <string>
#include <string_view>

using namespace floor_common;

namespace {

struct connection {
  explicit connection(tcp::socket s) : socket(std::move(s)) {}  // buf left uninitialised on purpose
  tcp::socket socket;
  char buf[2048];
  std::size_t begin = 0, end = 0;

  // Next line without its "\n" / "\r\n"; false on EOF, error or a line over 2 KiB.
  // The view is valid until the next call.
  asio::awaitable<bool> read_line(std::string_view& line) {
    for (;;) {
      if (auto* nl = static_cast<char*>(std::memchr(buf + begin, '\n', end - begin))) {
        std::size_t len = static_cast<std::size_t>(nl - (buf + begin));
        if (len && buf[begin + len - 1] == '\r') --len;
        line = {buf + begin, len};
        begin = static_cast<std::size_t>(nl - buf) + 1;
        co_return true;
      }
      if (begin) {  // keep the partial line at the front
        std::memmove(buf, buf + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (end == sizeof buf) co_return false;  // line too long
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf + end, sizeof buf - end), use_tuple);
      if (ec) co_return false;
      end += n;
    }
  }

  // Sends one command and reads its reply; true if the reply is a 200.
  asio::awaitable<bool> command(std::string_view cmd) {
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(cmd), use_tuple);
    if (ec) co_return false;
    std::string_view line;
    if (!co_await read_line(line)) co_return false;
    if (line.starts_with("HANGUP") && !co_await read_line(line)) co_return false;  // the real reply follows
    co_return line.starts_with("200");
  }
};

enum class script { other, demo, park };

asio::awaitable<void> serve(tcp::socket socket) {
  connection c{std::move(socket)};
  script which = script::other;
  std::string_view line;
  for (;;) {  // the agi_* environment, up to the empty line
    if (!co_await c.read_line(line)) co_return;
    if (line.empty()) break;
    if (constexpr auto key = "agi_network_script:"sv; line.starts_with(key)) {
      line.remove_prefix(key.size());
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      line = line.substr(0, line.find('?'));
      which = line == "demo" ? script::demo : line == "park" ? script::park : script::other;
    }
  }
  if (which == script::demo) {
    if (co_await c.command("ANSWER\n") && co_await c.command("GET VARIABLE CALLERID(num)\n") &&
        co_await c.command("STREAM FILE demo-thanks \"12\"\n")) {
      co_await c.command("SET VARIABLE RESULT ok\n");
      co_await c.command("HANGUP\n");
    }
  } else if (which == script::park) {
    co_await c.command("WAIT FOR DIGIT -1\n");
  }
  boost::system::error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
}

}  // namespace

int main(int argc, char** argv) {
  return floor_common::run(argc, argv, "floor_server", "127.0.0.1:4573",
                           "floor_server: serving agi://%s:%u/{demo,park} on %u threads\n", serve);
}
