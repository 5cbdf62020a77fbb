// The inbound ESL simulator, driven over loopback by a plain blocking client
// that writes the commands of the real FreeSWITCH transcript and reads with the
// codec's parser. Replies must match the transcript's bytes once UUIDs and
// numbers (uptime, lengths, sequence numbers) are masked.
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>
#include <costrix/sim/esl_server.hpp>

#include "sim_thread.hpp"
#include "support.hpp"
#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace sim = costrix::sim;
namespace esl = costrix::proto::esl;

namespace {

// UUIDs and digit runs masked: what may differ between two FreeSWITCHes.
std::string masked(std::string s) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  static const std::regex digits("[0-9]+");
  s = std::regex_replace(s, uuid, "<uuid>");
  return std::regex_replace(s, digits, "0");
}

// The messages in some bytes, each as its raw bytes.
std::vector<std::string> split_messages(std::string_view bytes) {
  std::vector<std::string> out;
  esl::message_parser p;
  while (!bytes.empty()) {
    auto r = p.parse(bytes);
    if (!r || !*r) break;
    out.emplace_back(bytes.substr(0, (*r)->consumed));
    bytes.remove_prefix((*r)->consumed);
  }
  return out;
}

class conn {
 public:
  explicit conn(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~conn() { ::close(fd_); }
  void send(std::string_view s) { REQUIRE(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size())); }
  // The next whole message's bytes; nullopt at end of stream.
  std::optional<std::string> next() {
    for (;;) {
      esl::message_parser p;
      auto r = p.parse(buf_);
      if (r && *r) {
        std::string m = buf_.substr(0, (*r)->consumed);
        buf_.erase(0, (*r)->consumed);
        return m;
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, std::size_t(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

using server = costrix::test::sim_thread<sim::esl_server, sim::esl_server_options>;

const costrix::test::transcript_step& step(const std::vector<costrix::test::transcript_step>& steps,
                                           std::string_view name) {
  for (const auto& s : steps)
    if (s.step == name) return s;
  FAIL("no step " << name);
  return steps.front();
}

}  // namespace

TEST_CASE("esl sim: replies match the real FreeSWITCH transcript", "[esl][sim]") {
  auto steps = costrix::test::load_steps("esl-inbound.json");
  server s;
  // The steps whose replies depend on nothing but the command, in the transcript's order.
  const std::vector<std::string> replayed = {
      "banner",        "auth-wrong-password",       "banner-2",       "command-before-auth",
      "banner-3",      "auth",                      "api-status",     "api-unknown-command",
      "api-show-channels-empty", "api-show-channels-json", "api-global-getvar", "bgapi-unsubscribed",
      "event-plain-subscribe", "noevents", "event-plain-all-then-filter", "filter-add", "filter-delete",
      "nixevent", "noevents-2", "unknown-command", "exit"};
  std::optional<conn> c;
  for (const auto& name : replayed) {
    const auto& st = step(steps, name);
    INFO("step " << name);
    if (st.sent.empty()) c.emplace(s.srv.port());
    else c->send(st.sent);
    std::string expected = st.received;
    bool closes = false;
    if (auto at = expected.find("<<closed>>"); at != std::string::npos) {
      expected.erase(at);
      closes = true;
    }
    for (const auto& want : split_messages(expected)) {
      auto got = c->next();
      REQUIRE(got);
      CHECK(masked(*got) == masked(want));
    }
    if (closes) CHECK(!c->next());
  }
}

TEST_CASE("esl sim: bgapi's BACKGROUND_JOB is framed as FreeSWITCH frames it", "[esl][sim]") {
  auto steps = costrix::test::load_steps("esl-inbound.json");
  server s;
  conn c(s.srv.port());
  REQUIRE(c.next());
  c.send("auth ClueCon\n\n");
  REQUIRE(c.next());
  c.send(step(steps, "event-plain-subscribe").sent);
  REQUIRE(c.next());
  const auto& st = step(steps, "bgapi-with-job-uuid");
  c.send(st.sent);
  auto want = split_messages(st.received);
  REQUIRE(want.size() == 2);
  auto reply = c.next();
  REQUIRE(reply);
  CHECK(*reply == want[0]);  // the client's Job-UUID, exactly
  auto job = c.next();
  REQUIRE(job);
  // The same outer framing (masked), and the same event fields the client reads.
  CHECK(masked(job->substr(0, job->find("\n\n"))) == masked(want[1].substr(0, want[1].find("\n\n"))));
  esl::message_parser p1, p2;
  auto got_m = p1.parse(*job);
  auto want_m = p2.parse(want[1]);
  REQUIRE(got_m);
  REQUIRE(want_m);
  esl::event_decoder d1, d2;
  auto got_e = d1.decode((*got_m)->msg);
  auto want_e = d2.decode((*want_m)->msg);
  REQUIRE(got_e);
  REQUIRE(want_e);
  CHECK(got_e->name() == want_e->name());
  CHECK(got_e->get("Job-UUID") == want_e->get("Job-UUID"));
  CHECK(got_e->get("Job-Command") == want_e->get("Job-Command"));
  CHECK(masked(std::string(got_e->body())) == masked(std::string(want_e->body())));
  for (auto key : {"Core-UUID", "FreeSWITCH-Hostname", "Event-Date-Timestamp", "Event-Sequence"})
    CHECK(got_e->get(key).has_value());
}

TEST_CASE("esl sim: originate uuid_getvar uuid_exists and uuid_kill answer as in the transcript", "[esl][sim]") {
  auto steps = costrix::test::load_steps("esl-inbound.json");
  server s;
  conn c(s.srv.port());
  REQUIRE(c.next());
  c.send("auth ClueCon\n\n");
  REQUIRE(c.next());
  // No events subscribed: only the replies come.
  const auto& orig = step(steps, "originate-loopback-park");
  c.send(orig.sent);
  auto reply = c.next();
  REQUIRE(reply);
  CHECK(masked(*reply) == masked(split_messages(orig.received).front()));
  std::string uuid = reply->substr(reply->find("+OK ") + 4, 36);
  auto with_uuid = [&](std::string text) { return std::regex_replace(text, std::regex("439ffc6d-12a3-4d52-a9d9-c5a6b1369020"), uuid); };
  for (auto name : {"api-uuid-getvar", "api-uuid-dump-subset", "uuid-kill"}) {
    INFO("step " << name);
    const auto& st = step(steps, name);
    c.send(with_uuid(st.sent));
    auto got = c.next();
    REQUIRE(got);
    CHECK(*got == split_messages(st.received).front());  // byte for byte
  }
  const auto& nowhere = step(steps, "originate-failure");
  c.send(nowhere.sent);
  auto failed = c.next();
  REQUIRE(failed);
  CHECK(*failed == split_messages(nowhere.received).front());
}

TEST_CASE("esl sim: events go by name and subclass and format and filter", "[esl][sim]") {
  server s;
  conn c(s.srv.port());
  REQUIRE(c.next());
  c.send("auth ClueCon\n\nevent json CUSTOM costrix::a\n\nfilter X-Pick yes\n\n");
  REQUIRE(c.next());
  auto subscribed = c.next();
  REQUIRE(subscribed);
  CHECK(subscribed->find("Reply-Text: +OK event listener enabled json") != std::string::npos);
  REQUIRE(c.next());
  s.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::b"}, {"X-Pick", "yes"}});  // other subclass
  s.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::a"}, {"X-Pick", "no"}});   // filtered out
  s.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::a"}, {"X-Pick", "yes"}}, "the body");
  auto e = c.next();
  REQUIRE(e);
  CHECK(e->find("Content-Type: text/event-json") != std::string::npos);
  CHECK(e->find("\"X-Pick\":\"yes\"") != std::string::npos);
  CHECK(e->find("\"_body\":\"the body\"") != std::string::npos);
  CHECK(s.srv.commands_received("filter") == 1);
}
