// esl_floor_server: the plain-Asio ESL outbound baseline costrix's esl_outbound example is
// benchmarked against. Same architecture as bench/floor_server.cpp (one io_context per
// thread, one SO_REUSEPORT listener per thread, a call stays on its thread) and the same
// script as examples/esl_outbound.cpp, written to the socket the way costrix's session
// writes it: connect, myevents, linger, then execute answer, play_and_get_digits (1-4
// digits into `account`), say the digits (when any), hangup NORMAL_CLEARING. Each execute
// waits for its reply and its CHANNEL_EXECUTE_COMPLETE (matched by Application-UUID).
// Hand-written minimal parsing: header blocks and Content-Length bodies in one buffer, no
// URL decoding (the values read here need none), no error recovery.
//   esl_floor_server [--listen 127.0.0.1:8084] [--threads N]
#include "floor_common.hpp"

#include <boost/asio/write.hpp>

#include <cstring>
#include <string>
#include <string_view>

using namespace floor_common;

namespace {

// The value of `key` in a block of "Key: value" lines, or empty.
std::string_view value_of(std::string_view block, std::string_view key) {
  for (std::size_t at = 0; at < block.size();) {
    std::size_t nl = block.find('\n', at);
    std::string_view line = block.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    if (line.size() > key.size() + 1 && line.starts_with(key) && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return line;
    }
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return {};
}

struct connection {
  explicit connection(tcp::socket s) : socket(std::move(s)) { buf.reserve(16384); }
  tcp::socket socket;
  std::string buf;        // received, not yet consumed
  std::size_t used = 0;   // bytes of buf taken by the last message
  std::string_view headers, body;  // the last message
  unsigned sequence = 0;

  // Next message (headers and body); false on EOF or error. Views valid until the next call.
  asio::awaitable<bool> read_message() {
    buf.erase(0, used);
    used = 0;
    for (;;) {
      std::size_t end = buf.find("\n\n");
      if (end != std::string::npos) {
        headers = std::string_view(buf).substr(0, end + 1);
        std::size_t length = 0;
        std::string_view cl = value_of(headers, "Content-Length");
        std::from_chars(cl.data(), cl.data() + cl.size(), length);
        if (buf.size() >= end + 2 + length) {
          body = std::string_view(buf).substr(end + 2, length);
          used = end + 2 + length;
          co_return true;
        }
      }
      if (buf.size() > (1u << 20)) co_return false;
      char chunk[8192];
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
      if (ec) co_return false;
      buf.append(chunk, n);
    }
  }

  asio::awaitable<bool> send(std::string_view bytes) {
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), use_tuple);
    co_return !ec;
  }

  // A command answered by one command/reply; true on +OK.
  asio::awaitable<bool> command(std::string_view bytes) {
    bool sent = co_await send(bytes);
    if (!sent) co_return false;
    for (;;) {
      bool got = co_await read_message();
      if (!got) co_return false;
      if (value_of(headers, "Content-Type") == "command/reply") break;
    }
    std::string_view text = value_of(headers, "Reply-Text");
    bool ok = text.starts_with("+OK") || text.starts_with("%2BOK");  // the connect reply's values are URL-encoded
    co_return ok;
  }

  // Runs an application; true once its CHANNEL_EXECUTE_COMPLETE came. `complete` holds that event's body.
  asio::awaitable<bool> execute(std::string_view app, std::string_view arg, std::string& complete) {
    char uuid[40];
    auto len = std::snprintf(uuid, sizeof uuid, "f1004000-0000-4000-8000-%012u", ++sequence);
    std::string cmd = "sendmsg\ncall-command: execute\nexecute-app-name: ";
    cmd.append(app);
    if (!arg.empty()) cmd.append("\nexecute-app-arg: ").append(arg);
    cmd.append("\nevent-lock: true\nEvent-UUID: ").append(uuid, static_cast<std::size_t>(len)).append("\n\n");
    bool sent = co_await send(cmd);
    if (!sent) co_return false;
    bool replied = false;
    for (;;) {
      bool got = co_await read_message();
      if (!got) co_return false;
      std::string_view type = value_of(headers, "Content-Type");
      if (type == "command/reply") {
        if (!value_of(headers, "Reply-Text").starts_with("+OK")) co_return false;
        replied = true;
      } else if (type == "text/event-plain" && value_of(body, "Event-Name") == "CHANNEL_EXECUTE_COMPLETE" &&
                 value_of(body, "Application-UUID") == std::string_view(uuid, static_cast<std::size_t>(len))) {
        complete.assign(body);
      } else if (type == "text/disconnect-notice") {
        co_return false;
      }
      if (replied && !complete.empty()) break;
    }
    co_return true;
  }
};

asio::awaitable<void> serve(tcp::socket socket) {
  connection c{std::move(socket)};
  std::string done;
  bool ok = co_await c.command("connect\n\n");
  if (ok) ok = co_await c.command("myevents\n\n");
  if (ok) ok = co_await c.command("linger\n\n");
  if (ok) ok = co_await c.execute("answer", {}, done);
  done.clear();
  if (ok) {
    ok = co_await c.execute("play_and_get_digits",
                            "1 4 3 5000 # ivr/ivr-please_enter_your_account_number.wav "
                            "ivr/ivr-that_was_an_invalid_entry.wav account \\d+",
                            done);
  }
  std::string account(value_of(done, "variable_account"));
  if (ok && !account.empty()) {
    std::string say = "en name_spelled iterated " + account;
    done.clear();
    ok = co_await c.execute("say", say, done);
  }
  if (ok) co_await c.command("sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n");
  boost::system::error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
}

}  // namespace

int main(int argc, char** argv) {
  return floor_common::run(argc, argv, "esl_floor_server", "127.0.0.1:8084",
                           "esl_floor_server: serving the outbound socket %s:%u on %u threads\n", serve);
}
