// Replays the real Asterisk 22 AMI transcripts (../shared/transcripts) through
// the codec: every message Asterisk sent, read whole and in random pieces, and
// every action the client sent, encoded byte for byte.
#include <costrix/proto/agi/environment.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/proto/ami/action.hpp>
#include <costrix/proto/ami/message_parser.hpp>
#include <costrix/proto/ami/url_decode.hpp>

#include "feed.hpp"
#include "transcripts.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::ami;
using costrix::test::feed;
using costrix::test::load_steps;
using costrix::test::same;
using costrix::test::strings;
using costrix::test::transcript_step;
using sv_list = std::vector<std::string>;

namespace {

using first = message_parser::first;

// The messages of each step, read step by step on one connection.
std::map<std::string, std::vector<owned_message>> by_step(const std::vector<transcript_step>& steps,
                                                           first f) {
  message_parser p({}, f);
  std::map<std::string, std::vector<owned_message>> out;
  for (const auto& s : steps) {
    auto r = feed(p, s.received);
    INFO("step " << s.step);
    REQUIRE_FALSE(r.error);
    CHECK(r.left == 0);  // every step's bytes end with a complete message
    out[s.step] = std::move(r.messages);
  }
  return out;
}

std::string joined(const std::vector<transcript_step>& steps, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < to; ++i) s += steps[i].received;
  return s;
}

// The stream read whole, one byte at a time and in random pieces from a buffer
// that moves: every reading gives the same messages.
std::vector<owned_message> read_every_way(std::string_view stream, first f, std::size_t expected) {
  message_parser whole_parser({}, f);
  auto whole = feed(whole_parser, stream);
  REQUIRE_FALSE(whole.error);
  CHECK(whole.left == 0);
  REQUIRE(whole.messages.size() == expected);

  message_parser bytewise({}, f);
  auto one = feed(bytewise, stream, [] { return std::size_t{1}; });
  REQUIRE_FALSE(one.error);
  REQUIRE(one.messages.size() == expected);
  for (std::size_t i = 0; i < expected; ++i) CHECK(same(one.messages[i], whole.messages[i]));

  for (unsigned seed : {1u, 2u, 3u, 42u, 2026u}) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, seed % 2 ? 64 : 1500);
    message_parser p({}, f);  // a fresh parser; the same one is reused below
    auto pieces = feed(p, stream, [&] { return size(rng); }, true);
    INFO("seed " << seed);
    REQUIRE_FALSE(pieces.error);
    CHECK(pieces.left == 0);
    REQUIRE(pieces.messages.size() == expected);
    for (std::size_t i = 0; i < expected; ++i) CHECK(same(pieces.messages[i], whole.messages[i]));
  }
  return std::move(whole.messages);
}

std::size_t count_named(const std::vector<owned_message>& ms, std::string_view name) {
  return static_cast<std::size_t>(
      std::count_if(ms.begin(), ms.end(), [&](const owned_message& m) { return m.name() == name; }));
}

const owned_message& named(const std::vector<owned_message>& ms, std::string_view name) {
  auto it = std::find_if(ms.begin(), ms.end(), [&](const owned_message& m) { return m.name() == name; });
  REQUIRE(it != ms.end());
  return *it;
}

}  // namespace

TEST_CASE("transcript ami-session: every message - whole and in pieces", "[proto][ami][transcript]") {
  const auto steps = load_steps("ami-session.json");
  REQUIRE(steps.size() == 24);
  REQUIRE(steps[21].step == "logoff");
  // Two connections: the first up to Logoff (the banner first), then a plain
  // Login whose banner was not recorded.
  read_every_way(joined(steps, 0, 22), first::banner, 60);
  read_every_way(joined(steps, 22, 24), first::message, 2);
}

TEST_CASE("transcript ami-session: the messages of each step", "[proto][ami][transcript]") {
  const auto steps = load_steps("ami-session.json");
  auto first_connection = std::vector<transcript_step>(steps.begin(), steps.begin() + 22);
  auto m = by_step(first_connection, first::banner);

  SECTION("banner") {
    REQUIRE(m["banner"].size() == 1);
    const auto& b = m["banner"][0];
    CHECK(b.kind() == message_kind::banner);
    CHECK(b.name() == "Asterisk Call Manager");
    CHECK(b.version() == "11.0.0");
    CHECK(b.headers().empty());
    CHECK(m["login-wrong-secret"].empty());  // Asterisk delays a failed login's answer
  }
  SECTION("Challenge and MD5 login") {
    REQUIRE(m["challenge"].size() == 1);
    const auto& c = m["challenge"][0];
    CHECK(c.kind() == message_kind::response);
    CHECK(c.name() == "Success");
    CHECK(c.action_id() == "ch-1");
    CHECK(c.get("Challenge") == "919389003");

    const auto& login = m["login-md5"];
    REQUIRE(login.size() == 3);
    CHECK(login[0].get("Message") == "Authentication accepted");
    CHECK(login[0].action_id() == "login-1");
    CHECK(login[1].kind() == message_kind::event);
    CHECK(login[1].name() == "FullyBooted");
    CHECK(login[1].get("Status") == "Fully Booted");
    CHECK(login[1].action_id().empty());
    CHECK(login[2].name() == "SuccessfulAuth");
    CHECK(login[2].get("AccountID") == "admin");
    CHECK(login[2].get("RemoteAddress") == "IPV4/TCP/127.0.0.1/47230");
  }
  SECTION("Ping") {
    const auto& p = m["ping"].at(0);
    CHECK(p.get("Ping") == "Pong");
    CHECK(p.get("ping") == "Pong");  // keys match case-insensitively, as in Asterisk
    CHECK(p.get("PING") == "Pong");
    CHECK(p.get("Timestamp") == "1795416121.407240");
    CHECK(p.headers().size() == 4);
  }
  SECTION("Command output, Asterisk >= 14 framing") {
    const auto& ok = m["command-core-show-version"].at(0);
    CHECK(ok.name() == "Success");
    CHECK(ok.get("Message") == "Command output follows");
    CHECK(strings(ok.output()) ==
          sv_list{"Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-23 06:39:45 UTC"});
    const auto& bad = m["command-invalid"].at(0);
    CHECK(bad.name() == "Error");
    CHECK(strings(bad.output()) == sv_list{"No such command 'core show nosuchthing' (type 'core show help core "
                                           "show nosuchthing' for other possible commands)"});
  }
  SECTION("Setvar, Getvar") {
    const auto& sv = m["setvar-global"];
    REQUIRE(sv.size() == 2);
    CHECK(sv[0].get("Message") == "Variable Set");
    CHECK(sv[1].name() == "VarSet");
    CHECK(sv[1].get("Variable") == "GLOBALX");
    CHECK(sv[1].get("Value") == "a b");
    CHECK(m["getvar-global"].at(0).get("Value") == "a b");
    const auto& unset = m["getvar-unset"].at(0);
    REQUIRE(unset.get("Value").has_value());  // present and empty ...
    CHECK(unset.get("Value")->empty());
    CHECK_FALSE(unset.get("Val").has_value());  // ... is not absent
  }
  SECTION("DBPut, DBGet as an event list") {
    CHECK(m["dbput"].at(0).get("Message") == "Updated database successfully");
    const auto& g = m["dbget"];
    REQUIRE(g.size() == 3);
    CHECK(g[0].get("EventList") == "start");
    CHECK(g[1].name() == "DBGetResponse");
    CHECK(g[1].get("Val") == "v 1");
    CHECK(g[1].action_id() == "dbg-1");  // the ActionID is the event's last header
    CHECK(g[2].name() == "DBGetComplete");
    CHECK(g[2].get("EventList") == "Complete");
    CHECK(g[2].get("ListItems") == "1");
    CHECK(m["dbget-missing"].at(0).name() == "Error");
    CHECK(m["dbget-missing"].at(0).get("Message") == "Database entry not found");
  }
  SECTION("an unknown action: values holding ': '") {
    const auto& u = m["unknown-action"];
    REQUIRE(u.size() == 2);
    CHECK(u[0].get("Message") ==
          "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands.");
    CHECK(u[1].name() == "RequestBadFormat");
    CHECK(u[1].get("RequestType") == "Action: NoSuchAction");
  }
  SECTION("async Originate and its events") {
    const auto& o = m["originate-async-and-events"];
    REQUIRE(o.size() == 18);
    CHECK(o[0].kind() == message_kind::response);
    CHECK(o[0].get("Message") == "Originate successfully queued");
    CHECK(count_named(o, "Newchannel") == 2);
    CHECK(count_named(o, "Newexten") == 3);
    CHECK(count_named(o, "Newstate") == 2);
    CHECK(count_named(o, "DialBegin") == 1);
    CHECK(count_named(o, "DialEnd") == 1);
    const auto& r = named(o, "OriginateResponse");
    CHECK(r.kind() == message_kind::event);  // it has a Response header, but not first
    CHECK(r.action_id() == "orig-1");
    CHECK(r.get("Response") == "Success");
    CHECK(r.get("Reason") == "4");
    CHECK(r.get("Channel") == "Local/s@idle-00000000;1");
    const auto& cid = named(o, "NewCallerid");
    CHECK(cid.get("CID-CallingPres") == "0 (Presentation Allowed, Not Screened)");
    CHECK(cid.get("AccountCode") == "");
    CHECK(named(o, "DialEnd").get("DialStatus") == "ANSWER");

    const auto& f = m["originate-async-failure"];
    REQUIRE(f.size() == 7);
    CHECK(named(f, "OriginateResponse").get("Response") == "Failure");
    CHECK(named(f, "OriginateResponse").get("Reason") == "0");
    CHECK(count_named(f, "Hangup") == 2);
  }
  SECTION("CoreShowChannels and Status event lists") {
    const auto& c = m["coreshowchannels-eventlist"];
    REQUIRE(c.size() == 4);
    CHECK(c[0].get("EventList") == "start");
    CHECK(count_named(c, "CoreShowChannel") == 2);
    CHECK(c[1].action_id() == "csc-1");
    CHECK(c[1].get("Duration") == "00:00:03");
    CHECK(c[3].name() == "CoreShowChannelsComplete");
    CHECK(c[3].get("EventList") == "Complete");
    CHECK(c[3].get("ListItems") == "2");

    const auto& s = m["status-eventlist"];
    REQUIRE(s.size() == 8);
    CHECK(count_named(s, "Status") == 2);
    CHECK(s[1].action_id() == "st-1");
    CHECK(s[1].get("Nativeformats") == "(slin)");
    const auto& done = named(s, "StatusComplete");
    CHECK(done.get("ListItems") == "2");
    CHECK(done.get("Items") == "2");
    CHECK(named(s, "Hangup").get("Cause-txt") == "Unknown");
  }
  SECTION("ListCommands, CoreStatus, Hangup, Logoff") {
    const auto& l = m["listcommands"].at(0);
    CHECK(l.headers().size() == 66);
    CHECK(l.get("AbsoluteTimeout") == "Set absolute timeout.  (Priv: system,call,all)");
    CHECK(l.get("SendText")->find("content type\tcan be") != std::string_view::npos);  // a tab in a value
    CHECK(l.get("WaitEvent") == "Wait for an event to occur.  (Priv: <none>)");
    CHECK(m["corestatus"].at(0).get("CoreCurrentCalls") == "0");
    CHECK(m["hangup-missing-channel"].at(0).get("Message") == "No such channel");
    CHECK(m["logoff"].at(0).name() == "Goodbye");
    CHECK(m["logoff"].at(0).get("Message") == "Thanks for all the fish.");
  }
}

TEST_CASE("transcript asyncagi-session: events and their URL-encoded values", "[proto][ami][transcript]") {
  const auto steps = load_steps("asyncagi-session.json");
  REQUIRE(steps.size() == 12);
  // The banner of this connection was not recorded.
  auto all = read_every_way(joined(steps, 0, steps.size()), first::message, 38);

  const auto& start = named(all, "AsyncAGIStart");
  auto env_text = url_decode(*start.get("Env"));
  CHECK(env_text.starts_with("agi_request: async\nagi_channel: Local/s@async-test-000000f0;2\n"));
  auto env = proto::agi::parse_environment(env_text);
  REQUIRE(env);
  CHECK(env->request() == "async");
  CHECK(env->channel() == "Local/s@async-test-000000f0;2");
  CHECK(env->callingpres() == 67);
  CHECK(env->accountcode().empty());
  CHECK(std::ranges::equal(env->args(), std::vector<std::string_view>{"argA", "argB"}));

  std::vector<owned_message> exec;
  std::copy_if(all.begin(), all.end(), std::back_inserter(exec),
               [](const owned_message& m) { return m.name() == "AsyncAGIExec"; });
  REQUIRE(exec.size() == 8);
  std::vector<std::string> ids;
  for (const auto& e : exec) ids.emplace_back(*e.get("CommandId"));
  CHECK(ids == sv_list{"cmd0", "cmd1", "cmd2", "cmd3", "cmd4", "cmd5", "cmd6", "cmd7"});

  // The decoded Result is the AGI reply, lines and all: the AGI reply parser reads it.
  struct agi_reply {
    int code = 0;
    std::string result;
    std::string usage;
  };
  auto reply_of = [](const owned_message& e) {
    auto text = url_decode(*e.get("Result"));
    proto::agi::reply_parser p;
    std::string_view rest = text;
    bool done = false;
    while (!rest.empty() && !done) {
      auto nl = rest.find('\n');
      auto r = p.feed(rest.substr(0, nl));
      REQUIRE(r);
      done = *r;
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
    CHECK(done);
    CHECK(rest.empty());
    return agi_reply{p.get().code, std::string{p.get().result}, p.get().usage};
  };
  CHECK(url_decode(*exec[0].get("Result")) == "200 result=0\n");
  CHECK(reply_of(exec[0]).code == 200);
  CHECK(url_decode(*exec[1].get("Result")) == "200 result=1 (Local/s@async-test-000000f0;2)\n");
  CHECK(reply_of(exec[1]).result == "1");
  CHECK(url_decode(*exec[4].get("Result")) == "200 result=0 endpos=44160\n");
  CHECK(url_decode(*exec[5].get("Result")) == "510 Invalid or unknown command\n");
  CHECK(reply_of(exec[5]).code == 510);
  auto usage = reply_of(exec[6]);
  CHECK(usage.code == 520);
  CHECK(usage.usage.starts_with("Send the given file, allowing playback to be interrupted"));
  CHECK(usage.usage.ends_with("<value>FAILED</value>"));

  const auto& end = named(all, "AGIExecEnd");
  CHECK(end.get("ResultCode") == "200");
  CHECK(named(all, "UserEvent").get("UserEvent") == "AsyncDone");
  CHECK(all.back().name() == "Error");
  CHECK(all.back().get("Message") == "Channel Local/nonexistent;2 does not exist.");
}

TEST_CASE("transcript ami-session: every action sent - byte for byte", "[proto][ami][transcript][action]") {
  const auto steps = load_steps("ami-session.json");
  std::map<std::string, std::string> sent;
  for (const auto& s : steps) sent[s.step] = s.sent;

  auto check = [&](const std::string& step, const action& a, std::string_view id) {
    INFO("step " << step);
    std::string out;
    REQUIRE(encode(a, id, out));
    CHECK(out == sent.at(step));
  };
  check("login-wrong-secret", {"Login", {{"Username", "admin"}, {"Secret", "wrong"}}}, "bad-1");
  check("challenge", {"Challenge", {{"AuthType", "MD5"}}}, "ch-1");
  check("login-md5",
        {"Login", {{"AuthType", "MD5"}, {"Username", "admin"}, {"Key", "1a3656eacb441b548699f543f29da41a"}}},
        "login-1");
  check("ping", {"Ping"}, "ping-1");
  check("command-core-show-version", {"Command", {{"Command", "core show version"}}}, "cmd-1");
  check("command-invalid", {"Command", {{"Command", "core show nosuchthing"}}}, "cmd-2");
  check("setvar-global", {"Setvar", {{"Variable", "GLOBALX"}, {"Value", "a b"}}}, "sv-1");
  check("getvar-global", {"Getvar", {{"Variable", "GLOBALX"}}}, "gv-1");
  check("getvar-unset", {"Getvar", {{"Variable", "NOPE_XYZ"}}}, "gv-2");
  check("dbput", {"DBPut", {{"Family", "fam"}, {"Key", "k"}, {"Val", "v 1"}}}, "dbp-1");
  check("dbget", {"DBGet", {{"Family", "fam"}, {"Key", "k"}}}, "dbg-1");
  check("dbget-missing", {"DBGet", {{"Family", "fam"}, {"Key", "missing"}}}, "dbg-2");
  check("unknown-action", {"NoSuchAction"}, "x-1");
  action originate{"Originate", {{"Channel", "Local/s@idle"}, {"Application", "Wait"}, {"Data", "5"}}};
  originate.add("Async", "true").add("CallerID", "\"Dialer\" <5550100>").add("Variable", "A=1");
  check("originate-async-and-events", originate, "orig-1");
  check("coreshowchannels-eventlist", {"CoreShowChannels"}, "csc-1");
  check("status-eventlist", {"Status"}, "st-1");
  check("originate-async-failure",
        {"Originate",
         {{"Channel", "Local/nonexistent@idle"}, {"Application", "Wait"}, {"Data", "1"}, {"Async", "true"}}},
        "orig-2");
  check("listcommands", {"ListCommands"}, "lc-1");
  check("corestatus", {"CoreStatus"}, "cs-1");
  check("hangup-missing-channel", {"Hangup", {{"Channel", "Local/nonexistent-0000;1"}}}, "h-1");
  check("logoff", {"Logoff"}, "lo-1");
  check("login-plain-events-off", {"Login", {{"Username", "admin"}, {"Secret", "wordpass"}, {"Events", "off"}}},
        "pl-1");
  check("events-mask", {"Events", {{"EventMask", "call"}}}, "ev-1");
}

TEST_CASE("transcript asyncagi-session: every action sent reads back and encodes to the same bytes",
          "[proto][ami][transcript][action]") {
  // What the client sent, read with the parser (as a simulated server would),
  // then encoded again from its name and headers.
  for (const auto& s : load_steps("asyncagi-session.json")) {
    if (s.sent.empty()) continue;
    INFO(s.sent);
    message_parser p({}, first::message);
    auto r = p.parse(s.sent);
    REQUIRE(r);
    REQUIRE(r->has_value());
    const message& m = (*r)->msg;
    CHECK((*r)->consumed == s.sent.size());
    CHECK(m.kind() == message_kind::action);
    action a{std::string{m.name()}};
    for (const auto& h : m.headers().subspan(1))
      if (!iequals(h.key, "ActionID")) a.add(h.key, h.value);
    std::string out;
    REQUIRE(encode(a, m.action_id(), out));
    CHECK(out == s.sent);
  }
}
