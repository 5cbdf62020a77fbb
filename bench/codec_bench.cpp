// Micro-benchmarks of the sans-I/O codecs: AGI environment parse, reply parse +
// decode, command encoding and line splitting; AMI message framing (an event
// stream from the AMI transcript) and action encoding; ESL framing, event
// decoding and command encoding (the outbound ESL transcript).
//
// Every benchmark reports bytes/s, items/s and `allocs_per_item`: heap
// allocations made during the timed loop (global operator new is replaced below
// with a plain counter; the benchmarks are single-threaded) divided by the
// items processed. Each benchmark runs one untimed warm-up round first, so
// buffers that keep their capacity (reply usage, encode target, line buffer)
// are warm, as they are on a live connection.
//
// The sample bytes are from tests/data/transcripts/fastagi-basic.json (Asterisk
// 22.10.1), hard-coded here; the SPEECH RECOGNIZE reply is in the form the
// Asterisk simulator and tests use (the transcript has no speech engine).
// The AMI and ESL event streams are read at start-up from
// tests/data/transcripts/ami-session.json and esl-outbound-async.json
// (COSTRIX_TRANSCRIPTS_DIR).

#include <costrix/metrics.hpp>
#include <costrix/io/line_buffer.hpp>
#include <costrix/proto/agi/commands.hpp>
#include <costrix/proto/agi/environment.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/proto/ami/action.hpp>
#include <costrix/proto/ami/message_parser.hpp>
#include <costrix/proto/esl/command.hpp>
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>

#include <benchmark/benchmark.h>
// Boost.JSON (Boost::json) reads the AMI and ESL transcripts.
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// ---------------------------------------------------------------------------
// Allocation counter: every global operator new form counts one allocation.

namespace {
std::size_t g_allocs = 0;  // plain counter: single-threaded benchmarks

void* counted_alloc(std::size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc{};
}
void* counted_alloc(std::size_t n, std::align_val_t al) {
  ++g_allocs;
  auto a = static_cast<std::size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  std::size_t size = (n + a - 1) / a * a;  // aligned_alloc wants a multiple of the alignment
  if (void* p = std::aligned_alloc(a, size ? size : a)) return p;
  throw std::bad_alloc{};
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n); } catch (...) { return nullptr; }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n, a); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n, a); } catch (...) { return nullptr; }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

namespace agi = costrix::proto::agi;
using namespace std::chrono_literals;

/// Sets bytes/s, items/s and allocs_per_item once the timed loop is over.
/// `allocs` is the number of allocations made inside the loop.
void report(benchmark::State& state, std::size_t allocs, std::int64_t items_per_iter, std::int64_t bytes_per_iter) {
  const std::int64_t items = state.iterations() * items_per_iter;
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(state.iterations() * bytes_per_iter);
  state.counters["allocs_per_item"] = items ? static_cast<double>(allocs) / static_cast<double>(items) : 0.0;
}

/// Splits "a\nb\n" into {"a", "b"} (views into `bytes`).
std::vector<std::string_view> split_lines(std::string_view bytes) {
  std::vector<std::string_view> lines;
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) nl = bytes.size();
    lines.push_back(bytes.substr(0, nl));
    bytes.remove_prefix(nl == bytes.size() ? nl : nl + 1);
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Sample bytes (fastagi-basic.json).

constexpr std::string_view env_block =
    "agi_network: yes\n"
    "agi_network_script: basic?x=1&y=two%20words&y=3\n"
    "agi_request: agi://127.0.0.1:4573/basic?x=1&y=two%20words&y=3\n"
    "agi_channel: Local/s@agi-test-00000002;2\n"
    "agi_language: en\n"
    "agi_type: Local\n"
    "agi_uniqueid: 1795416141.5\n"
    "agi_version: 22.10.1\n"
    "agi_callerid: 5551234\n"
    "agi_calleridname: Cap Ture\n"
    "agi_callingpres: 0\n"
    "agi_callingani2: 0\n"
    "agi_callington: 0\n"
    "agi_callingtns: 0\n"
    "agi_dnid: unknown\n"
    "agi_rdnis: unknown\n"
    "agi_context: agi-test\n"
    "agi_extension: s\n"
    "agi_priority: 2\n"
    "agi_enhanced: 0.0\n"
    "agi_accountcode: \n"
    "agi_threadid: 139897211934400\n"
    "agi_arg_1: arg1\n"
    "agi_arg_2: arg 2\n"
    "\n";

constexpr std::string_view usage_520 =
    "520-Invalid command syntax.  Proper usage follows:\n"
    "Send the given file, allowing playback to be interrupted by the given digits, if any. Returns "
    "<literal>0</literal> if playback completes without a digit being pressed, or the ASCII numerical value "
    "of the digit if one was pressed, or <literal>-1</literal> on error or if the channel was disconnected. If "
    "musiconhold is playing before calling stream file it will be automatically stopped and will not be "
    "restarted after completion.\n"
    "It sets the following channel variables upon completion:\n"
    "<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text string.\n"
    "    <value>SUCCESS</value>\n"
    "    <value>FAILED</value>\n"
    "520 End of proper usage.\n";

// ---------------------------------------------------------------------------
// Environment.

void BM_env_parse_block(benchmark::State& state) {
  benchmark::DoNotOptimize(agi::parse_environment(env_block));  // warm-up
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    auto env = agi::parse_environment(env_block);
    if (!env) state.SkipWithError("parse_environment failed");
    benchmark::DoNotOptimize(env);
  }
  report(state, g_allocs - before, 1, env_block.size());
}
BENCHMARK(BM_env_parse_block);

void BM_env_parse_lines(benchmark::State& state) {
  const auto lines = split_lines(env_block);  // as the reader hands them out: no '\n'
  auto run = [&] {
    agi::environment_parser p;
    bool done = false;
    for (auto line : lines) {
      auto r = p.feed(line);
      if (!r) return false;
      done = *r;
    }
    benchmark::DoNotOptimize(p.get());
    return done;
  };
  run();
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    if (!run()) state.SkipWithError("environment_parser did not complete");
  }
  report(state, g_allocs - before, 1, env_block.size());
}
BENCHMARK(BM_env_parse_lines);

// ---------------------------------------------------------------------------
// Replies: feed the lines of one reply to a reply_parser (reused, as on a
// connection), then decode<Cmd>. One item = one reply. `expect_ok` says
// whether decode should succeed (510/520/HANGUP/writefile are errors by design).

template <class Cmd>
void BM_reply(benchmark::State& state, Cmd, std::string_view bytes, bool expect_ok) {
  const auto lines = split_lines(bytes);
  agi::reply_parser p;
  auto run = [&] {
    for (auto line : lines) {
      auto r = p.feed(line);
      if (!r) return false;
      if (*r) {
        auto v = agi::decode<Cmd>(p.get());
        benchmark::DoNotOptimize(v);
        return static_cast<bool>(v) == expect_ok;
      }
    }
    return false;  // reply not complete
  };
  if (!run()) {
    state.SkipWithError("unexpected parse/decode outcome");
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(run());
  }
  report(state, g_allocs - before, 1, bytes.size());
}

BENCHMARK_CAPTURE(BM_reply, answer_ok, agi::answer{}, "200 result=0\n", true);
BENCHMARK_CAPTURE(BM_reply, get_variable_value, agi::get_variable{},
                  "200 result=1 (value with spaces and \"quotes\")\n", true);
BENCHMARK_CAPTURE(BM_reply, stream_file_endpos, agi::stream_file{}, "200 result=0 endpos=44160\n", true);
BENCHMARK_CAPTURE(BM_reply, get_data_timeout, agi::get_data{}, "200 result= (timeout)\n", true);
BENCHMARK_CAPTURE(BM_reply, record_file_timeout, agi::record_file{}, "200 result=0 (timeout) endpos=0\n", true);
BENCHMARK_CAPTURE(BM_reply, record_file_writefile, agi::record_file{}, "200 result=-1 (writefile)\n", false);
BENCHMARK_CAPTURE(BM_reply, gosub_trying, agi::gosub{}, "100 result=0 Trying...\n200 result=0 Gosub complete\n",
                  true);
BENCHMARK_CAPTURE(BM_reply, raw_510, agi::raw{}, "510 Invalid or unknown command\n", false);
BENCHMARK_CAPTURE(BM_reply, stream_file_520_usage, agi::stream_file{}, usage_520, false);
BENCHMARK_CAPTURE(BM_reply, noop_hangup, agi::noop{}, "HANGUP\n200 result=0\n", false);
BENCHMARK_CAPTURE(BM_reply, speech_recognize, agi::speech_recognize{},
                  "200 result=1 (speech) endpos=1200 results=1 score0=900 text0=\"yes\" grammar0=yesno\n", true);

// ---------------------------------------------------------------------------
// Encoding into a reused std::string (cleared each iteration, capacity kept).
// One item = one command line.

template <class Cmd>
void BM_encode(benchmark::State& state, Cmd cmd) {
  std::string out;
  if (!agi::encode(cmd, out)) {  // warm-up: gives `out` its capacity
    state.SkipWithError("encode failed");
    for (auto _ : state) {}
    return;
  }
  const std::int64_t bytes = static_cast<std::int64_t>(out.size());
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    out.clear();
    auto r = agi::encode(cmd, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state, g_allocs - before, 1, bytes);
}

BENCHMARK_CAPTURE(BM_encode, answer, agi::answer{});
BENCHMARK_CAPTURE(BM_encode, stream_file, agi::stream_file{"demo-thanks", "12"});
BENCHMARK_CAPTURE(BM_encode, set_variable_quoted, agi::set_variable{"FOO", "value with spaces and \"quotes\""});
BENCHMARK_CAPTURE(BM_encode, get_data, agi::get_data{"beep", 100ms, 2});
BENCHMARK_CAPTURE(BM_encode, record_file,
                  agi::record_file{"/tmp/capture/rec2", "wav", "#", 500ms, std::nullopt, true, 1s});
BENCHMARK_CAPTURE(BM_encode, exec_set, agi::exec{"Set", "X=1,2"});

// ---------------------------------------------------------------------------
// Line splitting: a chunk of every reply in the transcript, read into a
// line_buffer through prepare()/commit() (memcpy standing in for recv) and
// taken out with next_line(). One item = one line.

std::string reply_chunk() {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    s += "200 result=0\n200 result=6\n200 result=-1\n200 result=1\n";
    s += "200 result=1 (value with spaces and \"quotes\")\n200 result=1 (Local/s@agi-test-00000002;2)\n";
    s += "200 result=1 ()\n200 result=1 (v 1)\n200 result=-2\n";
    s += "200 result=0 endpos=44160\n200 result=-1 endpos=0\n200 result=0 endpos=-1\n";
    s += "200 result= (timeout)\n200 result=0 (timeout) endpos=0\n200 result=-1 (writefile)\n";
    s += "200 result=-1 (hangup)\n100 result=0 Trying...\n200 result=0 Gosub complete\n";
    s += "510 Invalid or unknown command\nHANGUP\n200 result=0\n";
  }
  s += usage_520;
  return s;
}

void BM_line_buffer_split(benchmark::State& state) {
  const std::string chunk = reply_chunk();
  std::int64_t lines_per_chunk = 0;
  for (char c : chunk) lines_per_chunk += c == '\n';

  costrix::io::line_buffer buf;
  auto run = [&] {
    std::int64_t n = 0;
    std::string_view rest = chunk;
    while (!rest.empty()) {
      auto space = buf.prepare();
      const std::size_t k = std::min(space.size(), rest.size());
      std::memcpy(space.data(), rest.data(), k);
      buf.commit(k);
      rest.remove_prefix(k);
      for (;;) {
        auto line = buf.next_line();
        if (!line || !*line) break;
        benchmark::DoNotOptimize(**line);
        ++n;
      }
    }
    return n;
  };
  if (run() != lines_per_chunk) {
    state.SkipWithError("line count mismatch");
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(run());
  }
  report(state, g_allocs - before, lines_per_chunk, static_cast<std::int64_t>(chunk.size()));
}
BENCHMARK(BM_line_buffer_split);

// ---------------------------------------------------------------------------
// AMI: framing the event stream an async Originate, CoreShowChannels, Status
// and a failed Originate produced (ami-session.json: 37 messages, ~12.7 KB:
// Newchannel, Newexten, VarSet, DialBegin/End, OriginateResponse, Hangup, event
// lists ...). One item = one message; each message's name and ActionID are
// read, as a dispatcher does.

namespace ami = costrix::proto::ami;

std::string ami_event_stream() {
  std::ifstream in(std::string{COSTRIX_TRANSCRIPTS_DIR} + "/ami-session.json", std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  const boost::json::value doc = boost::json::parse(text.str());
  std::string stream;
  for (const auto& v : doc.as_array()) {
    const auto& step = v.as_object();
    const auto name = step.at("step").as_string();
    if (name == "originate-async-and-events" || name == "coreshowchannels-eventlist" ||
        name == "status-eventlist" || name == "originate-async-failure")
      stream += std::string_view{step.at("received").as_string()};
  }
  return stream;
}

const std::string& event_stream() {
  static const std::string s = ami_event_stream();
  return s;
}

/// Frames every message of `bytes` with `p`; the number of messages, or -1 on an error.
std::int64_t frame_all(ami::message_parser& p, std::string_view bytes) {
  std::int64_t n = 0;
  for (;;) {
    auto r = p.parse(bytes);
    if (!r) return -1;
    if (!*r) return n;
    const ami::message& m = (*r)->msg;
    benchmark::DoNotOptimize(m.name());
    benchmark::DoNotOptimize(m.action_id());
    bytes.remove_prefix((*r)->consumed);
    ++n;
  }
}

// The whole stream in one buffer.
void BM_ami_parse_events(benchmark::State& state) {
  const std::string& stream = event_stream();
  ami::message_parser p({}, ami::message_parser::first::message);
  const std::int64_t messages = frame_all(p, stream);  // warm-up: header storage grows once
  if (stream.empty() || messages <= 0) {
    state.SkipWithError("cannot read ami-session.json");
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame_all(p, stream));
  }
  report(state, g_allocs - before, messages, static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_ami_parse_events);

// The stream as it arrives on a socket: 1448-byte segments appended to a
// receive buffer; complete messages are taken out after each segment and the
// unconsumed tail moves to the front. Messages cut by a segment boundary are
// resumed, not scanned again.
void BM_ami_parse_events_segments(benchmark::State& state) {
  const std::string& stream = event_stream();
  constexpr std::size_t segment = 1448;
  ami::message_parser p({}, ami::message_parser::first::message);
  std::string buffer;
  buffer.reserve(64 * 1024);
  auto run = [&] {
    std::int64_t n = 0;
    buffer.clear();
    for (std::size_t at = 0; at < stream.size(); at += segment) {
      buffer.append(stream, at, segment);
      std::string_view rest = buffer;
      for (;;) {
        auto r = p.parse(rest);
        if (!r) return std::int64_t{-1};
        if (!*r) break;
        benchmark::DoNotOptimize((*r)->msg.name());
        benchmark::DoNotOptimize((*r)->msg.action_id());
        rest.remove_prefix((*r)->consumed);
        ++n;
      }
      buffer.erase(0, buffer.size() - rest.size());
    }
    return n;
  };
  const std::int64_t messages = run();
  if (stream.empty() || messages != frame_all(p, stream)) {
    state.SkipWithError("segmented framing differs");
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(run());
  }
  report(state, g_allocs - before, messages, static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_ami_parse_events_segments);

// Framing plus an owned copy of every message (what queueing an event for a
// slow consumer costs): one allocation per message by design.
void BM_ami_parse_and_own_events(benchmark::State& state) {
  const std::string& stream = event_stream();
  ami::message_parser p({}, ami::message_parser::first::message);
  auto run = [&] {
    std::int64_t n = 0;
    std::string_view rest = stream;
    for (;;) {
      auto r = p.parse(rest);
      if (!r || !*r) return n;
      ami::owned_message copy((*r)->msg);
      benchmark::DoNotOptimize(copy.name());
      rest.remove_prefix((*r)->consumed);
      ++n;
    }
  };
  const std::int64_t messages = run();
  if (messages <= 0) {
    state.SkipWithError("cannot read ami-session.json");
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(run());
  }
  report(state, g_allocs - before, messages, static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_ami_parse_and_own_events);

// An Originate as a dialer sends it, encoded into a reused buffer. One item = one action.
void BM_ami_encode_originate(benchmark::State& state) {
  ami::action originate{"Originate",
                        {{"Channel", "PJSIP/5550100@trunk"},
                         {"Context", "outbound"},
                         {"Exten", "200"},
                         {"Priority", "1"},
                         {"Timeout", "30000"},
                         {"CallerID", "\"Dialer\" <5550100>"},
                         {"Async", "true"},
                         {"Variable", "CAMPAIGN=spring"},
                         {"Variable", "LEAD_ID=123456"}}};
  std::string out;
  if (!ami::encode(originate, "7f3c-000001", out)) {
    state.SkipWithError("encode failed");
    for (auto _ : state) {}
    return;
  }
  const std::int64_t bytes = static_cast<std::int64_t>(out.size());
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    out.clear();
    auto r = ami::encode(originate, "7f3c-000001", out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state, g_allocs - before, 1, bytes);
}
BENCHMARK(BM_ami_encode_originate);

// ---------------------------------------------------------------------------
// ESL: framing the event stream an outbound `async full` socket received
// (esl-outbound-async.json: the connect reply, command replies, CHANNEL_EXECUTE,
// DTMF, CHANNEL_HANGUP ... ~62 KB in plain form). One item = one message; each
// message's Content-Type is looked at, as a dispatcher does.

namespace esl = costrix::proto::esl;

std::string esl_read_stream() {
  std::ifstream in(std::string{COSTRIX_TRANSCRIPTS_DIR} + "/esl-outbound-async.json", std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  const boost::json::value doc = boost::json::parse(text.str());
  std::string stream;
  for (const auto& v : doc.as_array()) {
    std::string_view received = v.as_object().at("received").as_string();
    if (received.ends_with("<<closed>>")) received.remove_suffix(10);
    stream += received;
  }
  return stream;
}

const std::string& esl_stream() {
  static const std::string s = esl_read_stream();
  return s;
}

/// Frames every message of `bytes` with `p`; the number of messages, or -1 on an error.
std::int64_t esl_frame_all(esl::message_parser& p, std::string_view bytes) {
  std::int64_t n = 0;
  for (;;) {
    auto r = p.parse(bytes);
    if (!r) return -1;
    if (!*r) return n;
    benchmark::DoNotOptimize((*r)->msg.type());
    benchmark::DoNotOptimize((*r)->msg.body());
    bytes.remove_prefix((*r)->consumed);
    ++n;
  }
}

// The stream as it arrives on a socket: 1448-byte segments appended to a
// receive buffer; complete messages are taken out after each segment.
void BM_esl_frame_events(benchmark::State& state) {
  const std::string& stream = esl_stream();
  constexpr std::size_t segment = 1448;
  esl::message_parser p;
  std::string buffer;
  buffer.reserve(64 * 1024);
  auto run = [&] {
    std::int64_t n = 0;
    buffer.clear();
    for (std::size_t at = 0; at < stream.size(); at += segment) {
      buffer.append(stream, at, segment);
      std::string_view rest = buffer;
      for (;;) {
        auto r = p.parse(rest);
        if (!r) return std::int64_t{-1};
        if (!*r) break;
        benchmark::DoNotOptimize((*r)->msg.type());
        rest.remove_prefix((*r)->consumed);
        ++n;
      }
      buffer.erase(0, buffer.size() - rest.size());
    }
    return n;
  };
  const std::int64_t messages = run();
  if (stream.empty() || messages <= 0 || messages != esl_frame_all(p, stream)) {
    state.SkipWithError("cannot frame esl-outbound-async.json");
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(run());
  }
  report(state, g_allocs - before, messages, static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_esl_frame_events);

// The bodies of the stream's text/event-plain events, in order.
std::vector<std::string> esl_plain_bodies() {
  std::vector<std::string> bodies;
  esl::message_parser p;
  std::string_view rest = esl_stream();
  for (;;) {
    auto r = p.parse(rest);
    if (!r || !*r) break;
    if ((*r)->msg.type() == esl::content_type::event_plain) bodies.emplace_back((*r)->msg.body());
    rest.remove_prefix((*r)->consumed);
  }
  return bodies;
}

// The same events as text/event-json bodies, as `event json` sends them: one
// object, a string member per header (values decoded), the body as `_body`.
std::vector<std::string> esl_json_bodies() {
  std::vector<std::string> out;
  esl::event_decoder d;
  for (const auto& b : esl_plain_bodies()) {
    auto e = d.decode_plain(b);
    if (!e) return {};
    boost::json::object o;
    for (const auto& h : e->headers()) o.emplace(h.key, h.value);  // a repeated key keeps its first value
    if (!e->body().empty()) o.emplace("_body", e->body());
    out.push_back(boost::json::serialize(o));
  }
  return out;
}

// Decodes `bodies` with `decode` (decode_plain or decode_json) and reads a few
// headers, as a session does. One item = one event.
template <class Decode>
void esl_decode_bench(benchmark::State& state, const std::vector<std::string>& bodies, Decode decode,
                      const char* what) {
  std::int64_t bytes = 0;
  for (const auto& b : bodies) bytes += static_cast<std::int64_t>(b.size());
  esl::event_decoder d;
  auto run = [&] {
    std::int64_t n = 0;
    for (const auto& b : bodies) {
      auto e = decode(d, b);
      if (!e) return std::int64_t{-1};
      benchmark::DoNotOptimize(e->name());
      benchmark::DoNotOptimize(e->get("Unique-ID"));
      benchmark::DoNotOptimize(e->get("Application-UUID"));
      ++n;
    }
    return n;
  };
  const std::int64_t events = run();  // warm-up: the decoder's storage grows once
  if (bodies.empty() || events != static_cast<std::int64_t>(bodies.size())) {
    state.SkipWithError(what);
    for (auto _ : state) {}
    return;
  }
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(run());
  }
  report(state, g_allocs - before, events, bytes);
}

// Decoding every text/event-plain event of the stream (URL-decoded values into
// the decoder's storage) and reading a few headers, as a session does. One
// item = one event.
void BM_esl_decode_events(benchmark::State& state) {
  static const std::vector<std::string> bodies = esl_plain_bodies();
  esl_decode_bench(state, bodies, [](esl::event_decoder& d, std::string_view b) { return d.decode_plain(b); },
                   "cannot decode the events of esl-outbound-async.json");
}
BENCHMARK(BM_esl_decode_events);

// The same events as text/event-json (client_options::format = json), decoded
// and read the same way: JSON parsing and string unescaping instead of URL decoding.
void BM_esl_decode_events_json(benchmark::State& state) {
  static const std::vector<std::string> bodies = esl_json_bodies();
  esl_decode_bench(state, bodies, [](esl::event_decoder& d, std::string_view b) { return d.decode_json(b); },
                   "cannot decode the events of esl-outbound-async.json as JSON");
}
BENCHMARK(BM_esl_decode_events_json);

// `sendmsg` with `call-command: execute` of playback with an Event-UUID, into
// a warm output buffer.
void BM_esl_encode_execute(benchmark::State& state) {
  const esl::execute cmd{.uuid = "a77236ce-9171-4453-b2ab-b17c86c9c143",
                         .app = "playback",
                         .arg = "ivr/ivr-welcome_to_freeswitch.wav",
                         .event_lock = true,
                         .event_uuid = "pb-0001"};
  std::string out;
  if (!esl::encode(cmd, out)) {
    state.SkipWithError("encode failed");
    for (auto _ : state) {}
    return;
  }
  const std::int64_t bytes = static_cast<std::int64_t>(out.size());
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    out.clear();
    auto r = esl::encode(cmd, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state, g_allocs - before, 1, bytes);
}
BENCHMARK(BM_esl_encode_execute);

// ---- metrics: what one AGI command adds when they are on (a counter, a latency
// observation between two clock reads, the bytes counter), and off (one flag load each).

void BM_metrics_agi_command(benchmark::State& state) {
  costrix::metrics::registry r;
  r.enable(state.range(0) != 0);
  auto commands = r.add_counter("commands_total", "C", {{"command", "STREAM FILE"}});
  auto bytes = r.add_counter("bytes_total", "B");
  auto duration = r.add_histogram("duration_seconds", "D",
                                  {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                   0.5, 1, 2.5, 10},
                                  {{"command", "STREAM FILE"}});
  const std::size_t before = g_allocs;
  for (auto _ : state) {
    std::chrono::steady_clock::time_point sent{};
    if (r.enabled()) {
      sent = std::chrono::steady_clock::now();
      bytes.inc(28);
    }
    if (r.enabled()) {
      commands.inc();
      duration.observe(std::chrono::steady_clock::now() - sent);
    }
    benchmark::ClobberMemory();
  }
  report(state, g_allocs - before, 1, 0);
}
BENCHMARK(BM_metrics_agi_command)->Arg(0)->Arg(1);

void BM_metrics_collect(benchmark::State& state) {
  costrix::metrics::registry r;
  for (int i = 0; i < 49; ++i) {
    costrix::metrics::labels l{{"command", std::to_string(i)}};
    r.add_counter("commands_total", "C", l).inc();
    r.add_histogram("duration_seconds", "D", {0.001, 0.01, 0.1, 1, 10}, l).observe(0.5);
  }
  for (auto _ : state) {
    auto text = costrix::metrics::to_prometheus(r.collect());
    benchmark::DoNotOptimize(text.data());
  }
  report(state, 0, 1, 0);
}
BENCHMARK(BM_metrics_collect);

}  // namespace

BENCHMARK_MAIN();
