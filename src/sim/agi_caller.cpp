#include <costrix/sim/agi_caller.hpp>

#include <costrix/io/deadline.hpp>
#include <costrix/proto/agi/command_line.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace costrix::sim {
namespace asio = boost::asio;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

// Asterisk's command names, longest first where one is a prefix of another.
constexpr std::array<std::string_view, 46> command_names{
    "ANSWER", "ASYNCAGI BREAK", "CHANNEL STATUS", "CONTROL STREAM FILE", "DATABASE DEL", "DATABASE DELTREE",
    "DATABASE GET", "DATABASE PUT", "EXEC", "GET DATA", "GET FULL VARIABLE", "GET OPTION", "GET VARIABLE",
    "GOSUB", "HANGUP", "NOOP", "RECEIVE CHAR", "RECEIVE TEXT", "RECORD FILE", "SAY ALPHA", "SAY DATE",
    "SAY DATETIME", "SAY DIGITS", "SAY NUMBER", "SAY PHONETIC", "SAY TIME", "SEND IMAGE", "SEND TEXT",
    "SET AUTOHANGUP", "SET CALLERID", "SET CONTEXT", "SET EXTENSION", "SET MUSIC", "SET PRIORITY",
    "SET VARIABLE", "SPEECH ACTIVATE GRAMMAR", "SPEECH CREATE", "SPEECH DEACTIVATE GRAMMAR", "SPEECH DESTROY",
    "SPEECH LOAD GRAMMAR", "SPEECH RECOGNIZE", "SPEECH SET", "SPEECH UNLOAD GRAMMAR", "STREAM FILE",
    "TDD MODE", "VERBOSE"};
constexpr std::string_view wait_for_digit_name = "WAIT FOR DIGIT";

// Commands res_agi.c allows once the channel has hung up; others get 511.
bool allowed_dead(std::string_view name) {
  for (std::string_view n : {"ASYNCAGI BREAK", "CHANNEL STATUS", "DATABASE DEL", "DATABASE DELTREE", "DATABASE GET",
                             "DATABASE PUT", "EXEC", "GET FULL VARIABLE", "GET VARIABLE", "HANGUP", "NOOP",
                             "SET VARIABLE", "VERBOSE", "GOSUB"})
    if (n == name) return true;
  return false;
}

// How many words the command name takes, if `args` starts with one.
std::optional<std::string_view> match(const std::vector<std::string>& args, std::size_t& words) {
  std::optional<std::string_view> best;
  auto try_name = [&](std::string_view name) {
    std::size_t n = 0, pos = 0;
    while (pos <= name.size()) {
      auto space = name.find(' ', pos);
      auto word = name.substr(pos, space == std::string_view::npos ? std::string_view::npos : space - pos);
      if (n >= args.size() || !iequals(args[n], word)) return;
      ++n;
      if (space == std::string_view::npos) break;
      pos = space + 1;
    }
    if (!best || n > words) {
      best = name;
      words = n;
    }
  };
  for (auto name : command_names) try_name(name);
  try_name(wait_for_digit_name);
  return best;
}

bool is_number(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string usage(std::string_view name) {
  return fmt::format(
      "520-Invalid command syntax.  Proper usage follows:\nUsage: {} (see the Asterisk AGI documentation)\n"
      "520 End of proper usage.\n",
      name);
}

std::string ok(std::int64_t result) { return fmt::format("200 result={}\n", result); }

constexpr std::array<std::string_view, 8> record_formats{"wav", "gsm", "ulaw", "alaw", "sln", "g722", "wav49", "g729"};
constexpr std::array<std::string_view, 10> known_apps{"Wait",     "Set",  "Playback", "NoOp",    "Verbose",
                                                       "Background", "Dial", "Read",  "Hangup", "MixMonitor"};

}  // namespace

namespace {
const command_rule no_rule{};
}

agi_channel::agi_channel(agi_call call) : call_(std::move(call)), last_rule_(&no_rule) {}

std::string agi_channel::environment() const {
  std::string env = fmt::format(
      "agi_network: yes\nagi_network_script: {}\nagi_request: agi://{}/{}\nagi_channel: {}\nagi_language: en\n"
      "agi_type: PJSIP\nagi_uniqueid: {}\nagi_version: 22.10.1\nagi_callerid: {}\nagi_calleridname: {}\n"
      "agi_callingpres: 0\nagi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\nagi_dnid: unknown\n"
      "agi_rdnis: unknown\nagi_context: {}\nagi_extension: {}\nagi_priority: 1\nagi_enhanced: 0.0\n"
      "agi_accountcode: \nagi_threadid: 139897211934400\n",
      call_.script, call_.host, call_.script, call_.channel, call_.uniqueid, call_.callerid, call_.calleridname,
      call_.context, call_.extension);
  for (std::size_t i = 0; i < call_.args.size(); ++i) env += fmt::format("agi_arg_{}: {}\n", i + 1, call_.args[i]);
  env += '\n';
  return env;
}

std::optional<char> agi_channel::take_key(std::string_view escape) {
  if (call_.dtmf.empty() || escape.find(call_.dtmf.front()) == std::string_view::npos) return std::nullopt;
  char key = call_.dtmf.front();
  call_.dtmf.erase(0, 1);
  return key;
}

std::string agi_channel::variable(std::string_view name) const {
  if (name == "CALLERID(num)") return call_.callerid;
  if (name == "CALLERID(name)") return call_.calleridname;
  if (name == "CHANNEL") return call_.channel;
  if (name == "UNIQUEID") return call_.uniqueid;
  if (name == "CONTEXT") return call_.context;
  if (name == "EXTEN") return call_.extension;
  auto it = call_.variables.find(name);
  return it == call_.variables.end() ? std::string{} : it->second;
}

std::string agi_channel::reply(std::string_view line) {
  auto args = proto::agi::split_command_line(line);
  std::size_t words = 0;
  auto name = match(args, words);
  last_ = "unknown";
  last_rule_ = &no_rule;
  if (!name) return "510 Invalid or unknown command\n";
  last_ = *name;
  auto rule = call_.rules.find(*name);
  if (rule == call_.rules.end()) rule = call_.rules.find("*");
  if (rule != call_.rules.end()) last_rule_ = &rule->second;
  args.erase(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(words));

  std::string prefix;
  if (hung_up_ && !hangup_announced_) {
    prefix = "HANGUP\n";
    hangup_announced_ = true;
  }
  std::size_t index = commands_++;
  if (hung_up_ && !allowed_dead(*name))
    return prefix + "511 Command Not Permitted on a dead channel or intercepted channel\n";
  if (last_rule_->reply) return prefix + *last_rule_->reply + "\n";

  if ((call_.hangup_during && *call_.hangup_during == index) || last_rule_->hangup) {
    hung_up_ = true;
    // The command in progress ends as Asterisk ends it when the caller goes.
    if (*name == "STREAM FILE" || *name == "CONTROL STREAM FILE" || *name == "GET OPTION")
      return prefix + fmt::format("200 result=-1 endpos={}\n", call_.file_samples / 4);
    if (*name == "RECORD FILE") return prefix + "200 result=-1 (hangup) endpos=0\n";
    if (*name == "HANGUP") return prefix + ok(1);
    return prefix + ok(-1);
  }
  return prefix + respond(*name, args);
}

std::string agi_channel::respond(std::string_view name, const std::vector<std::string>& a) {
  auto arg = [&](std::size_t i) -> std::string_view { return i < a.size() ? std::string_view{a[i]} : ""; };
  auto need = [&](std::size_t n) { return a.size() >= n; };
  auto played = [&](std::string_view file, std::string_view escape) {
    if (file.starts_with("no-such")) return std::string{"200 result=-1 endpos=0\n"};
    if (auto key = take_key(escape))
      return fmt::format("200 result={} endpos={}\n", static_cast<int>(*key), call_.file_samples / 2);
    return fmt::format("200 result=0 endpos={}\n", call_.file_samples);
  };
  auto said = [&](std::string_view escape) {
    auto key = take_key(escape);
    return ok(key ? static_cast<int>(*key) : 0);
  };

  if (name == "ANSWER") {
    answered_ = true;
    return ok(0);
  }
  if (name == "ASYNCAGI BREAK" || name == "NOOP") return ok(0);
  if (name == "CHANNEL STATUS") {
    if (need(1) && a[0] != call_.channel) return ok(-1);
    return ok(answered_ ? 6 : 4);
  }
  if (name == "STREAM FILE" || name == "GET OPTION") return need(2) ? played(a[0], a[1]) : usage(name);
  if (name == "CONTROL STREAM FILE") {
    if (!need(2)) return usage(name);
    if (a[0].starts_with("no-such")) return "200 result=-1 endpos=0\n";
    if (auto key = take_key(a[1])) return fmt::format("200 result={} endpos=-1\n", static_cast<int>(*key));
    return "200 result=0 endpos=-1\n";
  }
  if (name == "DATABASE PUT") {
    if (!need(3)) return usage(name);
    database_[a[0] + "/" + a[1]] = a[2];
    return ok(1);
  }
  if (name == "DATABASE GET") {
    if (!need(2)) return usage(name);
    auto it = database_.find(a[0] + "/" + a[1]);
    return it == database_.end() ? ok(0) : fmt::format("200 result=1 ({})\n", it->second);
  }
  if (name == "DATABASE DEL") {
    if (!need(2)) return usage(name);
    database_.erase(a[0] + "/" + a[1]);
    return ok(1);
  }
  if (name == "DATABASE DELTREE") {
    if (!need(1)) return usage(name);
    std::string prefix = a[0] + "/" + (need(2) ? a[1] : "");
    std::size_t erased = std::erase_if(database_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
    return ok(erased > 0 ? 0 : 1);  // Asterisk 22 answers 0 when it deleted entries
  }
  if (name == "EXEC") {
    if (!need(1)) return usage(name);
    if (std::find(known_apps.begin(), known_apps.end(), a[0]) == known_apps.end()) return ok(-2);
    if (a[0] == "Set") {
      std::string_view assignment = arg(1);
      if (auto eq = assignment.find('='); eq != std::string_view::npos)
        call_.variables[std::string(assignment.substr(0, eq))] = std::string(assignment.substr(eq + 1));
    }
    return ok(0);
  }
  if (name == "GET DATA") {
    if (!need(1)) return usage(name);
    std::size_t max = need(3) && is_number(a[2]) ? std::stoul(a[2]) : 1024;
    std::string got;
    while (got.size() < max && !call_.dtmf.empty() && call_.dtmf.front() != '#') {
      got += call_.dtmf.front();
      call_.dtmf.erase(0, 1);
    }
    bool terminated = !call_.dtmf.empty() && call_.dtmf.front() == '#';
    if (terminated) call_.dtmf.erase(0, 1);
    if (got.size() == max || terminated) return fmt::format("200 result={}\n", got);
    return fmt::format("200 result={} (timeout)\n", got);
  }
  if (name == "GET VARIABLE") {
    if (!need(1)) return usage(name);
    std::string v = variable(a[0]);
    bool known = !v.empty() || call_.variables.count(a[0]) > 0;
    return known ? fmt::format("200 result=1 ({})\n", v) : ok(0);
  }
  if (name == "GET FULL VARIABLE") {
    if (!need(1)) return usage(name);
    std::string out;
    std::string_view expr = a[0];
    for (std::size_t i = 0; i < expr.size();) {
      if (expr.substr(i, 2) == "${") {
        auto end = expr.find('}', i);
        if (end == std::string_view::npos) break;
        out += variable(expr.substr(i + 2, end - i - 2));
        i = end + 1;
      } else {
        out += expr[i++];
      }
    }
    return fmt::format("200 result=1 ({})\n", out);
  }
  if (name == "GOSUB") return need(3) ? "100 result=0 Trying...\n200 result=0 Gosub complete\n" : usage(name);
  if (name == "HANGUP") {
    if (need(1) && a[0] != call_.channel) return ok(-1);
    hung_up_ = true;
    return ok(1);
  }
  if (name == "RECEIVE CHAR") return need(1) ? "200 result=-1 (hangup)\n" : usage(name);
  if (name == "RECEIVE TEXT") return need(1) ? ok(-1) : usage(name);
  if (name == "RECORD FILE") {
    if (!need(4)) return usage(name);
    if (std::find(record_formats.begin(), record_formats.end(), a[1]) == record_formats.end())
      return "200 result=-1 (writefile)\n";
    if (auto key = take_key(a[2]))
      return fmt::format("200 result={} (dtmf) endpos={}\n", static_cast<int>(*key), call_.file_samples / 2);
    return "200 result=0 (timeout) endpos=0\n";
  }
  if (name == "SAY NUMBER" || name == "SAY DIGITS") {
    if (!need(2) || !is_number(a[0])) return usage(name);
    return said(a[1]);
  }
  if (name == "SAY ALPHA" || name == "SAY PHONETIC") return need(2) ? said(a[1]) : usage(name);
  if (name == "SAY DATE" || name == "SAY TIME" || name == "SAY DATETIME") {
    if (!need(2) || !is_number(a[0])) return usage(name);
    return said(a[1]);
  }
  if (name == "SEND IMAGE" || name == "SEND TEXT") return need(1) ? ok(0) : usage(name);
  if (name == "SET CALLERID") return need(1) ? ok(1) : usage(name);
  if (name == "SET AUTOHANGUP" || name == "SET CONTEXT" || name == "SET EXTENSION" || name == "SET PRIORITY")
    return need(1) ? ok(0) : usage(name);
  if (name == "SET MUSIC") return need(1) ? ok(0) : usage(name);
  if (name == "SET VARIABLE") {
    if (!need(2)) return usage(name);
    call_.variables[a[0]] = a[1];
    return ok(1);
  }
  if (name == "TDD MODE") return need(1) ? ok(0) : usage(name);
  if (name == "VERBOSE") return need(1) ? ok(1) : usage(name);
  if (name == "WAIT FOR DIGIT") {
    if (!need(1)) return usage(name);
    auto key = take_key("0123456789*#ABCD");
    return ok(key ? static_cast<int>(*key) : 0);
  }
  // The simulator's speech engine is called "sim"; it recognises "yes".
  if (name == "SPEECH CREATE") {
    speech_ = need(1) && a[0] == "sim";
    return ok(speech_ ? 1 : 0);
  }
  if (name == "SPEECH DESTROY") {
    bool had = speech_;
    speech_ = false;
    return ok(had ? 1 : 0);
  }
  if (name == "SPEECH SET" || name == "SPEECH LOAD GRAMMAR" || name == "SPEECH UNLOAD GRAMMAR" ||
      name == "SPEECH ACTIVATE GRAMMAR" || name == "SPEECH DEACTIVATE GRAMMAR")
    return ok(speech_ ? 1 : 0);
  if (name == "SPEECH RECOGNIZE") {
    if (!need(2)) return usage(name);
    if (!speech_) return ok(0);
    if (auto key = take_key("0123456789*#"))
      return fmt::format("200 result=1 (digit) endpos=0 digit={}\n", *key);
    return "200 result=1 (speech) endpos=0 results=1 score0=1000 text0=\"yes\" grammar0=yesno\n";
  }
  return "510 Invalid or unknown command\n";
}

awaitable<result<call_report>> play(io::stream& s, agi_call call, play_options options) {
  using clock = std::chrono::steady_clock;
  agi_channel channel{std::move(call)};
  call_report report;
  io::deadline stall{s};
  asio::steady_timer pause{s.get_executor()};
  std::string out = channel.environment();
  auto sent = co_await s.write_all(out);
  if (!sent) co_return fail(std::move(sent).error());
  auto written = clock::now();
  io::line_reader reader{s, 64 * 1024};
  for (;;) {
    stall.arm(options.stall_timeout);
    auto line = co_await reader.read_line();
    stall.disarm();
    if (!line) {
      if (reader.at_eof()) break;  // the script ended the call
      if (line.error() == errc::cancelled && stall.expired())
        co_return fail(errc::timeout, "the server sent nothing for " + std::to_string(options.stall_timeout.count()) + " ms");
      co_return fail(std::move(line).error());
    }
    auto arrived = clock::now();
    if (options.commands_read) ++*options.commands_read;
    std::string reply = channel.reply(*line);
    report.timings.push_back({channel.last_command(), arrived - written});
    if (reply.starts_with("510") || reply.starts_with("520")) ++report.rejected;
    if (options.keep_exchanges) report.exchanges.push_back({std::string(*line), reply});
    const command_rule& rule = channel.last_rule();
    if (rule.hold) {
      if (options.on_hold) options.on_hold();
      auto end = co_await reader.read_line();  // parked until the server closes
      (void)end;
      break;
    }
    if (auto wait = rule.delay + channel.think_time(); wait.count() > 0) {
      pause.expires_after(wait);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto answered = co_await s.write_all(reply);
    if (!answered) break;  // the script closed while we answered
    written = clock::now();
  }
  report.hung_up = channel.hung_up();
  report.variables = channel.variables();
  co_return report;
}

awaitable<result<call_report>> call_fastagi(asio::ip::tcp::endpoint server, agi_call call, play_options options) {
  std::vector<asio::ip::tcp::endpoint> servers{server};
  co_return co_await call_fastagi(std::move(servers), std::move(call), std::move(options));
}

awaitable<result<call_report>> call_fastagi(std::vector<asio::ip::tcp::endpoint> servers, agi_call call,
                                            play_options options, std::size_t* taken_by) {
  auto ex = co_await asio::this_coro::executor;
  result<call_report> outcome = fail(errc::invalid_argument, "no FastAGI server to call");
  std::size_t own_counter = 0;
  std::size_t* counter = options.commands_read ? options.commands_read : &own_counter;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    asio::ip::tcp::socket socket{ex};
    auto [ec] = co_await socket.async_connect(servers[i], asio::as_tuple(asio::use_awaitable));
    if (ec) {
      outcome = fail(errc::disconnected, "connect: " + ec.message());
      continue;
    }
    auto* ctx_ex = socket.get_executor().target<io::stream::executor_type>();
    if (ctx_ex == nullptr) co_return fail(errc::invalid_argument, "call_fastagi runs on an io_context's executor");
    io::stream stream = io::stream::adopt(*ctx_ex, socket.release());
    std::size_t before = *counter;
    play_options attempt_options = options;
    attempt_options.commands_read = counter;
    agi_call attempt = call;
    outcome = co_await play(stream, std::move(attempt), std::move(attempt_options));
    bool not_taken = *counter == before && (outcome || outcome.error() == errc::disconnected);
    if (!not_taken || i + 1 == servers.size()) {
      if (taken_by) *taken_by = i;
      break;
    }
  }
  co_return outcome;
}

}  // namespace costrix::sim
