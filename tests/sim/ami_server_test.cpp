// The AMI simulator, driven over loopback by a plain blocking client that
// writes raw AMI text and reads with the codec's parser. Forms are compared
// with the real Asterisk 22 transcripts where the simulator can match them.
#include <costrix/proto/agi/environment.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/proto/ami/message_parser.hpp>
#include <costrix/proto/ami/url_decode.hpp>
#include <costrix/sim/ami_server.hpp>

#include "sim_thread.hpp"
#include "support.hpp"
#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace sim = costrix::sim;
namespace ami = costrix::proto::ami;
using ami::message_kind;
using ami::owned_message;
using fields = std::vector<std::pair<std::string, std::string>>;

namespace {

fields fields_of(const ami::message& m) {
  fields out;
  for (const auto& h : m.headers()) out.emplace_back(h.key, h.value);
  return out;
}

std::vector<std::string> keys_of(const ami::message& m) {
  std::vector<std::string> out;
  for (const auto& h : m.headers()) out.emplace_back(h.key);
  return out;
}

std::string text_of(const ami::message& m) {
  std::string out;
  for (const auto& h : m.headers()) out += std::string(h.key) + ": " + std::string(h.value) + "\n";
  return out;
}

// A plain AMI client: blocking socket, raw text out, the codec's parser in.
// Reads give up after 10 s (a failure, never a verdict).
class client {
 public:
  explicit client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  client(client&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_), parser_(std::move(o.parser_)),
        buffer_(std::move(o.buffer_)) {}
  client(const client&) = delete;
  ~client() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const { return connected_; }
  bool timed_out() const { return timed_out_; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// The next message; nullopt when the server closed the connection (or on a timeout).
  std::optional<owned_message> next() {
    for (;;) {
      auto r = parser_.parse(buffer_);
      if (!r) FAIL("the simulator sent what the parser refuses: " << r.error().what());
      if (*r) {
        owned_message m{(*r)->msg};
        buffer_.erase(0, (*r)->consumed);
        return m;
      }
      char chunk[64 * 1024];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      // With io_uring, completions of work this thread submitted interrupt its
      // blocking calls: EINTR, as a signal would.
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) timed_out_ = true;
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  owned_message banner() {
    auto m = next();
    REQUIRE(m);
    REQUIRE(m->kind() == message_kind::banner);
    return std::move(*m);
  }

  /// The response carrying `action_id`; messages before it are kept in `skipped`.
  owned_message response(std::string_view action_id) {
    for (;;) {
      auto m = next();
      INFO("waiting for the response to " << action_id);
      REQUIRE(m);
      if (m->kind() == message_kind::response && m->action_id() == action_id) return std::move(*m);
      skipped.push_back(std::move(*m));
    }
  }

  /// The next event named `name`; messages before it are kept in `skipped`.
  owned_message event(std::string_view name) {
    for (;;) {
      auto m = next();
      INFO("waiting for event " << name);
      REQUIRE(m);
      if (m->kind() == message_kind::event && m->name() == name) return std::move(*m);
      skipped.push_back(std::move(*m));
    }
  }

  /// Reads until the server closes; true if it did (rather than the read timing out).
  bool closed_by_server() {
    while (auto m = next()) skipped.push_back(std::move(*m));
    return !timed_out_;
  }

  owned_message login(std::string_view events = {}, std::string_view secret = "wordpass") {
    std::string a = "Action: Login\r\nUsername: admin\r\nSecret: " + std::string(secret) + "\r\n";
    if (!events.empty()) a += "Events: " + std::string(events) + "\r\n";
    send(a + "ActionID: login\r\n\r\n");
    return response("login");
  }

  /// Sends a Ping and returns every message that came before its Pong.
  std::vector<owned_message> until_pong(std::string_view id = "sync") {
    send("Action: Ping\r\nActionID: " + std::string(id) + "\r\n\r\n");
    skipped.clear();
    response(id);
    return std::move(skipped);
  }

  std::vector<owned_message> skipped;

 private:
  int fd_;
  bool connected_ = false;
  bool timed_out_ = false;
  ami::message_parser parser_;
  std::string buffer_;
};

// A simulator on a one-thread runtime, listening on a free port.
struct server : costrix::test::sim_thread<sim::ami_server, sim::ami_server_options> {
  using sim_thread::sim_thread;

  client connect() {
    client c{srv.port()};
    REQUIRE(c.connected());
    c.banner();
    return c;
  }
  client logged_in(std::string_view events = {}) {
    auto c = connect();
    auto r = c.login(events);
    REQUIRE(r.name() == "Success");
    return c;
  }
  /// Runs one of the server's calls that take a `done` callback and waits for it.
  template <class F>
  void wait(F&& call) {
    costrix::test::latch_flag done;
    call([&] { done.set(); });
    done.wait();
  }
};

// The messages of a transcript step, as Asterisk sent them.
std::vector<owned_message> received(const costrix::test::transcript_step& step) {
  ami::message_parser p({}, ami::message_parser::first::message);
  std::string_view rest = step.received;
  std::vector<owned_message> out;
  for (;;) {
    auto r = p.parse(rest);
    REQUIRE(r);
    if (!*r) break;
    out.emplace_back((*r)->msg);
    rest.remove_prefix((*r)->consumed);
  }
  return out;
}

const costrix::test::transcript_step& step(const std::vector<costrix::test::transcript_step>& steps,
                                           std::string_view name) {
  for (const auto& s : steps)
    if (s.step == name) return s;
  FAIL("no step " << name);
  throw;
}

}  // namespace

TEST_CASE("ami sim: MD5 login keys as Asterisk computes them", "[sim][ami]") {
  CHECK(sim::md5_login_key("919389003", "wordpass") == "1a3656eacb441b548699f543f29da41a");  // the transcript's
  CHECK(sim::md5_login_key("", "") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(sim::md5_login_key("a", "bc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(sim::md5_login_key("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "") ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("ami sim: banner - as configured", "[sim][ami]") {
  SECTION("default: the transcript's") {
    server s;
    client c{s.srv.port()};
    REQUIRE(c.connected());
    auto b = c.banner();
    CHECK(b.name() == "Asterisk Call Manager");
    CHECK(b.version() == "11.0.0");
  }
  SECTION("configured") {
    server s{{.ami_version = "2.10.4"}};
    client c{s.srv.port()};
    CHECK(c.banner().version() == "2.10.4");
  }
}

TEST_CASE("ami sim: plain login - wrong secret - actions before login", "[sim][ami]") {
  server s;
  auto c = s.connect();
  c.send("Action: Ping\r\nActionID: early\r\n\r\n");
  auto denied = c.response("early");
  CHECK(fields_of(denied) == fields{{"Response", "Error"}, {"ActionID", "early"}, {"Message", "Permission denied"}});

  auto ok = c.login();
  CHECK(fields_of(ok) == fields{{"Response", "Success"}, {"ActionID", "login"}, {"Message", "Authentication accepted"}});
  auto booted = c.event("FullyBooted");
  CHECK(booted.get("Privilege") == "system,all");
  CHECK(booted.get("Status") == "Fully Booted");
  c.send("Action: Login\r\nUsername: admin\r\nSecret: wordpass\r\nActionID: again\r\n\r\n");
  CHECK(c.response("again").get("Message") == "Already authenticated");

  auto bad = s.connect();
  auto refused = bad.login({}, "wrong");
  CHECK(fields_of(refused) == fields{{"Response", "Error"}, {"ActionID", "login"}, {"Message", "Authentication failed"}});
  CHECK(bad.closed_by_server());  // Asterisk hangs up after a failed login

  auto unknown = s.connect();
  unknown.send("Action: Login\r\nUsername: nobody\r\nSecret: wordpass\r\nActionID: n\r\n\r\n");
  CHECK(unknown.response("n").get("Message") == "Authentication failed");

  auto st = s.srv.stats();
  CHECK(st.logins == 1);
  CHECK(st.failed_logins == 2);
  CHECK(st.connections == 3);
  CHECK(s.srv.actions_received("login") == 4);
  CHECK(s.srv.actions_received("Ping") == 1);
}

TEST_CASE("ami sim: a failed login is answered after the configured delay", "[sim][ami]") {
  server s{{.failed_login_delay = 100ms}};
  auto c = s.connect();
  auto before = std::chrono::steady_clock::now();
  auto refused = c.login({}, "wrong");
  CHECK(std::chrono::steady_clock::now() - before >= 100ms);
  CHECK(refused.get("Message") == "Authentication failed");
  CHECK(c.closed_by_server());
}

TEST_CASE("ami sim: MD5 challenge login", "[sim][ami]") {
  server s{{.accounts = {{"Manager", "s3cret"}}}};
  auto c = s.connect();
  c.send("Action: Challenge\r\nAuthType: MD5\r\nActionID: ch-1\r\n\r\n");
  auto ch = c.response("ch-1");
  REQUIRE(keys_of(ch) == std::vector<std::string>{"Response", "ActionID", "Challenge"});
  std::string challenge(*ch.get("Challenge"));
  CHECK_FALSE(challenge.empty());
  CHECK(challenge.find_first_not_of("0123456789") == std::string::npos);

  SECTION("the right key") {
    c.send("Action: Login\r\nAuthType: MD5\r\nUsername: manager\r\nKey: " + sim::md5_login_key(challenge, "s3cret") +
           "\r\nActionID: login-1\r\n\r\n");
    CHECK(c.response("login-1").get("Message") == "Authentication accepted");
  }
  SECTION("a wrong key") {
    c.send("Action: Login\r\nAuthType: MD5\r\nUsername: manager\r\nKey: " + sim::md5_login_key(challenge, "nope") +
           "\r\nActionID: login-1\r\n\r\n");
    CHECK(c.response("login-1").get("Message") == "Authentication failed");
    CHECK(c.closed_by_server());
  }
  SECTION("no AuthType") {
    c.send("Action: Challenge\r\nActionID: ch-2\r\n\r\n");
    CHECK(c.response("ch-2").get("Message") == "Must specify AuthType");
  }
}

TEST_CASE("ami sim: answers match Asterisk 22's transcript", "[sim][ami]") {
  auto steps = costrix::test::load_steps("ami-session.json");
  server s;
  auto c = s.logged_in();
  // The step's action, sent as recorded; the first `count` messages of its answer compared exactly.
  auto replay = [&](std::string_view name, std::size_t count) {
    const auto& st = step(steps, name);
    auto expected = received(st);
    REQUIRE(expected.size() >= count);
    c.send(st.sent);
    std::vector<owned_message> got;
    got.push_back(c.response(expected[0].action_id()));
    while (got.size() < count) {
      auto m = c.next();
      REQUIRE(m);
      got.push_back(std::move(*m));
    }
    for (std::size_t i = 0; i < count; ++i) {
      INFO("step " << name << ", message " << i);
      CHECK(text_of(got[i]) == text_of(expected[i]));
    }
    return got;
  };
  replay("command-core-show-version", 1);
  replay("command-invalid", 1);
  replay("setvar-global", 2);  // the response, then the VarSet event
  replay("getvar-global", 1);
  replay("getvar-unset", 1);
  replay("dbput", 1);
  replay("dbget", 3);  // EventList start, DBGetResponse, DBGetComplete
  replay("dbget-missing", 1);
  replay("unknown-action", 1);
  replay("listcommands", 1);
  replay("hangup-missing-channel", 1);

  // Values that differ from run to run: the same headers in the same order.
  for (std::string_view name : {"ping", "corestatus"}) {
    const auto& st = step(steps, name);
    auto expected = received(st);
    c.send(st.sent);
    auto got = c.response(expected[0].action_id());
    INFO(name);
    CHECK(keys_of(got) == keys_of(expected[0]));
  }
  replay("logoff", 1);
  CHECK(c.closed_by_server());

  // A plain login with events off, then an event mask.
  auto quiet = s.connect();
  const auto& login = step(steps, "login-plain-events-off");
  quiet.send(login.sent);
  CHECK(text_of(quiet.response("pl-1")) == text_of(received(login)[0]));
  const auto& mask = step(steps, "events-mask");
  quiet.send(mask.sent);
  auto masked = quiet.response("ev-1");
  CHECK(quiet.skipped.empty());  // no FullyBooted with events off
  CHECK(text_of(masked) == text_of(received(mask)[0]));
}

TEST_CASE("ami sim: Ping - CoreSettings - Events - Command", "[sim][ami]") {
  server s{{.cli = {{"sip show peers", "Name/username\nPeer1\n"}}}};
  auto c = s.logged_in();

  c.send("Action: Ping\r\nActionID: p\r\n\r\n");
  auto pong = c.response("p");
  CHECK(pong.get("Ping") == "Pong");
  std::string stamp(pong.get("Timestamp").value_or(""));
  CHECK(stamp.find('.') == stamp.size() - 7);

  c.send("Action: CoreSettings\r\nActionID: cs\r\n\r\n");
  auto settings = c.response("cs");
  CHECK(settings.get("AMIversion") == "11.0.0");
  CHECK(settings.get("AsteriskVersion") == "22.10.1");

  c.send("Action: Command\r\nCommand: sip show peers\r\nActionID: cmd\r\n\r\n");
  auto out = c.response("cmd");
  CHECK(out.name() == "Success");
  CHECK(std::vector<std::string_view>(out.output().begin(), out.output().end()) ==
        std::vector<std::string_view>{"Name/username", "Peer1"});

  c.send("Action: Events\r\nEventMask: off\r\nActionID: e1\r\n\r\n");
  CHECK(c.response("e1").get("Events") == "Off");
  c.send("Action: Events\r\nEventMask: on\r\nActionID: e2\r\n\r\n");
  CHECK(c.response("e2").get("Events") == "On");
  c.send("Action: Events\r\nActionID: e3\r\n\r\n");
  CHECK(c.response("e3").get("Message") == "Invalid event mask");

  c.send("ActionID: none\r\nFoo: bar\r\n\r\n");
  CHECK(c.response("none").get("Message") == "Missing action in request");
}

TEST_CASE("ami sim: Getvar and Setvar - global and on a channel", "[sim][ami]") {
  server s{{.originate = [](const ami::message&) { return sim::originate_outcome{}; }}};
  auto c = s.logged_in();
  c.send("Action: Setvar\r\nVariable: G\r\nValue: 1\r\nActionID: s1\r\n\r\n");
  CHECK(c.response("s1").get("Message") == "Variable Set");
  c.send("Action: Getvar\r\nVariable: G\r\nActionID: g1\r\n\r\n");
  CHECK(c.response("g1").get("Value") == "1");
  c.send("Action: Getvar\r\nVariable: G\r\nChannel: PJSIP/none\r\nActionID: g2\r\n\r\n");
  CHECK(c.response("g2").get("Message") == "No such channel");
  c.send("Action: Setvar\r\nValue: 1\r\nActionID: s2\r\n\r\n");
  CHECK(c.response("s2").get("Message") == "No variable specified");

  c.send("Action: Originate\r\nChannel: PJSIP/100\r\nApplication: Wait\r\nData: 5\r\nAsync: true\r\n"
         "Variable: A=1\r\nActionID: o\r\n\r\n");
  auto done = c.event("OriginateResponse");
  std::string channel(*done.get("Channel"));
  CHECK(channel == "PJSIP/100-00000000");
  c.send("Action: Getvar\r\nChannel: " + channel + "\r\nVariable: A\r\nActionID: g3\r\n\r\n");
  CHECK(c.response("g3").get("Value") == "1");
  c.send("Action: Setvar\r\nChannel: " + channel + "\r\nVariable: B\r\nValue: two\r\nActionID: s3\r\n\r\n");
  c.response("s3");
  auto varset = c.event("VarSet");
  CHECK(varset.get("Channel") == channel);
  CHECK(varset.get("Variable") == "B");
  c.send("Action: Getvar\r\nChannel: " + channel + "\r\nVariable: B\r\nActionID: g4\r\n\r\n");
  CHECK(c.response("g4").get("Value") == "two");
}

TEST_CASE("ami sim: the AstDB actions", "[sim][ami]") {
  server s;
  auto c = s.logged_in();
  c.send("Action: DBPut\r\nFamily: f\r\nKey: a\r\nVal: 1\r\nActionID: p1\r\n\r\n");
  c.send("Action: DBPut\r\nFamily: f\r\nKey: a/b\r\nVal: 2\r\nActionID: p2\r\n\r\n");
  c.send("Action: DBPut\r\nFamily: f\r\nKey: c\r\nVal: 3\r\nActionID: p3\r\n\r\n");
  c.response("p3");

  c.send("Action: DBGet\r\nFamily: f\r\nKey: a/b\r\nActionID: g\r\n\r\n");
  auto start = c.response("g");
  CHECK(start.get("EventList") == "start");
  auto item = c.event("DBGetResponse");
  CHECK(item.get("Val") == "2");
  CHECK(item.action_id() == "g");
  auto complete = c.event("DBGetComplete");
  CHECK(complete.get("ListItems") == "1");
  CHECK(complete.get("EventList") == "Complete");

  c.send("Action: DBDel\r\nFamily: f\r\nKey: c\r\nActionID: d1\r\n\r\n");
  CHECK(c.response("d1").get("Message") == "Key deleted successfully");
  c.send("Action: DBDel\r\nFamily: f\r\nKey: c\r\nActionID: d2\r\n\r\n");
  CHECK(c.response("d2").get("Message") == "Database entry not found");
  c.send("Action: DBDelTree\r\nFamily: f\r\nKey: a\r\nActionID: t1\r\n\r\n");
  CHECK(c.response("t1").get("Message") == "Key tree deleted successfully");
  c.send("Action: DBGet\r\nFamily: f\r\nKey: a/b\r\nActionID: g2\r\n\r\n");
  CHECK(c.response("g2").get("Message") == "Database entry not found");
  c.send("Action: DBDelTree\r\nFamily: f\r\nActionID: t2\r\n\r\n");
  CHECK(c.response("t2").get("Message") == "Database entry not found");
  c.send("Action: DBGet\r\nKey: x\r\nActionID: g3\r\n\r\n");
  CHECK(c.response("g3").get("Message") == "No family specified.");
}

TEST_CASE("ami sim: async Originate - OriginateResponse by ActionID - channels listed and hung up", "[sim][ami]") {
  auto steps = costrix::test::load_steps("ami-session.json");
  sim::ami_server_options o;
  o.originate = [](const ami::message& a) {
    if (a.get("Channel").value_or("").find("nonexistent") != std::string_view::npos)
      return sim::originate_outcome{.answered = false, .reason = 0};
    if (a.get("Channel") == "PJSIP/slow") return sim::originate_outcome{.delay = 50ms};
    return sim::originate_outcome{};
  };
  server s{std::move(o)};
  auto c = s.logged_in();

  // The transcript's two originates: one answered, one failing.
  auto recorded = [&](std::string_view name) {
    for (auto& m : received(step(steps, name)))
      if (m.name() == "OriginateResponse") return m;
    FAIL("no OriginateResponse in " << name);
    throw;
  };
  c.send(step(steps, "originate-async-and-events").sent);
  auto queued = c.response("orig-1");
  CHECK(queued.get("Message") == "Originate successfully queued");
  auto ok = c.event("OriginateResponse");
  auto expected_ok = recorded("originate-async-and-events");
  CHECK(keys_of(ok) == keys_of(expected_ok));
  for (std::string_view key : {"ActionID", "Response", "Channel", "Application", "Data", "Reason", "CallerIDNum",
                               "CallerIDName"}) {
    INFO(key);
    CHECK(ok.get(key) == expected_ok.get(key));
  }
  c.send(step(steps, "originate-async-failure").sent);
  c.response("orig-2");
  auto failed = c.event("OriginateResponse");
  CHECK(text_of(failed) == text_of(recorded("originate-async-failure")));

  // Correlation: the slow one is answered first, its event comes last.
  // (Both in one write: the server reads them together, before the slow one's delay can pass.)
  c.send("Action: Originate\r\nChannel: PJSIP/slow\r\nExten: 100\r\nContext: out\r\nAsync: yes\r\nActionID: slow\r\n\r\n"
         "Action: Originate\r\nChannel: PJSIP/fast\r\nExten: 100\r\nContext: out\r\nAsync: yes\r\nActionID: fast\r\n\r\n");
  c.response("slow");
  auto first = c.event("OriginateResponse");
  CHECK(first.action_id() == "fast");
  CHECK(first.get("Context") == "out");
  CHECK(first.get("Exten") == "100");
  auto second = c.event("OriginateResponse");
  CHECK(second.action_id() == "slow");
  CHECK(second.get("Response") == "Success");

  // Not async: the answer waits for the outcome.
  c.send("Action: Originate\r\nChannel: Local/nonexistent@x\r\nExten: 1\r\nActionID: sync\r\n\r\n");
  CHECK(c.response("sync").get("Message") == "Originate failed");
  c.send("Action: Originate\r\nExten: 1\r\nActionID: nochan\r\n\r\n");
  CHECK(c.response("nochan").get("Message") == "Channel not specified");

  // Three channels up: listed by CoreShowChannels and Status, in the transcript's forms.
  c.send("Action: CoreShowChannels\r\nActionID: csc-1\r\n\r\n");
  auto listing = c.response("csc-1");
  auto expected_csc = received(step(steps, "coreshowchannels-eventlist"));
  CHECK(keys_of(listing) == keys_of(expected_csc[0]));
  CHECK(listing.get("Message") == "Channels will follow");
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    auto item = c.event("CoreShowChannel");
    CHECK(keys_of(item) == keys_of(expected_csc[1]));
    names.emplace_back(*item.get("Channel"));
  }
  auto csc_done = c.event("CoreShowChannelsComplete");
  CHECK(keys_of(csc_done) == keys_of(expected_csc.back()));
  CHECK(csc_done.get("ListItems") == "3");
  CHECK(std::find(names.begin(), names.end(), "Local/s@idle-00000000;1") != names.end());

  c.send("Action: Status\r\nActionID: st-1\r\n\r\n");
  auto expected_status = received(step(steps, "status-eventlist"));
  CHECK(keys_of(c.response("st-1")) == keys_of(expected_status[0]));
  for (int i = 0; i < 3; ++i) CHECK(keys_of(c.event("Status")) == keys_of(expected_status[1]));
  CHECK(keys_of(c.event("StatusComplete")) == keys_of(expected_status[3]));
  c.send("Action: Status\r\nChannel: PJSIP/none\r\nActionID: st-2\r\n\r\n");
  CHECK(c.response("st-2").get("Message") == "No such channel");

  c.send("Action: Hangup\r\nChannel: Local/s@idle-00000000;1\r\nActionID: h\r\n\r\n");
  CHECK(c.response("h").get("Message") == "Channel Hungup");
  auto gone = c.event("Hangup");
  CHECK(gone.get("Channel") == "Local/s@idle-00000000;1");
  CHECK(gone.get("Cause-txt") == "Normal Clearing");
  s.srv.hangup(names[0] == "Local/s@idle-00000000;1" ? names[1] : names[0]);  // the far end hangs up
  c.event("Hangup");
  c.send("Action: CoreStatus\r\nActionID: cs\r\n\r\n");
  auto core = c.response("cs");
  CHECK(core.get("CoreCurrentCalls") == "1");
  CHECK(core.get("CoreProcessedCalls") == "3");
}

TEST_CASE("ami sim: rules", "[sim][ami]") {
  server s;
  auto c = s.logged_in();
  c.until_pong();  // past FullyBooted

  SECTION("a custom response, with events as an event list") {
    s.srv.rule("QueueStatus", {.response = sim::ami_fields{{"Response", "Success"}, {"Message", "Queue status will follow"}},
                               .events = {{{"Event", "QueueParams"}, {"Queue", "support"}},
                                          {{"Event", "QueueMember"}, {"Name", "PJSIP/1"}}},
                               .list_complete = "QueueStatusComplete"});
    c.send("Action: QueueStatus\r\nActionID: q\r\n\r\n");
    CHECK(fields_of(c.response("q")) == fields{{"Response", "Success"},
                                               {"ActionID", "q"},
                                               {"EventList", "start"},
                                               {"Message", "Queue status will follow"}});
    CHECK(fields_of(*c.next()) == fields{{"Event", "QueueParams"}, {"ActionID", "q"}, {"Queue", "support"}});
    CHECK(fields_of(*c.next()) == fields{{"Event", "QueueMember"}, {"ActionID", "q"}, {"Name", "PJSIP/1"}});
    CHECK(fields_of(*c.next()) == fields{{"Event", "QueueStatusComplete"},
                                         {"ActionID", "q"},
                                         {"EventList", "Complete"},
                                         {"ListItems", "2"}});
    // A rule replaces a built-in answer too; clear_rules() brings it back.
    s.srv.rule("ping", {.response = sim::ami_fields{{"Response", "Error"}, {"Message", "Nope"}}});
    c.send("Action: Ping\r\nActionID: p1\r\n\r\n");
    CHECK(c.response("p1").get("Message") == "Nope");
    s.srv.clear_rules();
    c.send("Action: Ping\r\nActionID: p2\r\n\r\n");
    CHECK(c.response("p2").get("Ping") == "Pong");
  }
  SECTION("a delay: the answer comes late, later actions are answered meanwhile") {
    s.srv.rule("Ping", {.delay = 100ms});
    auto before = std::chrono::steady_clock::now();
    c.send("Action: Ping\r\nActionID: late\r\n\r\nAction: CoreStatus\r\nActionID: now\r\n\r\n");
    c.response("now");
    auto late = c.response("late");
    CHECK(std::chrono::steady_clock::now() - before >= 100ms);
    CHECK(late.get("Ping") == "Pong");  // the built-in answer, delayed
  }
  SECTION("never answer") {
    s.srv.rule("Originate", {.never_answer = true});
    c.send("Action: Originate\r\nChannel: PJSIP/1\r\nExten: 1\r\nActionID: lost\r\n\r\n");
    auto before_pong = c.until_pong();
    CHECK(before_pong.empty());  // nothing for the Originate, and the server still answers
  }
  SECTION("disconnect, for that client only") {
    s.srv.rule("*", {.disconnect = true});
    auto other = s.connect();
    c.send("Action: CoreStatus\r\nActionID: x\r\n\r\n");
    CHECK(c.closed_by_server());
    CHECK(c.skipped.empty());
    s.srv.clear_rules();
    auto r = other.login();
    CHECK(r.name() == "Success");
  }
}

TEST_CASE("ami sim: broadcast events honour Events on - off and masks", "[sim][ami]") {
  server s;
  auto all = s.logged_in();
  auto none = s.logged_in("off");
  auto user = s.logged_in("user,agi");
  auto not_logged_in = s.connect();
  all.until_pong();

  s.srv.broadcast({{"Event", "Custom"}, {"Privilege", "user,all"}, {"N", "1"}});
  s.srv.broadcast({{"Event", "Newchannel"}, {"Privilege", "call,all"}, {"Channel", "PJSIP/1"}});
  CHECK(all.event("Custom").get("N") == "1");
  CHECK(all.event("Newchannel").get("Channel") == "PJSIP/1");
  // Events are written in order: a client that got neither before its Pong got none.
  CHECK(none.until_pong().empty());
  auto user_got = user.until_pong();
  REQUIRE(user_got.size() == 1);
  CHECK(user_got[0].name() == "Custom");
  not_logged_in.send("Action: Ping\r\nActionID: x\r\n\r\n");
  CHECK(not_logged_in.next()->get("Message") == "Permission denied");

  // Events: on for the quiet one; UserEvent from a client reaches the others.
  none.send("Action: Events\r\nEventMask: on\r\nActionID: on\r\n\r\n");
  CHECK(none.response("on").get("Events") == "On");
  all.send("Action: UserEvent\r\nUserEvent: Hello\r\nWho: all\r\nActionID: ue\r\n\r\n");
  CHECK(all.response("ue").get("Message") == "Event Sent");
  auto hello = none.event("UserEvent");
  CHECK(fields_of(hello) == fields{{"Event", "UserEvent"},
                                   {"Privilege", "user,all"},
                                   {"UserEvent", "Hello"},
                                   {"Who", "all"},
                                   {"ActionID", "ue"}});
  CHECK(user.event("UserEvent").get("Who") == "all");
}

TEST_CASE("ami sim: disconnect all - stop and start listening", "[sim][ami]") {
  server s;
  auto a = s.logged_in();
  auto b = s.connect();
  s.wait([&](auto done) { s.srv.disconnect_all(done); });
  CHECK(a.closed_by_server());
  CHECK(b.closed_by_server());
  CHECK(s.srv.stats().active == 0);
  auto c = s.logged_in();  // still listening

  s.wait([&](auto done) { s.srv.stop_listening(done); });
  client refused{s.srv.port()};
  CHECK_FALSE(refused.connected());
  c.until_pong();  // connections in progress go on

  REQUIRE(s.srv.start_listening());
  auto d = s.logged_in();
  d.until_pong();
}

TEST_CASE("ami sim: an event flood - at a rate and as fast as possible", "[sim][ami]") {
  server s;
  auto all = s.logged_in();
  auto quiet = s.logged_in("off");
  auto dialplan = s.logged_in("dialplan");
  all.until_pong();

  SECTION("as fast as possible") {
    s.wait([&](auto done) { s.srv.start_flood({.rate = 0, .count = 300}, done); });
    std::map<std::string, int> seen;
    for (int i = 0; i < 300; ++i) {
      auto m = all.next();
      REQUIRE(m);
      REQUIRE(m->kind() == message_kind::event);
      ++seen[std::string(m->name())];
    }
    CHECK(seen == std::map<std::string, int>{{"Hangup", 100}, {"Newchannel", 100}, {"VarSet", 100}});
    CHECK(quiet.until_pong().empty());
    CHECK(dialplan.until_pong().size() == 100);  // the VarSets
  }
  SECTION("at a rate") {
    auto before = std::chrono::steady_clock::now();
    s.srv.start_flood({.rate = 2000, .count = 200});
    for (int i = 0; i < 200; ++i) {
      auto m = all.next();
      REQUIRE(m);
    }
    CHECK(std::chrono::steady_clock::now() - before >= 99ms);  // the 200th is due at 100 ms
  }
}

TEST_CASE("ami sim: a client that does not read a flood is disconnected", "[sim][ami]") {
  server s{{.max_pending_bytes = 16 * 1024}};
  auto slow = s.logged_in("call");
  auto quiet = s.logged_in("off");
  // 100,000 Newchannel and Hangup events, ~40 MB: far more than the socket
  // buffers hold, so a client that reads nothing meanwhile is cut off.
  s.wait([&](auto done) { s.srv.start_flood({.rate = 0, .count = 150'000}, done); });
  CHECK(slow.closed_by_server());
  CHECK(slow.skipped.size() < 100'000);
  CHECK(quiet.until_pong().empty());
  CHECK(s.srv.stats().active == 1);
}

TEST_CASE("ami sim: bad input closes only that connection", "[sim][ami]") {
  server s;
  auto good = s.logged_in();
  SECTION("a line that is not Key: Value") {
    auto bad = s.logged_in();
    bad.send("this is not a header\r\n\r\n");
    CHECK(bad.closed_by_server());
  }
  SECTION("an over-long line") {
    auto bad = s.connect();
    bad.send("Action: Ping\r\nActionID: " + std::string(5000, 'x'));
    CHECK(bad.closed_by_server());
  }
  SECTION("too many headers") {
    auto bad = s.connect();
    std::string many = "Action: Ping\r\n";
    for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
    bad.send(many + "\r\n");
    CHECK(bad.closed_by_server());
  }
  SECTION("a NUL byte") {
    auto bad = s.connect();
    static constexpr char with_nul[] = "Action: Ping\r\nActionID: a\0b\r\n\r\n";
    bad.send(std::string(with_nul, sizeof with_nul - 1));
    CHECK(bad.closed_by_server());
  }
  good.until_pong();
  CHECK(s.srv.stats().active == 1);
}

TEST_CASE("ami sim: AsyncAGI over AMI - as in the transcript", "[sim][ami][agi]") {
  auto steps = costrix::test::load_steps("asyncagi-session.json");
  auto recorded = [&](std::string_view event, std::string_view command_id = {}) {
    for (const auto& st : steps)
      for (auto& m : received(st))
        if (m.name() == event && (command_id.empty() || m.get("CommandId") == command_id)) return m;
    FAIL("no " << event);
    throw;
  };
  server s;
  auto c = s.logged_in("agi");

  sim::agi_call call{.args = {"argA", "argB"},
                     .channel = "Local/s@async-test-000000f0;2",
                     .uniqueid = "1795417212.481",
                     .callerid = "",
                     .calleridname = "",
                     .context = "async-test",
                     .extension = "s"};
  s.srv.start_async_agi(call);
  auto start = c.event("AsyncAGIStart");
  auto expected_start = recorded("AsyncAGIStart");
  CHECK(keys_of(start) == keys_of(expected_start));
  for (std::string_view key : {"Privilege", "Channel", "CallerIDNum", "Context", "Exten", "Uniqueid"}) {
    INFO(key);
    CHECK(start.get(key) == expected_start.get(key));
  }
  auto env = costrix::proto::agi::parse_environment(ami::url_decode(*start.get("Env")));
  REQUIRE(env);
  CHECK(env->request() == "async");
  CHECK(env->channel() == "Local/s@async-test-000000f0;2");
  CHECK(env->type() == "Local");
  CHECK(std::vector<std::string_view>(env->args().begin(), env->args().end()) ==
        std::vector<std::string_view>{"argA", "argB"});
  // The same block as Asterisk's but for the thread id and the priority.
  auto lines = [](std::string_view block) {
    std::vector<std::string> out;
    for (auto& l : costrix::test::split_lines(block))
      if (!l.starts_with("agi_threadid") && !l.starts_with("agi_priority")) out.push_back(l);
    return out;
  };
  CHECK(lines(ami::url_decode(*start.get("Env"))) == lines(ami::url_decode(*expected_start.get("Env"))));

  // One command: the response, AGIExecStart, AGIExecEnd, AsyncAGIExec.
  auto run = [&](std::string_view command, std::string_view id) {
    c.send("Action: AGI\r\nChannel: Local/s@async-test-000000f0;2\r\nCommand: " + std::string(command) +
           "\r\nCommandID: " + std::string(id) + "\r\nActionID: a-" + std::string(id) + "\r\n\r\n");
    auto queued = c.response("a-" + std::string(id));
    CHECK(queued.get("Message") == "Added AGI command to queue");
    auto exec_start = c.event("AGIExecStart");
    CHECK(exec_start.get("Command") == command);
    auto exec_end = c.event("AGIExecEnd");
    CHECK(exec_end.get("CommandId") == exec_start.get("CommandId"));
    auto exec = c.event("AsyncAGIExec");
    CHECK(exec.get("CommandId") == id);
    return std::make_tuple(std::move(exec_start), std::move(exec_end), std::move(exec));
  };
  struct agi_result {
    int code = 0;
    std::string result;
    std::optional<std::string> data;
  };
  auto decoded = [](const ami::message& exec) {
    costrix::proto::agi::reply_parser p;
    std::string text = ami::url_decode(*exec.get("Result"));
    for (auto& l : costrix::test::split_lines(text)) {
      auto done = p.feed(l);
      REQUIRE(done);
      if (*done) {
        const auto& r = p.get();
        return agi_result{r.code, std::string(r.result), r.data ? std::optional<std::string>(*r.data) : std::nullopt};
      }
    }
    FAIL("no complete reply in " << text);
    throw;
  };

  auto [s0, e0, x0] = run("ANSWER", "cmd0");
  CHECK(keys_of(s0) == keys_of(recorded("AGIExecStart")));
  CHECK(keys_of(e0) == keys_of(recorded("AGIExecEnd")));
  CHECK(keys_of(x0) == keys_of(recorded("AsyncAGIExec")));
  CHECK(x0.get("Result") == recorded("AsyncAGIExec", "cmd0").get("Result"));
  CHECK(decoded(x0).code == 200);

  auto [s1, e1, x1] = run("GET VARIABLE CHANNEL", "cmd1");
  CHECK(x1.get("Result") == recorded("AsyncAGIExec", "cmd1").get("Result"));
  auto channel_reply = decoded(x1);
  CHECK(channel_reply.result == "1");
  CHECK(channel_reply.data == "Local/s@async-test-000000f0;2");

  auto [s3, e3, x3] = run("SET VARIABLE X \"a b\"", "cmd3");
  CHECK(x3.get("Result") == recorded("AsyncAGIExec", "cmd3").get("Result"));
  auto [s5, e5, x5] = run("FOO BAR", "cmd5");
  CHECK(x5.get("Result") == recorded("AsyncAGIExec", "cmd5").get("Result"));
  CHECK(e5.get("ResultCode") == "510");
  CHECK(e5.get("Result") == "Invalid or unknown command");
  auto [s6, e6, x6] = run("STREAM FILE", "cmd6");
  CHECK(e6.get("ResultCode") == "520");
  CHECK(e6.get("Result") == "Usage");
  CHECK(decoded(x6).code == 520);

  // Getvar over AMI sees what the AGI script set.
  c.send("Action: Getvar\r\nChannel: Local/s@async-test-000000f0;2\r\nVariable: X\r\nActionID: gv\r\n\r\n");
  CHECK(c.response("gv").get("Value") == "a b");

  // The AGI ends with HANGUP: AsyncAGIEnd, and the channel is gone.
  run("HANGUP", "cmd9");
  auto end = c.event("AsyncAGIEnd");
  CHECK(keys_of(end) == keys_of(recorded("AsyncAGIEnd")));
  c.send("Action: AGI\r\nChannel: Local/s@async-test-000000f0;2\r\nCommand: NOOP\r\nCommandID: x\r\nActionID: a99\r\n\r\n");
  CHECK(c.response("a99").get("Message") == "Channel Local/s@async-test-000000f0;2 does not exist.");
}

TEST_CASE("ami sim: AsyncAGI calls end with BREAK - the caller hanging up - and wait on delays", "[sim][ami][agi]") {
  server s;
  auto c = s.logged_in("agi,call");
  c.until_pong();
  auto agi = [&](std::string_view channel, std::string_view command, std::string_view id) {
    c.send("Action: AGI\r\nChannel: " + std::string(channel) + "\r\nCommand: " + std::string(command) +
           "\r\nCommandID: " + std::string(id) + "\r\nActionID: " + std::string(id) + "\r\n\r\n");
    CHECK(c.response(id).name() == "Success");
  };

  SECTION("ASYNCAGI BREAK") {
    s.srv.start_async_agi({.channel = "PJSIP/a-1", .uniqueid = "1.1"});
    c.event("AsyncAGIStart");
    agi("PJSIP/a-1", "ASYNCAGI BREAK", "b");
    CHECK(c.event("AsyncAGIExec").get("CommandId") == "b");
    CHECK(c.event("AsyncAGIEnd").get("Channel") == "PJSIP/a-1");
    CHECK(c.event("Hangup").get("Channel") == "PJSIP/a-1");
  }
  SECTION("the caller hangs up during a command") {
    sim::agi_call call{.channel = "PJSIP/a-2", .uniqueid = "1.2", .hangup_during = 1};
    s.srv.start_async_agi(call);
    c.event("AsyncAGIStart");
    agi("PJSIP/a-2", "ANSWER", "c0");
    CHECK(c.event("AsyncAGIExec").get("CommandId") == "c0");
    agi("PJSIP/a-2", "STREAM FILE demo \"\"", "c1");
    auto second = c.event("AsyncAGIExec");
    CHECK(second.get("CommandId") == "c1");
    CHECK(ami::url_decode(*second.get("Result")) == "200 result=-1 endpos=11040\n");
    c.event("AsyncAGIEnd");
    c.event("Hangup");
  }
  SECTION("hangup() while a command is held; queued commands are dropped") {
    sim::agi_call call{.channel = "PJSIP/a-3", .uniqueid = "1.3"};
    call.rules["WAIT FOR DIGIT"].hold = true;
    s.srv.start_async_agi(call);
    c.event("AsyncAGIStart");
    agi("PJSIP/a-3", "WAIT FOR DIGIT 5000", "w");
    CHECK(c.event("AGIExecStart").get("Command") == "WAIT FOR DIGIT 5000");
    agi("PJSIP/a-3", "NOOP", "n");
    CHECK(c.until_pong().empty());  // the held command goes on; the NOOP waits behind it
    s.srv.hangup("PJSIP/a-3");
    auto held = c.event("AsyncAGIExec");
    CHECK(held.get("CommandId") == "w");
    CHECK(ami::url_decode(*held.get("Result")) == "200 result=-1\n");
    c.event("AsyncAGIEnd");
    c.event("Hangup");
    CHECK(c.until_pong().empty());  // no NOOP
  }
  SECTION("a command rule's delay holds its result and the commands behind it") {
    sim::agi_call call{.channel = "PJSIP/a-4", .uniqueid = "1.4"};
    call.rules["STREAM FILE"].delay = 100ms;
    s.srv.start_async_agi(call);
    c.event("AsyncAGIStart");
    auto before = std::chrono::steady_clock::now();
    agi("PJSIP/a-4", "STREAM FILE demo \"\"", "play");
    agi("PJSIP/a-4", "NOOP", "noop");
    CHECK(c.event("AsyncAGIExec").get("CommandId") == "play");
    CHECK(std::chrono::steady_clock::now() - before >= 100ms);
    CHECK(c.event("AsyncAGIExec").get("CommandId") == "noop");
  }
  SECTION("errors") {
    c.send("Action: AGI\r\nChannel: PJSIP/x\r\nActionID: e1\r\n\r\n");
    CHECK(c.response("e1").get("Message") == "Both, Channel and Command are *required*");
    c.send("Action: Originate\r\nChannel: PJSIP/9\r\nExten: 1\r\nActionID: o\r\n\r\n");
    c.response("o");
    c.send("Action: AGI\r\nChannel: PJSIP/9-00000000\r\nCommand: NOOP\r\nActionID: e2\r\n\r\n");
    CHECK(c.response("e2").get("Message") == "Failed to add AGI command to channel PJSIP/9-00000000 queue");
  }
}
