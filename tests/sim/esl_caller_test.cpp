// The simulated FreeSWITCH channel, driven by a scripted outbound server.
#include <costrix/proto/esl/command.hpp>
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>
#include <costrix/sim/esl_caller.hpp>

#include "scripted_peer.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <thread>

namespace esl = costrix::proto::esl;
namespace sim = costrix::sim;
using costrix::test::peer_checks;

namespace {

// The server's side: writes commands, reads whole messages with the codec.
class scripted_server {
 public:
  scripted_server(int fd, peer_checks& checks) : fd_(fd), io_(fd), checks_(checks) {}
  void send(std::string bytes) { PEER_CHECK(checks_, io_.send(bytes)); }
  // The next message's type, first header values asked for, and its event name if any.
  struct got {
    esl::content_type type = esl::content_type::none;
    std::string reply, event, app_uuid, response, digit, body;
    bool closed = false;
  };
  got next() {
    got g;
    for (;;) {
      auto r = parser_.parse(buffer_);
      if (!r) {
        PEER_CHECK(checks_, false);
        g.closed = true;
        return g;
      }
      if (*r) {
        const esl::message& m = (*r)->msg;
        g.type = m.type();
        g.reply = std::string{m.reply_text()};
        g.body = std::string{m.body()};
        if (m.type() == esl::content_type::event_plain || m.has_event_headers()) {
          auto e = decoder_.decode(m);
          PEER_CHECK(checks_, e.has_value());
          if (e) {
            g.event = std::string{e->name()};
            g.app_uuid = std::string{e->get("Application-UUID").value_or("")};
            g.response = std::string{e->get("Application-Response").value_or("")};
            g.digit = std::string{e->get("DTMF-Digit").value_or("")};
          }
        }
        buffer_.erase(0, (*r)->consumed);
        return g;
      }
      char chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) {
        g.closed = true;
        return g;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  costrix::test::peer_io io_;
  peer_checks& checks_;
  esl::message_parser parser_;
  esl::event_decoder decoder_;
  std::string buffer_;
};

}  // namespace

TEST_CASE("esl caller: answers connect - myevents - linger and executes as FreeSWITCH does", "[esl][sim]") {
  costrix::test::socket_pair sp;
  peer_checks checks;
  std::vector<std::string> seen;
  std::thread server([&] {
    scripted_server s{sp.far(), checks};
    s.send("connect\n\n");
    auto data = s.next();
    seen.push_back(data.event + " " + data.reply);
    s.send("myevents\n\n");
    seen.push_back(s.next().reply);
    s.send("linger\n\n");
    seen.push_back(s.next().reply);
    std::string cmd;
    (void)esl::encode(esl::execute{.app = "play_and_get_digits",
                                   .arg = "1 3 1 4000 # prompt.wav silence_stream://250 pagd_digits \\d+",
                                   .event_lock = true, .event_uuid = "x-1"},
                      cmd);
    s.send(cmd);
    for (;;) {
      auto g = s.next();
      if (g.closed) break;
      if (g.type == esl::content_type::command_reply) seen.push_back(g.reply);
      else if (g.event == "DTMF") seen.push_back("DTMF " + g.digit);
      else seen.push_back(g.event + " " + g.app_uuid + (g.response.empty() ? "" : " " + g.response));
      if (g.event == "CHANNEL_EXECUTE_COMPLETE") break;
    }
    s.send("api uuid_getvar a77236ce-9171-4453-b2ab-b17c86c9c143 pagd_digits\n\n");
    seen.push_back("getvar " + s.next().body);
    cmd.clear();
    (void)esl::encode(esl::hangup{.cause = "USER_BUSY"}, cmd);
    s.send(cmd);
    for (;;) {
      auto g = s.next();
      if (g.closed) break;
      if (g.type == esl::content_type::disconnect_notice) {
        seen.push_back("notice");
        break;
      }
      seen.push_back(g.type == esl::content_type::command_reply ? g.reply : g.event);
    }
    s.send("exit\n\n");
    seen.push_back(s.next().reply);
    PEER_CHECK(checks, s.next().type == esl::content_type::disconnect_notice);
  });
  boost::asio::io_context ctx;
  auto stream = costrix::io::stream::adopt(ctx.get_executor(), ::dup(sp.near()));
  sim::esl_call call;
  call.dtmf = "42#";
  auto report = costrix::test::run(ctx, sim::play_esl(stream, call));
  server.join();
  checks.verify();
  REQUIRE(report);
  CHECK(seen == std::vector<std::string>{"CHANNEL_DATA %2BOK%0A", "+OK Events Enabled", "+OK will linger", "+OK",
                                         "CHANNEL_EXECUTE x-1", "DTMF 4", "DTMF 2", "DTMF #",
                                         "CHANNEL_EXECUTE_COMPLETE x-1 _none_", "getvar 42", "+OK", "CHANNEL_HANGUP",
                                         "CHANNEL_HANGUP_COMPLETE", "notice", "+OK bye"});
  REQUIRE(report->executed.size() == 1);
  CHECK(report->executed[0].app == "play_and_get_digits");
  CHECK(report->hung_up);
  CHECK(report->hangup_cause == "USER_BUSY");
  CHECK(report->lingered);
  CHECK(report->variables.at("pagd_digits") == "42");
}
