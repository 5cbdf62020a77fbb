// floor_server: the plain-Asio FastAGI baseline costrix's fastagi_demo is benchmarked against.
// Same architecture as costrix: one io_context per thread (concurrency hint 1), one SO_REUSEPORT
// listener per thread, a connection stays on the thread that accepted it. No costrix, no heap
// buffers per call (a fixed 2 KiB line buffer in the coroutine frame), no exceptions on the hot path.
//   floor_server [--listen 127.0.0.1:4573] [--threads N]
// Scripts: "demo" (ANSWER, GET VARIABLE, STREAM FILE, SET VARIABLE, HANGUP), "park" (WAIT FOR DIGIT -1,
// held by the caller until it hangs up); anything else is closed at once.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/socket.h>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  asio::steady_timer backoff{acceptor.get_executor()};
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // out of descriptors or another transient failure: wait, then serve again
      backoff.expires_after(50ms);
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

bool parse_endpoint(std::string_view text, tcp::endpoint& ep) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || err != std::errc{} || p != port_text.data() + port_text.size() || port > 65535)
    return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  else if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  ep = {addr, static_cast<unsigned short>(port)};
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:4573";
  unsigned threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--listen") listen = argv[i + 1];
    else if (flag == "--threads") threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else return std::fprintf(stderr, "usage: floor_server [--listen ADDR:PORT] [--threads N]\n"), 2;
  }
  if (argc % 2 == 0) return std::fprintf(stderr, "usage: floor_server [--listen ADDR:PORT] [--threads N]\n"), 2;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  tcp::endpoint ep;
  if (!parse_endpoint(listen, ep))
    return std::fprintf(stderr, "floor_server: address must be HOST:PORT, got \"%s\"\n", listen.c_str()), 2;

  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<tcp::acceptor> acceptors;
  for (unsigned i = 0; i < threads; ++i) {
    auto& ctx = *contexts.emplace_back(std::make_unique<asio::io_context>(1));
    auto& acceptor = acceptors.emplace_back(ctx);
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.set_option(reuse_port(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(4096, ec);
    if (ec) return std::fprintf(stderr, "floor_server: listen on %s: %s\n", listen.c_str(), ec.message().c_str()), 1;
    if (i == 0) ep.port(acceptor.local_endpoint().port());  // port 0: the others join the same port
  }
  for (auto& acceptor : acceptors) asio::co_spawn(acceptor.get_executor(), accept_loop(acceptor), asio::detached);

  asio::signal_set signals{*contexts[0], SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec)
      for (auto& ctx : contexts) ctx->stop();
  });
  std::printf("floor_server: serving agi://%s:%u/{demo,park} on %u threads\n", ep.address().to_string().c_str(),
              static_cast<unsigned>(ep.port()), threads);
  std::fflush(stdout);

  std::vector<std::thread> pool;
  for (auto& ctx : contexts) pool.emplace_back([&c = *ctx] { c.run(); });
  for (auto& t : pool) t.join();
  return 0;
}
